import { z } from 'zod';
import type { DataInput } from '@kpi/events';
import { badRequest, hmacSha256, ignored, isObject, rfc3339, safeEqual, str, unmappable, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent } from './events.ts';
import { booleanOf, httpUrl, secret, tierOf } from './schema.ts';
import { TEAM_PATTERN } from '@kpi/events';

export const mlflowConfig = z.strictObject({
  secret,
  tracking_uri: httpUrl,
  production_aliases: z.array(z.string().min(1)).min(1).default(['production', 'champion']),
});
export type MlflowConfig = z.infer<typeof mlflowConfig>;

/** Deliveries older than this are refused (a replayed capture, not MLflow). */
export const MLFLOW_MAX_AGE_SECONDS = 300;

/**
 * `X-MLflow-Signature: v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">`, with
 * `X-MLflow-Delivery-Id` and `X-MLflow-Timestamp` (Unix seconds, at most 5 minutes old).
 */
export function verifyMlflow(delivery: RawDelivery, config: MlflowConfig): string | undefined {
  const signature = delivery.headers['x-mlflow-signature'];
  const id = delivery.headers['x-mlflow-delivery-id'];
  const timestamp = delivery.headers['x-mlflow-timestamp'];
  if (!signature || !id || !timestamp) return 'missing X-MLflow-Signature, X-MLflow-Delivery-Id or X-MLflow-Timestamp';
  const seconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(delivery.receivedAt.getTime() / 1000 - seconds) > MLFLOW_MAX_AGE_SECONDS) return `X-MLflow-Timestamp ${timestamp} is more than ${MLFLOW_MAX_AGE_SECONDS} s from now`;
  const expected = `v1,${hmacSha256(config.secret, `${id}.${timestamp}.`, delivery.body).toString('base64')}`;
  return safeEqual(signature, expected) ? undefined : 'X-MLflow-Signature does not match';
}

/** Tags of a model version and of its registered model, as the registry's REST API returns them. */
export interface RegistryTags {
  version: Record<string, string>;
  model: Record<string, string>;
}

/** The MLflow model registry, read at tracking_uri (see registry.ts); throws when it cannot be reached. */
export interface MlflowRegistry {
  tags(name: string, version: string): Promise<RegistryTags>;
  /** Forget what is cached of a model version (its tags changed). */
  forget(name: string, version?: string): void;
}

const DOCS = ['model_card', 'runbook', 'readout'] as const;
const FACT_TAGS = ['readiness_first_pass', 'reproducible', ...DOCS, 'drift_enabled', 'drift_alerting'] as const;
type FactTag = (typeof FACT_TAGS)[number];
type Facts = Partial<Pick<DataInput<'release.deployed'>, 'readiness_first_pass' | 'reproducible' | 'docs' | 'monitoring'>>;

/** A tag of the version, else of the registered model. */
const tagOf = (tags: RegistryTags, key: string) => tags.version[key] ?? tags.model[key];

/**
 * Release facts from `kpi.*` tags: booleans; `docs` once all three of model_card, runbook and
 * readout are tagged, `monitoring` once both drift tags are (tags name no features). A fact no tag
 * reports is left out, not guessed; a tag that is not a boolean is a problem to name.
 */
export function factsFromTags(tags: RegistryTags, only?: FactTag[]): { ok: true; facts: Facts } | { ok: false; reason: string } {
  const values: Partial<Record<FactTag, boolean>> = {};
  for (const name of FACT_TAGS) {
    const raw = tagOf(tags, `kpi.${name}`);
    if (raw === undefined) continue;
    const value = booleanOf(raw);
    if (value === undefined) return { ok: false, reason: `tag kpi.${name}=${JSON.stringify(raw)} is not a boolean (true/false)` };
    values[name] = value;
  }
  const facts: Facts = {};
  const wanted = (field: string) => !only || only.some((tag) => tag === field || (field === 'docs' && (DOCS as readonly string[]).includes(tag)) || (field === 'monitoring' && tag.startsWith('drift_')));
  if (values.readiness_first_pass !== undefined && wanted('readiness_first_pass')) facts.readiness_first_pass = values.readiness_first_pass;
  if (values.reproducible !== undefined && wanted('reproducible')) facts.reproducible = values.reproducible;
  if (DOCS.every((name) => values[name] !== undefined) && wanted('docs')) facts.docs = { model_card: values.model_card!, runbook: values.runbook!, readout: values.readout! };
  if (values.drift_enabled !== undefined && values.drift_alerting !== undefined && wanted('monitoring')) {
    facts.monitoring = { drift_enabled: values.drift_enabled, drift_alerting: values.drift_alerting, features: [] };
  }
  return { ok: true, facts };
}

/** What an MLflow 3 registry webhook says: `{entity, action, timestamp, data}`. */
export interface MlflowWebhook {
  event: string;
  data: Record<string, unknown>;
  /** When MLflow sent it. */
  time: string;
  deliveryId: string;
}

