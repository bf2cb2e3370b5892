import { z } from 'zod';
import type { Storage } from '../client.ts';

const releaseRecord = z.object({
  release_id: z.string(),
  model_version: z.string(),
  team: z.string(),
  deployed_at: z.string(),
  rolled_back_at: z.array(z.string()),
});
export type ReleaseOfModel = z.infer<typeof releaseRecord>;

/**
 * The production releases of one model with their rollbacks, from the releases' table (migration 011):
 * what rollback inference of the deploy connectors reads (SPEC §8). Both event types carry
 * `model_id`; a release counts once its production `release.deployed` has arrived.
 */
export async function productionReleasesOfModel(storage: Storage, modelId: string): Promise<ReleaseOfModel[]> {
  const rows = await storage.query<Record<string, unknown>>(
    `SELECT
       entity_id AS release_id,
       argMaxIf(model_version, (time, ingested_at), type = 'release.deployed') AS model_version,
       argMaxIf(team, (time, ingested_at), type = 'release.deployed') AS team,
       maxIf(time, type = 'release.deployed') AS deployed_at,
       arraySort(groupArrayIf(time, type = 'release.rolled_back')) AS rolled_back_at
     FROM {db:Identifier}.release_events FINAL
     WHERE type IN ('release.deployed', 'release.rolled_back') AND model_id = {model:String}
     GROUP BY entity_id
     HAVING countIf(type = 'release.deployed') > 0
        AND argMaxIf(environment, (time, ingested_at), type = 'release.deployed') = 'production'
     ORDER BY deployed_at`,
    { model: modelId },
  );
  return rows.map((row) => releaseRecord.parse(row));
}

/** Experiments a source started that it has not decided yet (the GrowthBook connector polls their results). */
export async function runningExperiments(storage: Storage, source: string): Promise<string[]> {
  const rows = await storage.query<{ experiment_id: string }>(
    `SELECT entity_id AS experiment_id
     FROM {db:Identifier}.experiment_events FINAL
     WHERE source = {source:String} AND type IN ('experiment.started', 'experiment.decided')
     GROUP BY entity_id
     HAVING countIf(type = 'experiment.started') > 0 AND countIf(type = 'experiment.decided') = 0
     ORDER BY entity_id`,
    { source },
  );
  return rows.map((row) => row.experiment_id);
}

/** When a work item was first closed (RFC 3339), if it was: a Jira item counts once, at its first close (SPEC §8b). */
export async function workItemFirstClosed(storage: Storage, itemId: string): Promise<string | undefined> {
  const [row] = await storage.query<{ closed_at: string | null }>(
    `SELECT minOrNull(time) AS closed_at FROM {db:Identifier}.signal_events FINAL WHERE type = 'workitem.closed' AND entity_id = {item:String}`,
    { item: itemId },
  );
  return row?.closed_at ?? undefined;
}
