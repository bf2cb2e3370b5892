import { z } from 'zod';
import { cdeventSchema, CDEVENTS_SPEC_VERSION, schemaError } from './cdevents-schemas.ts';
import { badRequest, ignored, isObject, rfc3339, str, tagValue, unmappable, verifyBearer, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent } from './events.ts';
import { pickReleaseFacts } from './facts.ts';
import { category, severity, teamAndTier, tierOf, token } from './schema.ts';

export const cdeventsConfig = z.strictObject({
  token,
  /** `subject.content.environment.id`s that are production here. */
  environments: z.array(z.string().min(1)).min(1).default(['production']),
  /** Service (`subject.id`) -> team and tier, for events whose customData names none. */
  services: z.record(z.string().min(1), teamAndTier).default({}),
});
export type CdeventsConfig = z.infer<typeof cdeventsConfig>;

export const verifyCdevents = (delivery: RawDelivery, config: CdeventsConfig) => verifyBearer(delivery, config.token);

const DEBT_LABELS = ['ml-debt', 'tech-debt'];

/** The CDEvent of a body: the `data` of a structured CloudEvent, or the body itself (a plain CDEvent, or a binary-mode CloudEvent's body). */
const cdeventOf = (body: Record<string, unknown>) => (str(body.specversion) && isObject(body.data) ? body.data : body);

/** `customData` as an object: inline, or base64-encoded JSON; {} otherwise. */
function customDataOf(cdevent: Record<string, unknown>): Record<string, unknown> {
  const { customData } = cdevent;
  if (isObject(customData)) return customData;
  if (typeof customData !== 'string') return {};
  try {
    const decoded = JSON.parse(Buffer.from(customData, 'base64').toString('utf8'));
    return isObject(decoded) ? decoded : {};
  } catch {
    return {};
  }
}

/** The version of a package URL (`pkg:oci/ranker@sha256%3Aabc` -> `sha256:abc`), else its `digest` qualifier, else the artifact id itself. */
export function artifactVersion(artifactId: string): string {
  const [path = '', qualifiers = ''] = artifactId.split('#')[0]!.split('?');
  const at = path.lastIndexOf('@');
  const digest = new URLSearchParams(qualifiers).get('digest');
  if (at > 0) return decodeURIComponent(path.slice(at + 1));
  return digest ?? artifactId;
}

/**
 * CDEvents 0.4 (SPEC §8b), validated against the specification's JSON Schema of its type (400
 * naming the first error): `service.deployed` / `service.upgraded` in a production environment are
 * deploys (rollback inference follows), `service.rolledback` a rollback; `incident.detected` /
 * `incident.reported` open an incident, `incident.resolved` resolves it; `ticket.closed` closes a
 * work item. Ids are the CDEvent's `context.id`; time its `context.timestamp`.
 */