export function readMlflowWebhook(body: unknown, delivery: RawDelivery): MlflowWebhook | Mapped {
  if (!isObject(body) || !str(body.entity) || !str(body.action) || !isObject(body.data)) return badRequest('an MLflow webhook body is {entity, action, timestamp, data}');
  const seconds = Number(delivery.headers['x-mlflow-timestamp']);
  const time = rfc3339(body.timestamp) ?? (Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000).toISOString() : delivery.receivedAt.toISOString());
  return { event: `${String(body.entity)}.${String(body.action)}`, data: body.data, time, deliveryId: delivery.headers['x-mlflow-delivery-id'] ?? '' };
}

/** The model version a webhook is about (`data.name`, `data.version`), or undefined. */
export function modelVersionOf(webhook: MlflowWebhook): { name: string; version: string } | undefined {
  const name = str(webhook.data.name);
  const version = str(webhook.data.version) ?? (typeof webhook.data.version === 'number' ? String(webhook.data.version) : undefined);
  return name && version ? { name, version } : undefined;
}

/**
 * A production release of a registry model version (MLflow, Databricks): `<source>:<name>:<version>`,
 * team, tier and release facts from the version's tags, else the registered model's; or why not.
 */
export function releaseFromTags(source: string, target: { name: string; version: string }, tags: RegistryTags): { release: DataInput<'release.deployed'> } | Mapped {
  const team = tagOf(tags, 'team');
  if (!team) return unmappable(`no team: neither version ${target.version} of ${target.name} nor the registered model has a team tag`);
  if (!TEAM_PATTERN.test(team)) return unmappable(`tag team=${JSON.stringify(team)} is not a team slug`);
  const tier = tierOf(tagOf(tags, 'tier'));
  if (!tier) return unmappable(`no tier: tag tier=${JSON.stringify(tagOf(tags, 'tier') ?? null)} on version ${target.version} of ${target.name} or its registered model is not 1, 2 or 3`);
  const facts = factsFromTags(tags);
  if (!facts.ok) return unmappable(facts.reason);
  return { release: { release_id: `${source}:${target.name}:${target.version}`, model_id: target.name, model_version: target.version, team, tier, environment: 'production', ...facts.facts } };
}

/** `model_version_alias.created` for a production alias -> a production deploy of that version (rollback inference follows). */
export function mapMlflowAlias(webhook: MlflowWebhook, tags: RegistryTags, config: MlflowConfig): Mapped {
  const alias = str(webhook.data.alias) ?? '';
  const target = modelVersionOf(webhook);
  if (!target) return badRequest('data.name and data.version are required');
  if (!config.production_aliases.includes(alias)) return ignored(`alias ${JSON.stringify(alias)} is not a production alias (mlflow.production_aliases: ${config.production_aliases.join(', ')})`);
  const resolved = releaseFromTags('mlflow', target, tags);
  if (!('release' in resolved)) return resolved;
  const change = `${target.name}:${target.version}:${alias}:${webhook.deliveryId}`;
  return {
    kind: 'deployment',
    deployment: { source: 'mlflow', ids: { deployed: `alias:${target.name}:${target.version}:${alias}`, rollback: `alias:${change}` }, time: webhook.time, release: resolved.release },
  };
}

/** `model_version_tag.set` of a kpi.* fact tag on a version deployed in production -> release.updated of that fact. */
export function mapMlflowTag(webhook: MlflowWebhook, tags: RegistryTags, deployed: boolean): Mapped {
  const target = modelVersionOf(webhook);
  const key = str(webhook.data.key) ?? '';
  if (!target) return badRequest('data.name and data.version are required');
  const fact = key.startsWith('kpi.') ? (FACT_TAGS as readonly string[]).find((name) => `kpi.${name}` === key) : undefined;
  if (!fact) return ignored(`tag ${JSON.stringify(key)} is not a release fact (kpi.${FACT_TAGS.join(', kpi.')})`);
  if (!deployed) return ignored(`version ${target.version} of ${target.name} has not been deployed in production`);
  // The tag just set wins over a registry read that may predate it.
  const current: RegistryTags = { model: tags.model, version: { ...tags.version, [key]: String(webhook.data.value ?? '') } };
  const facts = factsFromTags(current, [fact as FactTag]);
  if (!facts.ok) return unmappable(facts.reason);
  if (Object.keys(facts.facts).length === 0) return ignored(`${key} alone does not complete a fact (docs needs kpi.model_card, kpi.runbook and kpi.readout; monitoring needs kpi.drift_enabled and kpi.drift_alerting)`);
  return {
    kind: 'events',
    events: [draftEvent('release.updated', { release_id: `mlflow:${target.name}:${target.version}`, ...facts.facts }, { source: 'mlflow', id: `tag:${target.name}:${target.version}:${key}:${webhook.deliveryId}`, time: webhook.time })],
  };
}
