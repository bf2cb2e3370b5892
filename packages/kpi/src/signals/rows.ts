import { DEFAULTS, type EventType } from '@kpi/events';
import { param, raw, sql, type Sql } from '@kpi/storage';
import { defineSource, entitiesWithEventsIn, eventsOnce, LATEST, type TimeRange } from '../source.ts';

// Operational signals. Serving windows and dataset arrivals are the bulk of all events: they have
// typed tables of their own (migration 011), and so do data validations (migration 013). The rest are read from `signal_events` by type.

/** Every serving window is a sample, assigned by its end. */
export const servingWindows = defineSource({
  name: 'servingWindows',
  entity: 'serving_window',
  tiered: true,
  eventTypes: ['serving.window'],
  planning: { kind: 'sample' },
  rows: (ranges) => sql`
    SELECT concat(source, '/', id) AS entity_id, team, tier, time, model_id, requests, latency_p95_ms, latency_p99_ms, cost_usd
    FROM (${eventsOnce('serving_windows', ranges)})`,
});

/** Every dataset arrival is a sample; `sla_minutes` defaults to the SPEC's 120. */
export const datasetArrivals = defineSource({
  name: 'datasetArrivals',
  entity: 'dataset_arrival',
  tiered: false,
  eventTypes: ['dataset.arrived'],
  planning: { kind: 'sample' },
  rows: (ranges) => sql`
    SELECT concat(source, '/', id) AS entity_id, team, toUInt8(0) AS tier, time, dataset, expected_at,
      coalesce(sla_minutes, ${raw(String(DEFAULTS.sla_minutes))}) AS sla_minutes
    FROM (${eventsOnce('dataset_arrivals', ranges)})`,
});

/** Every data-quality validation run is a sample, assigned by its time. */
export const dataValidations = defineSource({
  name: 'dataValidations',
  entity: 'data_validation',
  tiered: false,
  eventTypes: ['data.validated'],
  planning: { kind: 'sample' },
  rows: (ranges) => sql`
    SELECT concat(source, '/', id) AS entity_id, team, toUInt8(0) AS tier, time, validation_id, dataset, suite, success, evaluated, failed
    FROM (${eventsOnce('data_validations', ranges)})`,
});

/** Every survey answer is a sample. */
export const surveyResponses = defineSource({
  name: 'surveyResponses',
  entity: 'survey_response',
  tiered: false,
  eventTypes: ['survey.response'],
  planning: { kind: 'sample' },
  rows: (ranges) => sql`
    SELECT concat(source, '/', id) AS entity_id, team, toUInt8(0) AS tier, time, JSONExtractFloat(data, 'score') AS score
    FROM (${eventsOnce('signal_events', ranges, raw("type = 'survey.response'"))})`,
});

/**
 * One row per entity of a type that names one (an alert, a run, an evaluation, a work item, a
 * mentorship record): its latest event counts, at that event's time (a re-triaged alert, a
 * re-reported run). `columns` are extracted from that event's data.
 */
function latestPerEntity(type: EventType, ranges: readonly TimeRange[] | undefined, columns: Sql, tier: Sql = raw('toUInt8(0)')): Sql {
  const ofType = sql`type = ${param(type, 'String')}`;
  return sql`
    SELECT entity_id, latest_team AS team, latest_time AS time, latest_data AS data, ${tier} AS tier, ${columns}
    FROM (
      SELECT entity_id, argMax(team, ${LATEST}) AS latest_team, max(time) AS latest_time, argMax(data, ${LATEST}) AS latest_data
      FROM {db:Identifier}.signal_events
      WHERE ${ofType} AND ${entitiesWithEventsIn('signal_events', ranges, ofType)}
      GROUP BY entity_id
    )`;
}

const entityPlanning = (type: EventType, team: Sql = raw("anyIf(team, team != '')")) =>
  ({ kind: 'entity', table: 'signal_events', where: sql`type = ${param(type, 'String')}`, team }) as const;

