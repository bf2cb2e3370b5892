import { z } from 'zod';
import { badRequest, ignored, isObject, rfc3339, str, unmappable, verifyHexHmac, type Deployment, type Mapped, type RawDelivery } from './connector.ts';
import { pickReleaseFacts } from './facts.ts';
import { secret, teamAndTier, tierOf } from './schema.ts';

export const githubConfig = z.strictObject({
  secret,
  /** GitHub environments that are production here. */
  environments: z.array(z.string().min(1)).min(1).default(['production']),
  repositories: z.record(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name'), teamAndTier).default({}),
});
export type GithubConfig = z.infer<typeof githubConfig>;

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`. */
export const verifyGithub = (delivery: RawDelivery, config: GithubConfig) => verifyHexHmac(delivery, 'x-hub-signature-256', config.secret, 'sha256=');

/** `deployment.payload` is an object, or a JSON string of one (as the REST API stores it), or empty. */
function deploymentPayload(value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return {};
  try {
    const parsed = JSON.parse(value);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A `deployment_status` that reached `success` in a production environment is a release; a
 * `deployment` (or its status) the tool calls a rollback (`task: rollback`, `payload.rollback_of`)
 * rolls releases back. Everything else GitHub sends carries nothing to measure.
 */
export function mapGithub(event: string | undefined, body: unknown, config: GithubConfig): Mapped {
  if (event !== 'deployment_status' && event !== 'deployment') return ignored(`GitHub event ${JSON.stringify(event ?? '')} carries nothing to measure (subscribe to deployment statuses)`);
  if (!isObject(body) || !isObject(body.deployment) || !isObject(body.repository)) return badRequest(`a ${event} webhook needs deployment and repository objects`);
  const { deployment, repository } = body;
  const status = isObject(body.deployment_status) ? body.deployment_status : undefined;
  if (event === 'deployment_status' && !status) return badRequest('a deployment_status webhook needs a deployment_status object');
  const environment = str(status?.environment) ?? str(deployment.environment) ?? '';
  if (!config.environments.includes(environment)) return ignored(`environment ${JSON.stringify(environment)} is not a production environment (github.environments: ${config.environments.join(', ')})`);
  const payload = deploymentPayload(deployment.payload);
  if (!payload) return unmappable('deployment.payload is neither an object nor a JSON object string');
  const rollbackOf = str(payload.rollback_of) ?? (typeof payload.rollback_of === 'number' ? String(payload.rollback_of) : undefined);
  const rollback = deployment.task === 'rollback' || rollbackOf !== undefined ? { ...(rollbackOf ? { of: rollbackOf } : {}) } : undefined;
  if (event === 'deployment' && !rollback) return ignored('a deployment counts once its deployment_status is success');
  if (status && status.state !== 'success') return ignored(`deployment status ${JSON.stringify(status.state)} is not success`);

  const fullName = str(repository.full_name);
  const deploymentId = deployment.id;
  if (!fullName || (typeof deploymentId !== 'number' && typeof deploymentId !== 'string')) return badRequest('repository.full_name and deployment.id are required');
  const configured = config.repositories[fullName];
  const team = str(payload.team) ?? configured?.team;
  const tier = payload.tier !== undefined ? tierOf(payload.tier) : configured?.tier;
  if (!team) return unmappable(`no team: deployment.payload.team is absent and ${fullName} is not in github.repositories`);
  if (!tier) return unmappable(payload.tier !== undefined ? `deployment.payload.tier ${JSON.stringify(payload.tier)} is not 1, 2 or 3` : `no tier: deployment.payload.tier is absent and ${fullName} is not in github.repositories`);
  const time = rfc3339(status?.created_at ?? deployment.created_at);
  if (!time) return badRequest(`${status ? 'deployment_status' : 'deployment'}.created_at is not a timestamp`);
  const version = str(payload.model_version) ?? (typeof payload.model_version === 'number' ? String(payload.model_version) : undefined) ?? str(deployment.sha);
  if (!version) return unmappable('no model version: deployment.payload.model_version and deployment.sha are absent');
  const result: Deployment = {
    source: 'github',
    ids: { deployed: `deployment_status:${String(status?.id)}`, rollback: `deployment:${String(deploymentId)}` },
    time,
    release: {
      release_id: `github:${fullName}:${String(deploymentId)}`,
      model_id: str(payload.model_id) ?? str(repository.name) ?? fullName,
      model_version: version,
      team,
      tier,
      environment: 'production',
      ...pickReleaseFacts(payload),
    },
    ...(rollback ? { rollback } : {}),
  };
  return { kind: 'deployment', deployment: result };
}
