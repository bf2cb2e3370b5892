import { createHash } from 'node:crypto';
import type { AnyEvent } from '@kpi/events';
import { mapAlertmanager, verifyAlertmanager } from './alertmanager.ts';
import { mapArgocd, verifyArgocd } from './argocd.ts';
import { mapCdevents, verifyCdevents } from './cdevents.ts';
import type { ConnectorName, ConnectorsConfig } from './config.ts';
import { ignored, isObject, parseJson, str, type Mapped, type RawDelivery, type ResultsPull } from './connector.ts';
import { mapDatabricks, verifyDatabricks } from './databricks.ts';
import { mapDatadog, verifyDatadog } from './datadog.ts';
import { resolveDeployment, type ReleaseHistory } from './deployments.ts';
import { validateDrafts } from './events.ts';
import { mapEvidently, verifyEvidently } from './evidently.ts';
import { mapGithub, verifyGithub } from './github.ts';
import { mapGreatExpectations, verifyGreatExpectations } from './great-expectations.ts';
import { mapGrowthbook, verifyGrowthbook } from './growthbook.ts';
import { mapJira, verifyJira, type FirstClose } from './jira.ts';
import { mapMlflowAlias, mapMlflowTag, modelVersionOf, readMlflowWebhook, verifyMlflow, type MlflowConfig, type MlflowRegistry } from './mlflow.ts';
import { mapOpenlineage, verifyOpenlineage } from './openlineage.ts';
import { mapPagerduty, verifyPagerduty } from './pagerduty.ts';
import { RegistryUnavailable } from './registry.ts';
import { mapServicenowPage } from './servicenow.ts';

/**
 * What mapping needs from outside: the release history and first closes of work items
 * (ClickHouse), and the MLflow registries (MLflow's, Databricks' with its token).
 */
export interface ConnectorDeps {
  releases: ReleaseHistory;
  workItemFirstClosed: FirstClose;
  mlflowRegistry(trackingUri: string, token?: string): MlflowRegistry;
}

/** How a delivery ended; stored in the archive and answered per SPEC §8. */
export type Outcome =
  | { outcome: 'accepted'; events: AnyEvent[]; pulls: ResultsPull[]; skipped: string[] }
  | { outcome: 'ignored' | 'unmappable' | 'bad_request' | 'retry'; reason: string };

type Config<K extends ConnectorName> = NonNullable<ConnectorsConfig[K]>;
interface ConnectorSpec<K extends ConnectorName> {
  /** undefined when authentic, else why not; absent for a connector that pulls from its tool (nothing is posted to it). */
  verify?(delivery: RawDelivery, config: Config<K>): string | undefined;
  /** The header carrying the sender's id of the delivery, if it sends one. */
  deliveryHeader?: string;
  /** Or where the body carries it. */
  deliveryIdInBody?: (body: unknown) => string | undefined;
  map(body: unknown, config: Config<K>, delivery: RawDelivery, deps: ConnectorDeps): Mapped | Promise<Mapped>;
}

const CONNECTORS: { [K in ConnectorName]: ConnectorSpec<K> } = {
  github: { verify: verifyGithub, deliveryHeader: 'x-github-delivery', map: (body, config, delivery) => mapGithub(delivery.headers['x-github-event'], body, config) },
  mlflow: { verify: verifyMlflow, deliveryHeader: 'x-mlflow-delivery-id', map: mapMlflow },
  argocd: { verify: verifyArgocd, map: mapArgocd },
  // A V3 webhook carries one event, whose id is stable across PagerDuty's retries.
  pagerduty: { verify: verifyPagerduty, deliveryIdInBody: (body) => (isObject(body) && isObject(body.event) ? str(body.event.id) : undefined), map: mapPagerduty },
  alertmanager: { verify: verifyAlertmanager, map: mapAlertmanager },
  growthbook: { verify: verifyGrowthbook, map: mapGrowthbook },
  // Jira's id of a delivery, the same on its retries.
  jira: { verify: verifyJira, deliveryHeader: 'x-atlassian-webhook-identifier', map: (body, config, _delivery, deps) => mapJira(body, config, deps.workItemFirstClosed) },
  datadog: { verify: verifyDatadog, deliveryIdInBody: (body) => (isObject(body) ? str(body.id) : undefined), map: mapDatadog },
  // Pulled by a worker job (services/worker): its deliveries are Table API pages, replayable like webhooks.
  servicenow: { map: mapServicenowPage },
  cdevents: { verify: verifyCdevents, map: mapCdevents },
  openlineage: { verify: verifyOpenlineage, map: mapOpenlineage },
  great_expectations: { verify: verifyGreatExpectations, map: mapGreatExpectations },
  evidently: { verify: verifyEvidently, map: (body, _config, delivery) => mapEvidently(body, delivery) },
  databricks: { verify: verifyDatabricks, map: (body, config, _delivery, deps) => mapDatabricks(body, config, deps.mlflowRegistry(config.host, config.token)) },
};

/** Whether a connector pulls from its tool instead of receiving webhooks. */
export const isPulled = (name: ConnectorName) => CONNECTORS[name].verify === undefined;

