import type { Storage } from '@kpi/storage';
import { DEFAULTS } from '@kpi/events';
import { chTime } from './periods.ts';

/**
 * Entity state, derived in ClickHouse from the deduplicated raw events (FINAL) with the SPEC's
 * rules, so that it comes out the same whatever order and however often events arrived:
 * per-field corrections by latest `time` (ties: later ingested), earliest mitigation, first and
 * latest readout, latest decision, rollbacks of a release. An entity exists once its defining
 * event (opened / started / deployed) has arrived; its team comes from there.
 *
 * Each source selects rows with a `team`, a `tier` (0 when the events carry none) and the
 * instants a KPI can be anchored on; the caller restricts them to an anchor window and a team.
 */
const latest = '(time, ingested_at, offset)';

const incidentsSql = `
  SELECT
    entity_id AS entity_id,
    argMaxIf(team, ${latest}, type = 'incident.opened') AS team,
    toUInt8(argMaxIf(JSONExtractUInt(data, 'tier'), ${latest}, JSONHas(data, 'tier'))) AS tier,
    argMaxIf(JSONExtractString(data, 'severity'), ${latest}, JSONHas(data, 'severity')) AS severity,
    argMaxIf(JSONExtractString(data, 'category'), ${latest}, JSONHas(data, 'category')) AS category,
    argMaxIf(JSONExtractString(data, 'model_id'), ${latest}, type = 'incident.opened') AS model_id,
    if(countIf(JSONHas(data, 'started_at')) > 0, argMaxIf(parseDateTime64BestEffortOrZero(JSONExtractString(data, 'started_at'), 3, 'UTC'), ${latest}, JSONHas(data, 'started_at')), NULL) AS started_at,
    argMaxIf(parseDateTime64BestEffortOrZero(JSONExtractString(data, 'detected_at'), 3, 'UTC'), ${latest}, JSONHas(data, 'detected_at')) AS detected_at,
    minIf(time, type = 'incident.opened') AS opened_at,
    -- The earliest mitigation; an incident resolved with none counts as mitigated at its earliest resolution.
    multiIf(countIf(type = 'incident.mitigated') > 0, minIf(time, type = 'incident.mitigated'), countIf(type = 'incident.resolved') > 0, minIf(time, type = 'incident.resolved'), NULL) AS mitigated_at,
    if(countIf(type = 'incident.resolved') > 0, minIf(time, type = 'incident.resolved'), NULL) AS resolved_at
  FROM {db:Identifier}.events FINAL
  WHERE type IN ('incident.opened', 'incident.updated', 'incident.mitigated', 'incident.resolved')
  GROUP BY entity_id
  HAVING countIf(type = 'incident.opened') > 0`;

/** Release facts: per field, the latest deployed or updated event carrying it wins (`{}` when none does). */
const RELEASE_FACTS = ['tier', 'readiness_first_pass', 'reproducible', 'docs', 'monitoring', 'offline_metric', 'calibration_ece', 'slices'];
const factsOfRelease = `concat('{', arrayStringConcat(arrayFilter(x -> x != '', [${RELEASE_FACTS.map(
  (field) => `if(countIf(JSONHas(data, '${field}')) > 0, concat('"${field}":', argMaxIf(JSONExtractRaw(data, '${field}'), ${latest}, JSONHas(data, '${field}'))), '')`,
).join(', ')}]), ','), '}')`;

const releasesSql = `
  SELECT
    entity_id AS entity_id,
    argMaxIf(team, ${latest}, type = 'release.deployed') AS team,
    toUInt8(JSONExtractUInt(facts, 'tier')) AS tier,
    argMaxIf(data, ${latest}, type = 'release.deployed') AS deployed,
    ${factsOfRelease} AS facts,
    maxIf(time, type = 'release.deployed') AS deployed_at,
    arraySort(groupArrayIf(time, type = 'release.rolled_back')) AS rollbacks
  FROM {db:Identifier}.events FINAL
  WHERE type IN ('release.deployed', 'release.updated', 'release.rolled_back')
  GROUP BY entity_id
  HAVING countIf(type = 'release.deployed') > 0 AND JSONExtractString(deployed, 'environment') = 'production'`;

const experimentsSql = `
  SELECT
    entity_id AS entity_id,
    argMaxIf(team, ${latest}, type = 'experiment.started') AS team,
    toUInt8(0) AS tier,
    argMaxIf(data, ${latest}, type = 'experiment.started') AS started,
    minIf(time, type = 'experiment.started') AS started_at,
    if(countIf(type = 'experiment.readout') > 0, minIf(time, type = 'experiment.readout'), NULL) AS first_readout_at,
    if(countIf(type = 'experiment.readout') > 0, maxIf(time, type = 'experiment.readout'), NULL) AS latest_readout_at,
    argMaxIf(data, ${latest}, type = 'experiment.readout') AS readout,
    if(countIf(type = 'experiment.decided') > 0, maxIf(time, type = 'experiment.decided'), NULL) AS decided_at,
    argMaxIf(data, ${latest}, type = 'experiment.decided') AS decision
  FROM {db:Identifier}.events FINAL
  WHERE type IN ('experiment.started', 'experiment.readout', 'experiment.decided')
  GROUP BY entity_id
  HAVING countIf(type = 'experiment.started') > 0`;

