import { draftEvent } from './events.ts';
import type { Deployment, Mapped } from './connector.ts';

/** A production release of a model as the pipeline knows it (packages/storage release history). */
export interface ReleaseRecord {
  release_id: string;
  model_version: string;
  team: string;
  /** RFC 3339. */
  deployed_at: string;
  /** Times of its rollbacks, RFC 3339. */
  rolled_back_at: string[];
}

/** The production releases of one model, for rollback inference. */
export type ReleaseHistory = (modelId: string) => Promise<ReleaseRecord[]>;

const before = (a: string, b: string) => Date.parse(a) < Date.parse(b);

/**
 * Rollback inference (SPEC §8), pure: production moving back to a version deployed there before
 * (or a deploy the tool calls a rollback) emits `release.rolled_back` for every release of the
 * model deployed after that version and not rolled back before this change, and no
 * `release.deployed`; any other deploy is a new release. Only the history before the change
 * counts, so a redelivered change maps to the same events (same ids) however often it arrives.
 */
export function resolveDeployment(deployment: Deployment, history: ReleaseRecord[]): Mapped {
  const { release, time } = deployment;
  const earlier = history.filter((record) => record.model_version === release.model_version && before(record.deployed_at, time));
  // Deployed by the time of this change and not rolled back before it.
  const live = (record: ReleaseRecord) => !before(time, record.deployed_at) && !record.rolled_back_at.some((at) => before(at, time));
  let undone: ReleaseRecord[];
  let why: string;
  if (earlier.length > 0) {
    const anchor = earlier.map((record) => record.deployed_at).sort((a, b) => Date.parse(b) - Date.parse(a))[0]!;
    undone = history.filter((record) => before(anchor, record.deployed_at) && record.model_version !== release.model_version && live(record));
    why = `production moved back to version ${release.model_version} of ${release.model_id}, deployed there before`;
  } else if (deployment.rollback) {
    const of = deployment.rollback.of;
    const candidates = history.filter((record) => live(record) && record.release_id !== release.release_id);
    undone = of
      ? candidates.filter((record) => record.release_id === of || record.model_version === of || record.release_id.endsWith(`:${of}`))
      : candidates.sort((a, b) => Date.parse(b.deployed_at) - Date.parse(a.deployed_at)).slice(0, 1);
    why = `${deployment.source} reports a rollback of ${release.model_id}${of ? ` (of ${of})` : ''}`;
  } else {
    return { kind: 'events', events: [draftEvent('release.deployed', release, { source: deployment.source, id: deployment.ids.deployed, time })] };
  }
  if (undone.length === 0) return { kind: 'ignored', reason: `${why}; no later release of it is live, so nothing is rolled back` };
  return {
    kind: 'events',
    events: undone.map((record) =>
      draftEvent(
        'release.rolled_back',
        { release_id: record.release_id, model_id: release.model_id, team: record.team, reason: why },
        { source: deployment.source, id: `${deployment.ids.rollback}:rollback:${record.release_id}`, time },
      ),
    ),
  };
}