/** Authenticity, on the raw bytes: undefined when the delivery is the tool's, else the reason. */
export function verifyDelivery<K extends ConnectorName>(name: K, config: Config<K>, delivery: RawDelivery): string | undefined {
  const { verify } = CONNECTORS[name];
  return verify ? verify(delivery, config) : `${name} pulls from its tool: nothing is posted to it`;
}

/**
 * How a delivery's outcome is archived and answered: a pulled page with records that could not
 * be mapped is `unmappable` (kept for replay after a fix) even though the rest became events.
 */
export function archivedOutcome(result: Outcome): { outcome: Outcome['outcome']; reason: string; events: string[] } {
  if (result.outcome !== 'accepted') return { outcome: result.outcome, reason: result.reason, events: [] };
  const events = result.events.map((event) => event.id);
  return result.skipped.length > 0 ? { outcome: 'unmappable', reason: `skipped: ${result.skipped.join('; ')}`, events } : { outcome: 'accepted', reason: '', events };
}

/** The sender's id of a delivery, or a digest of its body for senders that give none (a re-sent body is the same delivery). */
export function deliveryIdOf(name: ConnectorName, delivery: RawDelivery): string {
  const spec: ConnectorSpec<ConnectorName> = CONNECTORS[name];
  const fromBody = () => {
    const json = spec.deliveryIdInBody ? parseJson(delivery.body) : undefined;
    return json?.ok ? spec.deliveryIdInBody!(json.value) : undefined;
  };
  const sent = (spec.deliveryHeader ? delivery.headers[spec.deliveryHeader] : undefined) ?? fromBody();
  return sent && sent.length <= 200 ? sent : `sha256:${createHash('sha256').update(delivery.body).digest('hex')}`;
}

/** Maps an authenticated delivery to validated events (or says why there are none). Throws only when ClickHouse cannot be read. */
export async function mapDelivery<K extends ConnectorName>(name: K, config: Config<K>, delivery: RawDelivery, deps: ConnectorDeps): Promise<Outcome> {
  const json = parseJson(delivery.body);
  if (!json.ok) return { outcome: 'bad_request', reason: json.reason };
  let mapped: Mapped;
  try {
    mapped = await CONNECTORS[name].map(json.value, config, delivery, deps);
  } catch (error) {
    if (error instanceof RegistryUnavailable) return { outcome: 'retry', reason: error.message };
    throw error;
  }
  if (mapped.kind === 'deployment') mapped = resolveDeployment(mapped.deployment, await deps.releases(mapped.deployment.release.model_id));
  switch (mapped.kind) {
    case 'events': {
      const valid = validateDrafts(mapped.events);
      if (!valid.ok) return { outcome: 'unmappable', reason: valid.reason };
      return { outcome: 'accepted', events: valid.events, pulls: mapped.pulls ?? [], skipped: mapped.skipped ?? [] };
    }
    case 'ignored':
      return { outcome: 'ignored', reason: mapped.reason };
    case 'unmappable':
      return { outcome: 'unmappable', reason: mapped.reason };
    case 'bad_request':
      return { outcome: 'bad_request', reason: mapped.reason };
    case 'retry':
      return { outcome: 'retry', reason: mapped.reason };
    default:
      throw new Error(`unresolved mapping ${(mapped as Mapped).kind}`);
  }
}

/** MLflow: alias and tag webhooks need the version's tags from the registry (and, for tags, whether it was deployed). */
async function mapMlflow(body: unknown, config: MlflowConfig, delivery: RawDelivery, deps: ConnectorDeps): Promise<Mapped> {
  const webhook = readMlflowWebhook(body, delivery);
  if ('kind' in webhook) return webhook;
  const registry = deps.mlflowRegistry(config.tracking_uri);
  const target = modelVersionOf(webhook);
  if (webhook.event.endsWith('_tag.set') || webhook.event.endsWith('_tag.deleted')) {
    const name = typeof webhook.data.name === 'string' ? webhook.data.name : '';
    registry.forget(name, target?.version);
  }
  if (webhook.event === 'model_version_alias.created') {
    if (!target) return { kind: 'bad_request', reason: 'data.name and data.version are required' };
    if (!config.production_aliases.includes(String(webhook.data.alias))) return mapMlflowAlias(webhook, { version: {}, model: {} }, config);
    return mapMlflowAlias(webhook, await registry.tags(target.name, target.version), config);
  }
  if (webhook.event === 'model_version_tag.set') {
    if (!target) return { kind: 'bad_request', reason: 'data.name and data.version are required' };
    if (!String(webhook.data.key ?? '').startsWith('kpi.')) return mapMlflowTag(webhook, { version: {}, model: {} }, false);
    const history = await deps.releases(target.name);
    const deployed = history.some((record) => record.release_id === `mlflow:${target.name}:${target.version}`);
    return mapMlflowTag(webhook, deployed ? await registry.tags(target.name, target.version) : { version: {}, model: {} }, deployed);
  }
  return ignored(`MLflow event ${webhook.event} carries nothing to measure (subscribe to model_version_alias.created and model_version_tag.set)`);
}