/** Every event of one type is a sample (serving windows, arrivals, survey answers). */
const eventsOf = (type: string) => `
  SELECT concat(source, '/', id) AS entity_id, team, toUInt8(JSONExtractUInt(data, 'tier')) AS tier, time, data
  FROM {db:Identifier}.events FINAL
  WHERE type = '${type}'`;

/** One sample per entity, its latest event counting (a re-triaged alert, a re-reported run). */
const latestPerEntity = (type: string) => `
  SELECT entity_id, team, toUInt8(0) AS tier, latest_time AS time, data
  FROM (
    SELECT entity_id, argMax(team, ${latest}) AS team, max(time) AS latest_time, argMax(data, ${latest}) AS data
    FROM {db:Identifier}.events FINAL
    WHERE type = '${type}'
    GROUP BY entity_id
  )`;

export const SOURCES = {
  incidents: { sql: incidentsSql, since: 'opened_at', entity: 'incident', definingType: 'incident.opened', eventTypes: ['incident.opened', 'incident.updated', 'incident.mitigated', 'incident.resolved'] },
  releases: { sql: releasesSql, since: 'deployed_at', entity: 'release', definingType: 'release.deployed', eventTypes: ['release.deployed', 'release.updated', 'release.rolled_back'] },
  experiments: { sql: experimentsSql, since: 'started_at', entity: 'experiment', definingType: 'experiment.started', eventTypes: ['experiment.started', 'experiment.readout', 'experiment.decided'] },
  servingWindows: { since: 'time', sql: eventsOf('serving.window'), entity: 'serving_window', eventTypes: ['serving.window'] },
  datasetArrivals: { since: 'time', sql: eventsOf('dataset.arrived'), entity: 'dataset_arrival', eventTypes: ['dataset.arrived'] },
  surveyResponses: { since: 'time', sql: eventsOf('survey.response'), entity: 'survey_response', eventTypes: ['survey.response'] },
  triagedAlerts: { since: 'time', sql: latestPerEntity('alert.triaged'), entity: 'alert', eventTypes: ['alert.triaged'] },
  trainingRuns: { since: 'time', sql: latestPerEntity('training.run_completed'), entity: 'training_run', eventTypes: ['training.run_completed'] },
} as const;

export type SourceName = keyof typeof SOURCES;

export interface Window {
  /** The instant column the window applies to. */
  anchor: string;
  /** Lower bound; omitted for state as of `to` (live releases, open incidents). */
  from?: Date;
  to: Date;
  /** One team, or '*' for all teams. */
  team: string;
}

/** Rows of a source whose anchor lies in [from, to), for one team or all. */
export async function selectRows<Row>(storage: Storage, source: SourceName, window: Window): Promise<Row[]> {
  const sql = `SELECT * FROM (${SOURCES[source].sql})
    WHERE ({from:Nullable(DateTime64(3, 'UTC'))} IS NULL OR {anchor:Identifier} >= {from:Nullable(DateTime64(3, 'UTC'))})
      AND {anchor:Identifier} < {to:DateTime64(3, 'UTC')}
      AND ({team:String} = '*' OR team = {team:String})`;
  return storage.query<Row>(sql, { anchor: window.anchor, from: window.from ? chTime(window.from) : null, to: chTime(window.to), team: window.team });
}

/**
 * Entities with lifecycle events whose defining event has not arrived: counted nowhere until it
 * does (a mitigation of an incident never opened, a readout of an experiment never started).
 */
export async function waitingForDefiningEvent(storage: Storage, source: SourceName): Promise<{ total: number; sample: { entity_id: string; types: string[] }[] }> {
  const spec = SOURCES[source];
  if (!('definingType' in spec)) return { total: 0, sample: [] };
  const rows = await storage.query<{ entity_id: string; types: string[] }>(
    `SELECT entity_id, arraySort(groupUniqArray(type)) AS types
     FROM {db:Identifier}.events FINAL
     WHERE type IN {types:Array(String)}
     GROUP BY entity_id
     HAVING countIf(type = {defining:String}) = 0
     ORDER BY entity_id`,
    { types: [...spec.eventTypes], defining: spec.definingType },
  );
  return { total: rows.length, sample: rows.slice(0, 100) };
}
