import type { Storage } from '@kpi/storage';
import { REPORT_FORMATS, type REPORT_STATUSES, type REPORT_TRIGGERS } from '@kpi/api-contract/reports';
import type { Report } from './model.ts';

/** The `reports` and `report_files` tables (migration 005_reports): report states and rendered files. */

// The formats, statuses and triggers are the API's words (its contract); the tables store them.
export { REPORT_FORMATS, REPORT_STATUSES, REPORT_TRIGGERS } from '@kpi/api-contract/reports';
export type ReportFormat = (typeof REPORT_FORMATS)[number];
export type ReportStatus = (typeof REPORT_STATUSES)[number];
export type ReportTrigger = (typeof REPORT_TRIGGERS)[number];

export interface ReportState {
  id: string;
  quarter: string;
  team: string;
  status: ReportStatus;
  trigger: ReportTrigger;
  requested_at: string;
  /** The content that is readable now ('' before the first generation finished). */
  content_hash: string;
  generated_at: string | null;
  has_data: boolean;
  summary: Report['summary'] | null;
  formats: ReportFormat[];
  error: string;
}

interface Row {
  id: string;
  quarter: string;
  team: string;
  status: string;
  trigger: string;
  requested_at: string;
  content_hash: string;
  generated_at: string | null;
  has_data: number;
  summary: string;
  formats: string[];
  error: string;
}

const chTime = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');
const toIso = (value: string) => new Date(/^\d{4}-\d\d-\d\d \d/.test(value) ? `${value.replace(' ', 'T')}Z` : value).toISOString();

