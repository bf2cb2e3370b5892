import { z } from 'zod';
import { badRequest, ignored, isObject, str, type Mapped } from './connector.ts';
import { draftEvent, type DraftEvent } from './events.ts';
import { category, duration, httpUrl, severity, team, tier } from './schema.ts';

export const servicenowConfig = z.strictObject({
  instance_url: httpUrl,
  user: z.string().min(1, 'expected the user the Table API is read with'),
  password: z.string().min(1, 'expected its password'),
  poll_interval: duration.default(60_000),
  /** Assignment group (display name) -> team; incidents of other groups are skipped. */
  assignment_groups: z.record(z.string().min(1), team).default({}),
  /** Priority value ("1".."5") -> severity. */
  severity: z.record(z.string().min(1), severity).default({ '1': 'sev0', '2': 'sev1', '3': 'sev2', '4': 'sev3', '5': 'sev3' }),
  default_tier: tier.default(2),
});
export type ServicenowConfig = z.infer<typeof servicenowConfig>;

/** Records per page (`sysparm_limit`): a page shorter than this is the last one. */
export const SERVICENOW_PAGE_SIZE = 100;
/** Where a first poll starts: the whole incident history. */
export const SERVICENOW_EPOCH = '1970-01-01 00:00:00';

/**
 * The Table API request of one page (SPEC §8b): incidents updated at or after `cursor`
 * (`YYYY-MM-DD HH:MM:SS`, UTC), oldest first, every field as `{value, display_value}`.
 */
export function incidentPageUrl(config: ServicenowConfig, cursor: string, offset: number): string {
  const params: [string, string][] = [
    ['sysparm_query', `sys_updated_on>=${cursor}^ORDERBYsys_updated_on`],
    ['sysparm_display_value', 'all'],
    ['sysparm_exclude_reference_link', 'true'],
    ['sysparm_limit', String(SERVICENOW_PAGE_SIZE)],
    ['sysparm_offset', String(offset)],
  ];
  return `${config.instance_url}/api/now/table/incident?${params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&')}`;
}

type TableRecord = Record<string, unknown>;
/** A field of a record read with `sysparm_display_value=all`: `{value, display_value}` (a bare string from instances that send one). */
const valueOf = (record: TableRecord, name: string) => (isObject(record[name]) ? str(record[name].value) : str(record[name]));
const displayOf = (record: TableRecord, name: string) => (isObject(record[name]) ? str(record[name].display_value) : str(record[name]));
/** The Table API's `YYYY-MM-DD HH:MM:SS` (UTC in `value`) as RFC 3339; undefined otherwise. */
export function servicenowTime(value: string | undefined): string | undefined {
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)$/.exec(value ?? '');
  if (!match) return undefined;
  const instant = Date.parse(`${match[1]}T${match[2]}Z`);
  return Number.isNaN(instant) ? undefined : new Date(instant).toISOString();
}

const recordsOf = (body: unknown): TableRecord[] | undefined => (isObject(body) && Array.isArray(body.result) ? body.result.filter(isObject) : undefined);

/** Where the page after this one starts (keyset paging): see nextPage. */
export interface PagePosition {
  cursor: string;
  offset: number;
}

/**
 * The position after a page: the cursor moves to the page's last `sys_updated_on`, and the offset
 * skips the records at exactly that time already read. Paging by offset alone under a fixed
 * cursor would lose a record whenever one read earlier is updated meanwhile (it moves to the end,
 * and every later record one place up); past the cursor nothing moves.
 */
export function nextPage(position: PagePosition, body: unknown): PagePosition {
  const times = (recordsOf(body) ?? []).map((record) => valueOf(record, 'sys_updated_on') ?? '');
  const last = times.at(-1);
  if (last === undefined || last === '') return position;
  const atLast = times.filter((time) => time === last).length;
  return { cursor: last, offset: last === position.cursor ? position.offset + atLast : atLast };
}

/** Whether a page is the last of a poll (shorter than the limit). */
export const isLastPage = (body: unknown) => (recordsOf(body)?.length ?? 0) < SERVICENOW_PAGE_SIZE;

/** What an incident record says, or why it cannot be mapped. */
function readRecord(record: TableRecord, config: ServicenowConfig) {
  const number = valueOf(record, 'number');
  if (!number) return 'a record without a number';
  const group = displayOf(record, 'assignment_group');
  const team = config.assignment_groups[group ?? ''];
  if (!team) return `${number}: assignment group ${JSON.stringify(group ?? null)} is not in servicenow.assignment_groups`;
  const priority = valueOf(record, 'priority');
  const sev = config.severity[priority ?? ''];
  if (!sev) return `${number}: priority ${JSON.stringify(priority ?? null)} is not in servicenow.severity`;
  const opened = servicenowTime(valueOf(record, 'opened_at'));
  if (!opened) return `${number}: opened_at ${JSON.stringify(valueOf(record, 'opened_at') ?? null)} is not a Table API time`;
  const recordCategory = category.safeParse(valueOf(record, 'category'));
  return { number, team, severity: sev, category: recordCategory.success ? recordCategory.data : 'other', opened, resolved: servicenowTime(valueOf(record, 'resolved_at')) };
}

/**
 * One Table API page of incidents (SPEC §8b): each record of a mapped assignment group is an
 * `incident.opened` (detected when opened; severity from the priority value, category when it is
 * one of ours, tier `default_tier`) plus an `incident.resolved` once `resolved_at` is set. A record
 * read again maps to the same event ids (its `incident.opened` then carries its current priority).
 * Records of other groups, or without a mapped priority, are skipped and named.
 */
export function mapServicenowPage(body: unknown, config: ServicenowConfig): Mapped {
  const records = recordsOf(body);
  if (!records) return badRequest('a Table API page is {"result": [records]}');
  if (records.length === 0) return ignored('no incident updated since the cursor');
  const events: DraftEvent[] = [];
  const skipped: string[] = [];
  for (const record of records) {
    const read = readRecord(record, config);
    if (typeof read === 'string') {
      skipped.push(read);
      continue;
    }
    const incidentId = `servicenow:${read.number}`;
    const opened = { incident_id: incidentId, team: read.team, tier: config.default_tier, severity: read.severity, category: read.category, detected_at: read.opened };
    events.push(draftEvent('incident.opened', opened, { source: 'servicenow', id: `${read.number}:opened`, time: read.opened }));
    if (read.resolved) events.push(draftEvent('incident.resolved', { incident_id: incidentId }, { source: 'servicenow', id: `${read.number}:resolved:${read.resolved}`, time: read.resolved }));
  }
  return { kind: 'events', events, skipped };
}
