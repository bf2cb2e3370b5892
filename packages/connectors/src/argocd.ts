import { z } from 'zod';
import { badRequest, ignored, isObject, rfc3339, str, unmappable, verifyBearer, type Mapped, type RawDelivery } from './connector.ts';
import { token, tierOf } from './schema.ts';
import { TEAM_PATTERN } from '@kpi/events';

export const argocdConfig = z.strictObject({ token });
export type ArgocdConfig = z.infer<typeof argocdConfig>;

export const verifyArgocd = (delivery: RawDelivery, config: ArgocdConfig) => verifyBearer(delivery, config.token);

/**
 * The payload of the template in infra/argocd/: `{app, revision, finished_at, environment, team,
 * tier, model_id}`, from the Application's labels, sent when a sync succeeds.
 */
export function mapArgocd(body: unknown): Mapped {
  if (!isObject(body)) return badRequest('expected the JSON object of the kpi-release template (infra/argocd)');
  const app = str(body.app);
  const revision = str(body.revision);
  const time = rfc3339(body.finished_at);
  if (!app || !revision) return badRequest('app and revision are required (is the kpi-release template installed?)');
  if (!time) return badRequest('finished_at is not a timestamp');
  const environment = str(body.environment) ?? 'production';
  if (environment !== 'production') return ignored(`environment ${JSON.stringify(environment)} is not production`);
  const team = str(body.team);
  if (!team) return unmappable(`no team: label kpi.team is not set on Application ${app}`);
  if (!TEAM_PATTERN.test(team)) return unmappable(`label kpi.team ${JSON.stringify(team)} of Application ${app} is not a team slug`);
  const tier = tierOf(body.tier);
  if (!tier) return unmappable(`label kpi.tier ${JSON.stringify(body.tier ?? '')} of Application ${app} is not 1, 2 or 3`);
  return {
    kind: 'deployment',
    deployment: {
      source: 'argocd',
      ids: { deployed: `${app}:${revision}:${time}`, rollback: `${app}:${revision}:${time}` },
      time,
      release: { release_id: `argocd:${app}:${revision}`, model_id: str(body.model_id) ?? app, model_version: revision, team, tier, environment: 'production' },
    },
  };
}
