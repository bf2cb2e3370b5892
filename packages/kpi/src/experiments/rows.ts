import { raw, sql } from '@kpi/storage';
import { defineSource, entitiesWithEventsIn, LATEST } from '../source.ts';
import { parseExperiment } from './entity.ts';

/**
 * One row per experiment started: its first and latest readout times, the latest readout's body
 * (its result), the latest decision (SPEC §3). The statistics of a readout are computed in the
 * process (entity.ts): lift and SRM need distributions ClickHouse does not have.
 */
export const experiments = defineSource({
  name: 'experiments',
  entity: 'experiment',
  tiered: false,
  eventTypes: ['experiment.started', 'experiment.readout', 'experiment.decided'],
  planning: { kind: 'entity', table: 'experiment_events', definingType: 'experiment.started', team: raw("anyIf(team, type = 'experiment.started')") },
  rows: (ranges) => sql`
    SELECT *,
      parseDateTime64BestEffortOrNull(JSONExtractString(started, 'hypothesis_at'), 3, 'UTC') AS hypothesis_at,
      JSONExtract(decision, 'actionable', 'Nullable(Bool)') AS actionable
    FROM (
      SELECT
        entity_id,
        argMaxIf(team, ${LATEST}, type = 'experiment.started') AS team,
        toUInt8(0) AS tier,
        argMaxIf(data, ${LATEST}, type = 'experiment.started') AS started,
        minIf(time, type = 'experiment.started') AS started_at,
        minIfOrNull(time, type = 'experiment.readout') AS first_readout_at,
        maxIfOrNull(time, type = 'experiment.readout') AS latest_readout_at,
        argMaxIf(data, ${LATEST}, type = 'experiment.readout') AS readout,
        maxIfOrNull(time, type = 'experiment.decided') AS decided_at,
        argMaxIf(data, ${LATEST}, type = 'experiment.decided') AS decision
      FROM {db:Identifier}.experiment_events
      WHERE ${entitiesWithEventsIn('experiment_events', ranges)}
      GROUP BY entity_id
      HAVING countIf(type = 'experiment.started') > 0
    )`,
  parse: parseExperiment,
});