export function mapCdevents(body: unknown, config: CdeventsConfig): Mapped {
  if (!isObject(body)) return badRequest('expected a CDEvent (or a structured CloudEvent carrying one) as a JSON object');
  const cdevent = cdeventOf(body);
  const context = isObject(cdevent.context) ? cdevent.context : undefined;
  const type = str(context?.type);
  const kind = /^dev\.cdevents\.([a-z]+\.[a-z]+)\.\d+\.\d+\.\d+$/.exec(type ?? '')?.[1];
  if (!context || !type || !kind) return badRequest(`not a CDEvent: context.type ${JSON.stringify(type ?? null)} is not dev.cdevents.<subject>.<predicate>.<version>`);
  const schema = cdeventSchema(kind);
  if (!schema) return ignored(`${type} is not a CDEvents ${CDEVENTS_SPEC_VERSION} event type`);
  const invalid = schemaError(schema, cdevent);
  if (invalid) return badRequest(`${type} does not match its CDEvents ${CDEVENTS_SPEC_VERSION} schema: ${invalid}`);

  const subject = cdevent.subject as Record<string, unknown>;
  const content = isObject(subject.content) ? subject.content : {};
  const subjectId = String(subject.id);
  const custom = customDataOf(cdevent);
  const meta = { source: 'cdevents', id: String(context.id), time: rfc3339(context.timestamp)! };
  switch (kind) {
    case 'service.deployed':
    case 'service.upgraded':
    case 'service.rolledback':
      return mapServiceDeployment(kind, subjectId, content, custom, meta, config);
    case 'incident.detected':
    case 'incident.reported': {
      const serviceId = isObject(content.service) ? str(content.service.id) : undefined;
      const owner = str(custom.team) ?? config.services[serviceId ?? '']?.team;
      if (!owner) return unmappable(`no team: customData.team is absent and service ${JSON.stringify(serviceId ?? null)} is not in cdevents.services`);
      const fields = { severity: severity.safeParse(custom.severity), category: category.safeParse(custom.category), tier: custom.tier === undefined ? 2 : tierOf(custom.tier) };
      if (custom.severity !== undefined && !fields.severity.success) return unmappable(`customData.severity ${JSON.stringify(custom.severity)} is not sev0..sev3`);
      if (custom.category !== undefined && !fields.category.success) return unmappable(`customData.category ${JSON.stringify(custom.category)} is not one of ${category.options.join(', ')}`);
      if (!fields.tier) return unmappable(`customData.tier ${JSON.stringify(custom.tier)} is not 1, 2 or 3`);
      const opened = {
        incident_id: `cdevents:${subjectId}`,
        team: owner,
        tier: fields.tier,
        severity: fields.severity.data ?? 'sev2',
        category: fields.category.data ?? 'other',
        detected_at: meta.time,
        ...(str(custom.model_id) ? { model_id: String(custom.model_id) } : {}),
      };
      return { kind: 'events', events: [draftEvent('incident.opened', opened, meta)] };
    }
    case 'incident.resolved':
      return { kind: 'events', events: [draftEvent('incident.resolved', { incident_id: `cdevents:${subjectId}` }, meta)] };
    case 'ticket.closed': {
      const labels = Array.isArray(content.labels) ? content.labels.filter((label): label is string => typeof label === 'string') : [];
      const owner = str(custom.team) ?? tagValue(labels, 'team');
      if (!owner) return unmappable(`no team: ticket ${subjectId} has neither customData.team nor a team:<name> label`);
      const kindOfItem = labels.some((label) => DEBT_LABELS.includes(label)) ? 'ml_debt' : 'other';
      return { kind: 'events', events: [draftEvent('workitem.closed', { item_id: `cdevents:${subjectId}`, team: owner, kind: kindOfItem }, meta)] };
    }
    default:
      return ignored(`${type} carries nothing to measure`);
  }
}

/** A service deployed, upgraded or rolled back in a production environment, as a deploy for rollback inference. */
function mapServiceDeployment(
  kind: string,
  service: string,
  content: Record<string, unknown>,
  custom: Record<string, unknown>,
  meta: { source: string; id: string; time: string },
  config: CdeventsConfig,
): Mapped {
  const environment = isObject(content.environment) ? String(content.environment.id) : '';
  if (!config.environments.includes(environment)) return ignored(`environment ${JSON.stringify(environment)} is not a production environment (cdevents.environments: ${config.environments.join(', ')})`);
  const configured = config.services[service];
  const owner = str(custom.team) ?? configured?.team;
  const tier = custom.tier !== undefined ? tierOf(custom.tier) : configured?.tier;
  if (!owner) return unmappable(`no team: customData.team is absent and service ${service} is not in cdevents.services`);
  if (!tier) return unmappable(custom.tier !== undefined ? `customData.tier ${JSON.stringify(custom.tier)} is not 1, 2 or 3` : `no tier: customData.tier is absent and service ${service} is not in cdevents.services`);
  const artifactId = String(content.artifactId);
  return {
    kind: 'deployment',
    deployment: {
      source: meta.source,
      ids: { deployed: meta.id, rollback: meta.id },
      time: meta.time,
      release: { release_id: `cdevents:${service}:${artifactId}`, model_id: service, model_version: artifactVersion(artifactId), team: owner, tier, environment: 'production', ...pickReleaseFacts(custom) },
      ...(kind === 'service.rolledback' ? { rollback: {} } : {}),
    },
  };
}
