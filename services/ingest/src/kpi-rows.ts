import { entityIdOf, teamOf, type AnyEvent, type DataOf, type EventType } from '@kpi/events';
import { clickhouseTime, type Origin } from './rows.ts';

/**
 * The row each event adds to the typed table its KPIs read (migrations 011, 013): one table per
 * source of KPI rows, every event in exactly one. Built here, from the event ingestion has just
 * validated, and inserted with its `events` row; materialized views over `events` did this before,
 * for ~40 ms of CPU per insert whatever its size (7 views planned and run per insert).
 * A fact an event does not report is NULL (or false with its `*_reported` flag false), as the KPIs
 * expect (SPEC §5: missing facts are left out, not guessed).
 */
export type KpiTable = 'release_events' | 'incident_events' | 'experiment_events' | 'serving_windows' | 'dataset_arrivals' | 'data_validations' | 'signal_events';

type Row = Record<string, unknown>;

/** What every typed table has of the event. */
interface Base {
  entity_id: string;
  source: string;
  id: string;
  type: string;
  time: string;
  ingested_at: string;
  offset: number;
  team: string;
}

const orNull = <T>(value: T | undefined): T | null => value ?? null;
const timeOrNull = (value: string | undefined) => (value === undefined ? null : clickhouseTime(value));

function releaseRow(base: Base, data: Partial<DataOf<'release.deployed'>>): Row {
  return {
    ...base,
    model_id: data.model_id ?? '',
    model_version: data.model_version ?? '',
    environment: data.environment ?? '',
    tier: orNull(data.tier),
    readiness_first_pass: orNull(data.readiness_first_pass),
    reproducible: orNull(data.reproducible),
    docs_reported: data.docs !== undefined,
    docs_model_card: data.docs?.model_card ?? false,
    docs_runbook: data.docs?.runbook ?? false,
    docs_readout: data.docs?.readout ?? false,
    monitoring_reported: data.monitoring !== undefined,
    drift_enabled: data.monitoring?.drift_enabled ?? false,
    drift_alerting: data.monitoring?.drift_alerting ?? false,
    // Named tuples are JSON objects of their fields.
    features: (data.monitoring?.features ?? []).map(({ name, critical, drift_monitored }) => ({ name, critical, drift_monitored })),
    offline_metric_reported: data.offline_metric !== undefined,
    offline_metric_value: data.offline_metric?.value ?? 0,
    offline_metric_baseline: data.offline_metric?.baseline ?? 0,
    offline_metric_higher_is_better: data.offline_metric?.higher_is_better ?? false,
    calibration_ece: orNull(data.calibration_ece),
    slices_reported: data.slices !== undefined,
    slices: (data.slices ?? []).map(({ segment, value, baseline, higher_is_better }) => ({ segment, value, baseline, higher_is_better })),
  };
}

function incidentRow(base: Base, data: Partial<DataOf<'incident.opened'>>): Row {
  return {
    ...base,
    tier: orNull(data.tier),
    severity: orNull(data.severity),
    category: orNull(data.category),
    model_id: orNull(data.model_id),
    started_at: timeOrNull(data.started_at),
    detected_at: timeOrNull(data.detected_at),
  };
}

const withData = (base: Base, event: AnyEvent): Row => ({ ...base, data: JSON.stringify(event.data) });

/** Every event type's table and row; the compiler keeps it complete. Custom types are signals. */
const ROWS: { [T in EventType]: { table: KpiTable; row(base: Base, data: DataOf<T>, event: AnyEvent): Row } } = {
  'release.deployed': { table: 'release_events', row: releaseRow },
  'release.updated': { table: 'release_events', row: releaseRow },
  'release.rolled_back': { table: 'release_events', row: releaseRow },
  'incident.opened': { table: 'incident_events', row: incidentRow },
  'incident.updated': { table: 'incident_events', row: incidentRow },
  'incident.mitigated': { table: 'incident_events', row: incidentRow },
  'incident.resolved': { table: 'incident_events', row: incidentRow },
  'experiment.started': { table: 'experiment_events', row: (base, _data, event) => withData(base, event) },
  'experiment.readout': { table: 'experiment_events', row: (base, _data, event) => withData(base, event) },
  'experiment.decided': { table: 'experiment_events', row: (base, _data, event) => withData(base, event) },
  'serving.window': {
    table: 'serving_windows',
    row: (base, data) => ({ ...base, tier: data.tier, model_id: data.model_id, requests: data.requests, latency_p95_ms: data.latency_p95_ms, latency_p99_ms: orNull(data.latency_p99_ms), cost_usd: data.cost_usd }),
  },
  'dataset.arrived': {
    table: 'dataset_arrivals',
    row: (base, data) => ({ ...base, dataset: data.dataset, expected_at: clickhouseTime(data.expected_at), sla_minutes: orNull(data.sla_minutes) }),
  },
  'data.validated': {
    table: 'data_validations',
    row: (base, data) => ({ ...base, validation_id: base.entity_id, dataset: data.dataset, suite: data.suite, success: data.success, evaluated: data.evaluated, failed: data.failed }),
  },
  'survey.response': { table: 'signal_events', row: (base, _data, event) => withData(base, event) },
  'training.run_completed': { table: 'signal_events', row: (base, _data, event) => withData(base, event) },
  'alert.fired': { table: 'signal_events', row: (base, _data, event) => withData(base, event) },
  'alert.triaged': { table: 'signal_events', row: (base, _data, event) => withData(base, event) },
  'model.evaluated': { table: 'signal_events', row: (base, _data, event) => withData(base, event) },
  'workitem.closed': { table: 'signal_events', row: (base, _data, event) => withData(base, event) },
  'asset.reused': { table: 'signal_events', row: (base, _data, event) => withData(base, event) },
  'mentorship.recorded': { table: 'signal_events', row: (base, _data, event) => withData(base, event) },
};

/** The typed table of an event and its row there; `ingestedAt` is the chunk's (ClickHouse DateTime64 text). */
export function kpiRowOf(event: AnyEvent, origin: Origin, ingestedAt: string): { table: KpiTable; row: Row } {
  const base: Base = {
    entity_id: entityIdOf(event),
    source: event.source,
    id: event.id,
    type: event.type,
    time: clickhouseTime(event.time),
    ingested_at: ingestedAt,
    // Kafka offsets stay far below 2^53.
    offset: Number(origin.offset),
    team: teamOf(event),
  };
  const of = ROWS[event.type as EventType] as { table: KpiTable; row(base: Base, data: unknown, event: AnyEvent): Row } | undefined;
  return of ? { table: of.table, row: of.row(base, event.data, event) } : { table: 'signal_events', row: withData(base, event) };
}

/** Typed tables keep only their own columns (JSONEachRow into a table refuses unknown fields unless told). */
export const KPI_ROW_SETTINGS = { input_format_skip_unknown_fields: 1 } as const;