export const triagedAlerts = defineSource({
  name: 'triagedAlerts',
  entity: 'alert',
  tiered: false,
  eventTypes: ['alert.triaged'],
  planning: entityPlanning('alert.triaged'),
  rows: (ranges) => latestPerEntity('alert.triaged', ranges, raw("JSONExtractBool(data, 'actionable') AS actionable, JSONExtractString(data, 'model_id') AS model_id")),
});

export const trainingRuns = defineSource({
  name: 'trainingRuns',
  entity: 'training_run',
  tiered: false,
  eventTypes: ['training.run_completed'],
  planning: entityPlanning('training.run_completed'),
  rows: (ranges) => latestPerEntity('training.run_completed', ranges, raw("JSONExtractFloat(data, 'cost_usd') AS cost_usd, JSONExtractString(data, 'model_id') AS model_id")),
});

/**
 * A model evaluation across the groups of one attribute; its gap is the largest group value minus the
 * smallest, rounded to 9 decimals: the difference of two reported values, as a science lead reads it
 * (0.55 - 0.50 is a gap of 0.05, not the binary 0.050000000000000044 that would break "<= 0.05").
 */
export const modelEvaluations = defineSource({
  name: 'modelEvaluations',
  entity: 'evaluation',
  tiered: true,
  eventTypes: ['model.evaluated'],
  planning: entityPlanning('model.evaluated'),
  rows: (ranges) =>
    sql`SELECT *, round(arrayMax(group -> group.value, groups) - arrayMin(group -> group.value, groups), 9) AS gap FROM (${latestPerEntity(
      'model.evaluated',
      ranges,
      raw(`JSONExtractString(data, 'model_id') AS model_id, JSONExtractString(data, 'metric') AS metric, JSONExtractString(data, 'attribute') AS attribute,
        JSONExtractBool(data, 'protected') AS protected, JSONExtract(data, 'groups', 'Array(Tuple(name String, value Float64, n Nullable(UInt64)))') AS groups`),
      raw("toUInt8(JSONExtractUInt(data, 'tier'))"),
    )})`,
});

export const workItems = defineSource({
  name: 'workItems',
  entity: 'work_item',
  tiered: false,
  eventTypes: ['workitem.closed'],
  planning: entityPlanning('workitem.closed'),
  rows: (ranges) => latestPerEntity('workitem.closed', ranges, raw("JSONExtractString(data, 'kind') AS kind")),
});

export const mentorships = defineSource({
  name: 'mentorships',
  entity: 'mentorship',
  tiered: false,
  eventTypes: ['mentorship.recorded'],
  planning: entityPlanning('mentorship.recorded'),
  rows: (ranges) => latestPerEntity('mentorship.recorded', ranges, raw("JSONExtractString(data, 'kind') AS kind")),
});

/**
 * One row per asset reused by a team other than its owner: scoped by its owner team, assigned to
 * its first such reuse (SPEC §5). Reuse by the owner itself is no row at all.
 */
export const assetReuses = defineSource({
  name: 'assetReuses',
  entity: 'asset',
  tiered: false,
  eventTypes: ['asset.reused'],
  planning: entityPlanning('asset.reused', raw("any(JSONExtractString(data, 'owner_team'))")),
  rows: (ranges) => sql`
    SELECT entity_id, argMin(owner_team, ${LATEST}) AS team, toUInt8(0) AS tier, min(time) AS first_reused_at, groupUniqArray(reuser) AS reused_by
    FROM (
      SELECT entity_id, team AS reuser, time, ingested_at, offset, JSONExtractString(data, 'owner_team') AS owner_team
      FROM {db:Identifier}.signal_events
      WHERE type = 'asset.reused' AND ${entitiesWithEventsIn('signal_events', ranges, raw("type = 'asset.reused'"))}
    )
    WHERE reuser != owner_team
    GROUP BY entity_id`,
});
