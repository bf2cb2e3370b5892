import { entityIdOf, teamOf, type AnyEvent, type DataOf, type EventType } from '@kpi/events';
import { tsvField as text } from '@kpi/storage';
import { clickhouseTime, type Origin } from './rows.ts';

/**
 * The line each event adds to the typed table its KPIs read (migrations 011, 013): one table per
 * source of KPI rows, every event in exactly one. Built here, from the event ingestion has just
 * validated, and inserted with its `events` line; materialized views over `events` did this before,
 * for ~40 ms of CPU per insert whatever its size (7 views planned and run per insert). The lines
 * are TabSeparated, built straight from the event like `events`' own: an object per row, its JSON
 * text and ClickHouse parsing that JSON cost twice as much as the rest of the insert.
 * A fact an event does not report is NULL (or false with its `*_reported` flag false), as the KPIs
 * expect (SPEC §5: missing facts are left out, not guessed).
 */
export type KpiTable = 'release_events' | 'incident_events' | 'experiment_events' | 'serving_windows' | 'dataset_arrivals' | 'data_validations' | 'signal_events';

/** Columns every lifecycle table (sorted by entity) and `signal_events` start with, in line order. */
const ENTITY_COLUMNS = ['entity_id', 'source', 'id', 'type', 'time', 'ingested_at', 'offset', 'team'] as const;
/** Columns every table of samples (sorted by time) starts with. */
const SAMPLE_COLUMNS = ['time', 'source', 'id', 'ingested_at', 'team'] as const;

/** Each table's columns, in the order of its lines: the first ones of its kind, then its own. */
export const KPI_TABLE_COLUMNS: { readonly [T in KpiTable]: readonly string[] } = {
  release_events: [
    ...ENTITY_COLUMNS,
    ...['model_id', 'model_version', 'environment', 'tier', 'readiness_first_pass', 'reproducible'],
    ...['docs_reported', 'docs_model_card', 'docs_runbook', 'docs_readout', 'monitoring_reported', 'drift_enabled', 'drift_alerting', 'features'],
    ...['offline_metric_reported', 'offline_metric_value', 'offline_metric_baseline', 'offline_metric_higher_is_better', 'calibration_ece', 'slices_reported', 'slices'],
  ],
  incident_events: [...ENTITY_COLUMNS, 'tier', 'severity', 'category', 'model_id', 'started_at', 'detected_at'],
  experiment_events: [...ENTITY_COLUMNS, 'data'],
  signal_events: [...ENTITY_COLUMNS, 'data'],
  serving_windows: [...SAMPLE_COLUMNS, 'tier', 'model_id', 'requests', 'latency_p95_ms', 'latency_p99_ms', 'cost_usd'],
  dataset_arrivals: [...SAMPLE_COLUMNS, 'dataset', 'expected_at', 'sla_minutes'],
  data_validations: [...SAMPLE_COLUMNS, 'validation_id', 'dataset', 'suite', 'success', 'evaluated', 'failed'],
};

const NULL = '\\N';
const bool = (value: boolean) => (value ? 'true' : 'false');
const orNull = <T>(value: T | undefined | null, show: (value: T) => string): string => (value === undefined || value === null ? NULL : show(value));
const textOrNull = (value: string | undefined) => orNull(value, text);
const numberOrNull = (value: number | undefined) => orNull(value, String);
const boolOrNull = (value: boolean | undefined) => orNull(value, bool);
const timeOrNull = (value: string | undefined) => orNull(value, clickhouseTime);

const QUOTED_SPECIALS = /[\\'\t\n\r\0]/g;
const QUOTED_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };
/**
 * A string inside an array or tuple: ClickHouse reads those fields of a TabSeparated line in their
 * quoted form ('...', backslash escapes), without unescaping the field first.
 */
const quoted = (value: string) => `'${value.replace(QUOTED_SPECIALS, (c) => QUOTED_ESCAPES[c]!)}'`;
/** An Array(Tuple(...)) field: each element's fields already shown as quoted text. */
const tuples = <T>(items: readonly T[], fields: (item: T) => string[]) => `[${items.map((item) => `(${fields(item).join(',')})`).join(',')}]`;

/** What a table's own columns hold of an event, TabSeparated; `json` is the event's data as JSON text. */
type Fields<T extends EventType> = (data: DataOf<T>, json: string) => string;

