import { z } from 'zod';
import { badRequest, hmacSha256, ignored, isObject, rfc3339, safeEqual, str, type Mapped, type RawDelivery } from './connector.ts';
import { releaseFromTags, type MlflowRegistry } from './mlflow.ts';
import { httpUrl, secret, token } from './schema.ts';

export const databricksConfig = z.strictObject({
  secret,
  /** The workspace whose MLflow REST API holds the tags. */
  host: httpUrl,
  token,
  production_stages: z.array(z.string().min(1)).min(1).default(['Production']),
});
export type DatabricksConfig = z.infer<typeof databricksConfig>;

/** `X-Databricks-Signature: <hex HMAC-SHA256 of the raw body>`. */
export function verifyDatabricks(delivery: RawDelivery, config: DatabricksConfig): string | undefined {
  const header = delivery.headers['x-databricks-signature'];
  if (!header) return 'missing X-Databricks-Signature';
  return safeEqual(header.toLowerCase(), hmacSha256(config.secret, delivery.body).toString('hex')) ? undefined : 'X-Databricks-Signature does not match the body';
}

const TRANSITIONS = ['MODEL_VERSION_TRANSITIONED_STAGE', 'MODEL_VERSION_TRANSITIONED_TO_PRODUCTION'];

/**
 * Workspace model registry webhooks: a version moved to a production stage is a production deploy
 * of it (rollback inference follows), with team, tier and facts from the registry's tags.
 */
export async function mapDatabricks(body: unknown, config: DatabricksConfig, registry: MlflowRegistry): Promise<Mapped> {
  if (!isObject(body) || !str(body.event)) return badRequest('a Databricks registry webhook body has an event');
  const event = String(body.event);
  if (!TRANSITIONS.includes(event)) return ignored(`Databricks event ${event} carries nothing to measure (subscribe to ${TRANSITIONS.join(' or ')})`);
  const name = str(body.model_name);
  const version = str(body.version) ?? (typeof body.version === 'number' ? String(body.version) : undefined);
  const time = rfc3339(body.event_timestamp);
  if (!name || !version) return badRequest('model_name and version are required');
  if (!time) return badRequest('event_timestamp is not a timestamp');
  const stage = str(body.to_stage) ?? '';
  if (!config.production_stages.includes(stage)) return ignored(`stage ${JSON.stringify(stage)} is not a production stage (databricks.production_stages: ${config.production_stages.join(', ')})`);
  const resolved = releaseFromTags('databricks', { name, version }, await registry.tags(name, version));
  if (!('release' in resolved)) return resolved;
  // A webhook subscribed to both events gets one transition to Production twice: the same ids, so it counts once.
  const change = `${name}:${version}:${stage}:${String(body.event_timestamp)}`;
  return { kind: 'deployment', deployment: { source: 'databricks', ids: { deployed: `stage:${name}:${version}:${stage}`, rollback: `stage:${change}` }, time, release: resolved.release } };
}