let lastStamp = 0;
/** Microseconds, strictly increasing within the process: of two state changes, the later one wins. */
function stamp(): string {
  const micros = Math.max(Date.now() * 1000, lastStamp + 1);
  lastStamp = micros;
  const date = new Date(Math.floor(micros / 1000));
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

const fromRow = (row: Row): ReportState => ({
  id: row.id,
  quarter: row.quarter,
  team: row.team,
  status: row.status as ReportStatus,
  trigger: row.trigger as ReportTrigger,
  requested_at: toIso(row.requested_at),
  content_hash: row.content_hash,
  generated_at: row.generated_at ? toIso(row.generated_at) : null,
  has_data: row.has_data === 1,
  summary: row.summary ? (JSON.parse(row.summary) as Report['summary']) : null,
  formats: row.formats as ReportFormat[],
  error: row.error,
});

async function writeState(storage: Storage, state: ReportState): Promise<ReportState> {
  await storage.insert('reports', [
    {
      id: state.id,
      quarter: state.quarter,
      team: state.team,
      status: state.status,
      trigger: state.trigger,
      requested_at: chTime(new Date(state.requested_at)),
      content_hash: state.content_hash,
      generated_at: state.generated_at ? chTime(new Date(state.generated_at)) : null,
      has_data: state.has_data ? 1 : 0,
      summary: state.summary ? JSON.stringify(state.summary) : '',
      formats: state.formats,
      error: state.error,
      updated_at: stamp(),
    },
  ]);
  return state;
}

const COLUMNS = 'id, quarter, team, status, trigger, requested_at, content_hash, generated_at, has_data, summary, formats, error';

export async function getReport(storage: Storage, id: string): Promise<ReportState | undefined> {
  const [row] = await storage.query<Row>(`SELECT ${COLUMNS} FROM {db:Identifier}.reports FINAL WHERE id = {id:String}`, { id });
  return row ? fromRow(row) : undefined;
}

export async function getReports(storage: Storage, ids: string[]): Promise<ReportState[]> {
  if (ids.length === 0) return [];
  const rows = await storage.query<Row>(`SELECT ${COLUMNS} FROM {db:Identifier}.reports FINAL WHERE id IN {ids:Array(String)}`, { ids });
  return rows.map(fromRow);
}

/** Reports, newest quarter first, the organisation before its teams. */
/** Reports, newest period first; `teams`: only those teams' (a principal's team scopes), none of the organisation's. */
export async function listReports(storage: Storage, filter: { quarter?: string; team?: string; teams?: readonly string[]; limit: number }): Promise<ReportState[]> {
  const rows = await storage.query<Row>(
    `SELECT ${COLUMNS} FROM {db:Identifier}.reports FINAL
     WHERE ({quarter:String} = '' OR quarter = {quarter:String}) AND ({team:String} = '' OR team = {team:String})
       AND ({every_team:UInt8} = 1 OR has({teams:Array(String)}, team))
     ORDER BY quarter DESC, team != 'all', team LIMIT {limit:UInt32}`,
    { quarter: filter.quarter ?? '', team: filter.team ?? '', every_team: filter.teams === undefined ? 1 : 0, teams: filter.teams ?? [], limit: filter.limit },
  );
  return rows.map(fromRow);
}

/** A report is wanted (again): queued, the content generated before stays readable. */
export async function markQueued(storage: Storage, request: { id: string; quarter: string; team: string; trigger: ReportTrigger }, now = new Date()): Promise<ReportState> {
  const existing = await getReport(storage, request.id);
  return writeState(storage, {
    id: request.id,
    quarter: request.quarter,
    team: request.team,
    status: 'queued',
    trigger: request.trigger,
    requested_at: now.toISOString(),
    content_hash: existing?.content_hash ?? '',
    generated_at: existing?.generated_at ?? null,
    has_data: existing?.has_data ?? false,
    summary: existing?.summary ?? null,
    formats: existing?.formats ?? [],
    error: '',
  });
}

export async function markStatus(storage: Storage, request: { id: string; quarter: string; team: string; trigger: ReportTrigger }, status: 'generating' | 'failed', error = ''): Promise<ReportState> {
  const existing = await getReport(storage, request.id);
  return writeState(storage, {
    id: request.id,
    quarter: request.quarter,
    team: request.team,
    status,
    trigger: existing?.trigger ?? request.trigger,
    requested_at: existing?.requested_at ?? new Date().toISOString(),
    content_hash: existing?.content_hash ?? '',
    generated_at: existing?.generated_at ?? null,
    has_data: existing?.has_data ?? false,
    summary: existing?.summary ?? null,
    formats: existing?.formats ?? [],
    error,
  });
}

/** Stores the rendered files of a report (the PDF as base64), then points the report at them. */
export async function saveReport(storage: Storage, report: Report, files: Partial<Record<ReportFormat, string | Buffer>>, trigger: ReportTrigger, error = ''): Promise<ReportState> {
  const generatedAt = chTime(new Date(report.generated_at));
  const formats = REPORT_FORMATS.filter((format) => files[format] !== undefined);
  await storage.insert(
    'report_files',
    formats.map((format) => {
      const body = files[format]!;
      return { id: report.id, content_hash: report.content_hash, format, body: typeof body === 'string' ? body : body.toString('base64'), generated_at: generatedAt, updated_at: stamp() };
    }),
  );
  const existing = await getReport(storage, report.id);
  return writeState(storage, {
    id: report.id,
    quarter: report.quarter,
    team: report.team,
    status: 'ready',
    trigger: existing?.trigger ?? trigger,
    requested_at: existing?.requested_at ?? report.generated_at,
    content_hash: report.content_hash,
    generated_at: report.generated_at,
    has_data: report.has_data,
    summary: report.summary,
    formats,
    error,
  });
}

/** Adds a file (a PDF rendered later) to the content a report points at. */
export async function addReportFile(storage: Storage, state: ReportState, format: ReportFormat, body: string | Buffer): Promise<void> {
  await storage.insert('report_files', [
    {
      id: state.id,
      content_hash: state.content_hash,
      format,
      body: typeof body === 'string' ? body : body.toString('base64'),
      generated_at: chTime(new Date(state.generated_at ?? Date.now())),
      updated_at: stamp(),
    },
  ]);
  const latest = (await getReport(storage, state.id)) ?? state;
  if (latest.content_hash === state.content_hash && !latest.formats.includes(format)) {
    await writeState(storage, { ...latest, formats: REPORT_FORMATS.filter((candidate) => candidate === format || latest.formats.includes(candidate)), error: '' });
  }
}

/** A rendered file of a report's current content: text, or bytes for the PDF. */
export async function readReportFile(storage: Storage, state: ReportState, format: ReportFormat): Promise<string | Buffer | undefined> {
  if (!state.content_hash) return undefined;
  const [row] = await storage.query<{ body: string }>(
    'SELECT body FROM {db:Identifier}.report_files FINAL WHERE id = {id:String} AND content_hash = {hash:String} AND format = {format:String}',
    { id: state.id, hash: state.content_hash, format },
  );
  if (!row) return undefined;
  return format === 'pdf' ? Buffer.from(row.body, 'base64') : row.body;
}