/** Releases and incidents: every event of the entity reports some of the facts of its first. */
function releaseFields(data: Partial<DataOf<'release.deployed'>>): string {
  return [
    text(data.model_id ?? ''),
    text(data.model_version ?? ''),
    text(data.environment ?? ''),
    numberOrNull(data.tier),
    boolOrNull(data.readiness_first_pass),
    boolOrNull(data.reproducible),
    bool(data.docs !== undefined),
    bool(data.docs?.model_card ?? false),
    bool(data.docs?.runbook ?? false),
    bool(data.docs?.readout ?? false),
    bool(data.monitoring !== undefined),
    bool(data.monitoring?.drift_enabled ?? false),
    bool(data.monitoring?.drift_alerting ?? false),
    tuples(data.monitoring?.features ?? [], ({ name, critical, drift_monitored }) => [quoted(name), bool(critical), bool(drift_monitored)]),
    bool(data.offline_metric !== undefined),
    String(data.offline_metric?.value ?? 0),
    String(data.offline_metric?.baseline ?? 0),
    bool(data.offline_metric?.higher_is_better ?? false),
    numberOrNull(data.calibration_ece),
    bool(data.slices !== undefined),
    tuples(data.slices ?? [], ({ segment, value, baseline, higher_is_better }) => [quoted(segment), String(value), String(baseline), bool(higher_is_better)]),
  ].join('\t');
}

function incidentFields(data: Partial<DataOf<'incident.opened'>>): string {
  return `${numberOrNull(data.tier)}\t${textOrNull(data.severity)}\t${textOrNull(data.category)}\t${textOrNull(data.model_id)}\t${timeOrNull(data.started_at)}\t${timeOrNull(data.detected_at)}`;
}

const jsonFields = (_data: unknown, json: string) => text(json);

/** Every event type's table and fields; the compiler keeps it complete. Custom types are signals. */
const TABLE_OF: { [T in EventType]: { table: KpiTable; fields: Fields<T> } } = {
  'release.deployed': { table: 'release_events', fields: releaseFields },
  'release.updated': { table: 'release_events', fields: releaseFields },
  'release.rolled_back': { table: 'release_events', fields: releaseFields },
  'incident.opened': { table: 'incident_events', fields: incidentFields },
  'incident.updated': { table: 'incident_events', fields: incidentFields },
  'incident.mitigated': { table: 'incident_events', fields: incidentFields },
  'incident.resolved': { table: 'incident_events', fields: incidentFields },
  'experiment.started': { table: 'experiment_events', fields: jsonFields },
  'experiment.readout': { table: 'experiment_events', fields: jsonFields },
  'experiment.decided': { table: 'experiment_events', fields: jsonFields },
  'serving.window': {
    table: 'serving_windows',
    fields: (data) => `${data.tier}\t${text(data.model_id)}\t${data.requests}\t${data.latency_p95_ms}\t${numberOrNull(data.latency_p99_ms)}\t${data.cost_usd}`,
  },
  'dataset.arrived': { table: 'dataset_arrivals', fields: (data) => `${text(data.dataset)}\t${clickhouseTime(data.expected_at)}\t${numberOrNull(data.sla_minutes)}` },
  'data.validated': {
    table: 'data_validations',
    fields: (data) => `${text(data.validation_id)}\t${text(data.dataset)}\t${text(data.suite)}\t${bool(data.success)}\t${data.evaluated}\t${data.failed}`,
  },
  'survey.response': { table: 'signal_events', fields: jsonFields },
  'training.run_completed': { table: 'signal_events', fields: jsonFields },
  'alert.fired': { table: 'signal_events', fields: jsonFields },
  'alert.triaged': { table: 'signal_events', fields: jsonFields },
  'model.evaluated': { table: 'signal_events', fields: jsonFields },
  'workitem.closed': { table: 'signal_events', fields: jsonFields },
  'asset.reused': { table: 'signal_events', fields: jsonFields },
  'mentorship.recorded': { table: 'signal_events', fields: jsonFields },
};

const SIGNAL = { table: 'signal_events', fields: jsonFields } as const;

/**
 * The typed table of an event and its line there (KPI_TABLE_COLUMNS); `json` is the event's data
 * as JSON text (made once for both of its lines), `ingestedAt` the chunk's (ClickHouse DateTime64 text).
 */
export function kpiLineOf(event: AnyEvent, origin: Origin, json: string, ingestedAt: string): { table: KpiTable; line: string } {
  const { table, fields } = (TABLE_OF[event.type as EventType] as { table: KpiTable; fields: (data: unknown, json: string) => string } | undefined) ?? SIGNAL;
  const time = clickhouseTime(event.time);
  const first =
    KPI_TABLE_COLUMNS[table][0] === 'time'
      ? `${time}\t${text(event.source)}\t${text(event.id)}\t${ingestedAt}\t${text(teamOf(event))}`
      : `${text(entityIdOf(event))}\t${text(event.source)}\t${text(event.id)}\t${text(event.type)}\t${time}\t${ingestedAt}\t${origin.offset}\t${text(teamOf(event))}`;
  return { table, line: `${first}\t${fields(event.data, json)}\n` };
}
