import { createHash } from 'node:crypto';
import { join, param, raw, sql, type Sql, type Storage } from '@kpi/storage';
import { chTime } from '../periods.ts';
import type { Source, TimeRange } from '../source.ts';
import type { KpiDefinition } from '../definition.ts';
import { aggregateCall, aggregatesOf, isSqlKpi, renderAggregate, type SqlKpi } from './measures.ts';
import type { Granularity } from '../periods.ts';
import { DAY_TEXT, spanOf, teamFilter, type PeriodWindow } from './scopes.ts';

/**
 * Partial aggregation states (ClickHouse -State aggregates) of anchored KPIs, stored in
 * `kpi_states`: one row per (day, team, tier) and one per (month, team, tier). A recompute
 * refreshes the states of the days an event touched from their rows, then the states of their
 * months from their days, then merges what every period needs: a week or a month its days, a
 * quarter or a year its months (12 small rows per team and tier, never a rescan of the year's
 * events). So a recompute costs what changed (the touched days' rows), whatever the history.
 */

/** The KPIs of one source and anchor, whose states one query computes, under the fingerprint of their definition. */
export interface StateGroup {
  source: Source;
  anchor: string;
  kpis: SqlKpi[];
  /** The aggregate columns of every KPI, named `k<index>_<name>` (what evaluationOf reads back). */
  columns: { name: string; aggregate: ReturnType<typeof aggregatesOf>[number]['aggregate'] }[];
  /** Identifies the rows and aggregates the states come from: states of another definition are never merged. */
  fingerprint: string;
}

/** Version of how states are stored: a change makes every group build its states again. */
const STATES_FORMAT = 1;

export function stateGroupOf(kpis: SqlKpi[]): StateGroup {
  const first = kpis[0]!;
  const columns = kpis.flatMap((kpi, index) => aggregatesOf(kpi, `k${index}`));
  const definition = [STATES_FORMAT, first.source.name, first.anchor, canonical(first.source.rows()), ...columns.map((column) => canonical(renderAggregate(column, 'state')))];
  return { source: first.source, anchor: first.anchor, kpis, columns, fingerprint: createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 32) };
}

/** The state groups of some KPIs: the anchored SQL ones, by source and anchor (the groups computeValues merges). */
export function stateGroupsOf(kpis: readonly KpiDefinition[]): StateGroup[] {
  const groups = new Map<string, SqlKpi[]>();
  for (const kpi of kpis) {
    if (!isSqlKpi(kpi) || kpi.anchor === 'period_end') continue;
    const key = `${kpi.source.name}|${kpi.anchor}`;
    groups.set(key, [...(groups.get(key) ?? []), kpi]);
  }
  return [...groups.values()].map(stateGroupOf);
}

/** The text of a query with its parameters' values in place of their (per-process) names. */
function canonical(query: Sql): string {
  return query.text.replace(/\{(\w+):([^}]+)\}/g, (whole, name: string, type: string) => (name in query.params ? `{${type}=${JSON.stringify(query.params[name])}}` : whole));
}

const stateColumns = (group: StateGroup) => join(group.columns.map((column) => renderAggregate(column, 'state')), ',\n  ');

/**
 * One partial state per (day of the anchor, team, tier), computed from the rows anchored in
 * `ranges` (all without), of `teams` (all without): day, team, tier, rows, state_<column>...
 */
export function dailyStates(group: StateGroup, ranges: readonly TimeRange[] | undefined, teams: readonly string[] | undefined): Sql {
  const a = raw(group.anchor);
  const anchored = ranges
    ? join(
        ranges.map((range) => sql`(${a} >= ${param(chTime(range.from), "DateTime64(3, 'UTC')")} AND ${a} < ${param(chTime(range.to), "DateTime64(3, 'UTC')")})`),
        ' OR ',
      )
    : sql`isNotNull(${a})`;
  return sql`
    SELECT toDate(${a}, 'UTC') AS day, toString(team) AS team, toUInt8(tier) AS tier, count() AS rows, ${stateColumns(group)}
    FROM (${group.source.rows(ranges)}) AS source_rows
    WHERE (${anchored}) AND ${teamFilter(teams)}
    GROUP BY day, team, tier`;
}

/** Day, week and month values merge day states; quarter and year values merge month states. */
const MONTHLY: readonly Granularity[] = ['quarter', 'year'];

/**
 * The stored states a computation of `windows` merges, as dailyStates gives them (`day` is the
 * row's start), with their `grain`; only rows with data. A quarter or a year merges the month
 * states of its months, except those of `monthsFromDays` ('YYYY-MM-01'), whose day states it
 * merges instead (the months a recompute just changed, before their month states are refreshed).
 */
function storedStates(group: StateGroup, types: Record<string, string>, windows: readonly PeriodWindow[], teams: readonly string[] | undefined, monthsFromDays: readonly string[]): Sql {
  const states = join(
    group.columns.map((column) => sql`CAST(states[${param(column.name, 'String')}], ${param(types[column.name], 'String')}) AS ${raw(`state_${column.name}`)}`),
    ',\n  ',
  );
  const spanOfGrain = (monthly: boolean) => {
    const of = windows.filter((window) => MONTHLY.includes(window.granularity) === monthly);
    return of.length === 0 ? undefined : spanOf(of);
  };
  const inSpan = (span: TimeRange | undefined) => (span ? sql`start >= ${param(DAY_TEXT(span.from), 'Date')} AND start < ${param(DAY_TEXT(span.to), 'Date')}` : raw('0'));
  const [daily, monthly] = [spanOfGrain(false), spanOfGrain(true)];
  const months = param(monthsFromDays, 'Array(Date)');
  return sql`
    SELECT start AS day, grain, team, tier, rows, ${states}
    FROM (
      SELECT grain, start, toString(team) AS team, tier, rows, states
      FROM {db:Identifier}.kpi_states FINAL
      WHERE fingerprint = ${param(group.fingerprint, 'String')}
        AND ((grain = 'day' AND (${inSpan(daily)} OR (${inSpan(monthly)} AND has(${months}, toStartOfMonth(start)))))
          OR (grain = 'month' AND ${inSpan(monthly)} AND NOT has(${months}, start)))
        AND ${teamFilter(teams)}
    )
    WHERE rows > 0`;
}

const stateMap = (group: StateGroup, from: string) => sql`map(${join(
  group.columns.map((column) => sql`${param(column.name, 'String')}, CAST(${raw(`${from}.state_${column.name}`)}, 'String')`),
  ', ',
)})`;

const DAY = 86_400_000;

/** Days ('YYYY-MM-DD') as the fewest time ranges: a run of consecutive days is one range read. */
function contiguous(days: readonly string[]): TimeRange[] {
  const ranges: TimeRange[] = [];
  for (const start of days.map((day) => Date.parse(`${day}T00:00:00Z`)).sort((a, b) => a - b)) {
    const last = ranges.at(-1);
    if (last && last.to.getTime() === start) last.to = new Date(start + DAY);
    else ranges.push({ from: new Date(start), to: new Date(start + DAY) });
  }
  return ranges;
}

const stamp = (instant: Date) => param(chTime(instant), "DateTime64(6, 'UTC')");

const insertStates = sql`INSERT INTO {db:Identifier}.kpi_states (fingerprint, grain, start, team, tier, rows, states, computed_at)`;

/** (team, start) pairs with every tier of the group: the rows a refresh writes, empty states where nothing is left. */
function grid(group: StateGroup, pairs: readonly (readonly [string, string])[]): Sql {
  const tiers = group.source.tiered ? [0, 1, 2, 3] : [0];
  return sql`
    SELECT pair.1 AS team, pair.2 AS start, tier
    FROM (SELECT arrayJoin(arrayZip(${param(
      pairs.map(([team]) => team),
      'Array(String)',
    )}, ${param(
      pairs.map(([, start]) => start),
      'Array(Date)',
    )})) AS pair)
    ARRAY JOIN ${param(tiers, 'Array(UInt8)')} AS tier`;
}

/** The month states of the stored day states of [from, to) (whole months), for `teams` (all without). */
function monthsOfDays(group: StateGroup, types: Record<string, string>, span: TimeRange, teams: readonly string[] | undefined): Sql {
  const merged = join(
    group.columns.map((column) => {
      const { fn, params } = column.aggregate;
      return sql`${raw(`${fn}MergeState`)}${raw(params ? `(${params})` : '')}(CAST(states[${param(column.name, 'String')}], ${param(types[column.name], 'String')})) AS ${raw(`state_${column.name}`)}`;
    }),
    ',\n  ',
  );
  return sql`
    SELECT toStartOfMonth(start) AS month, toString(team) AS team, tier, sum(rows) AS rows, ${merged}
    FROM {db:Identifier}.kpi_states FINAL
    WHERE fingerprint = ${param(group.fingerprint, 'String')} AND grain = 'day' AND start >= ${param(DAY_TEXT(span.from), 'Date')} AND start < ${param(DAY_TEXT(span.to), 'Date')}
      AND ${teamFilter(teams)}
    GROUP BY month, team, tier`;
}

const monthOf = (day: string) => `${day.slice(0, 7)}-01`;
const nextMonth = (month: string) => new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1)).toISOString().slice(0, 10);

/** The (team, day) pairs of `teamDays`. */
const pairsOf = (teamDays: ReadonlyMap<string, readonly string[]>) => [...teamDays].flatMap(([team, days]) => days.map((day) => [team, day] as const));

/** The months ('YYYY-MM-01') of some days ('YYYY-MM-DD'). */
export const monthsOf = (days: Iterable<string>) => [...new Set([...days].map(monthOf))].sort();

/**
 * Recomputes and stores the states of the given days of each team (a team's days as 'YYYY-MM-DD')
 * from the rows as they are now. A (day, team, tier) left without rows gets empty states, so what
 * an entity moved out of is emptied too. Their months' states are then stale until
 * refreshMonthStates: a computation meanwhile merges those months' days (`monthsFromDays`).
 */
export async function refreshDayStates(storage: Storage, group: StateGroup, teamDays: ReadonlyMap<string, readonly string[]>, computedAt: Date): Promise<void> {
  const pairs = pairsOf(teamDays);
  if (pairs.length === 0) return;
  await ensureStates(storage, group, computedAt);
  await storage.command(sql`
    ${insertStates}
    SELECT ${param(group.fingerprint, 'String')}, 'day', grid.start, grid.team, grid.tier, s.rows, ${stateMap(group, 's')}, ${stamp(computedAt)}
    FROM (${grid(group, pairs)}) AS grid
    LEFT JOIN (${dailyStates(group, contiguous([...new Set(pairs.map(([, day]) => day))]), [...teamDays.keys()])}) AS s ON s.day = grid.start AND s.team = grid.team AND s.tier = grid.tier`);
}

/**
 * Stores the states of the months of the given days of each team, merged from their stored day
 * states; not those of the month of `computedAt`: a computation merges an open month from its
 * days (statesFor), and its state is stored once it has ended (refreshEndedMonthStates).
 */
export async function refreshMonthStates(storage: Storage, group: StateGroup, teamDays: ReadonlyMap<string, readonly string[]>, computedAt: Date): Promise<void> {
  const current = monthOf(DAY_TEXT(computedAt));
  const pairs = pairsOf(teamDays).filter(([, day]) => monthOf(day) !== current);
  if (pairs.length === 0) return;
  const types = await ensureStates(storage, group, computedAt);
  const months = [...new Map(pairs.map(([team, day]) => [`${team}|${monthOf(day)}`, [team, monthOf(day)] as const])).values()];
  const starts = months.map(([, month]) => month).sort();
  await storage.command(sql`
    ${insertStates}
    SELECT ${param(group.fingerprint, 'String')}, 'month', grid.start, grid.team, grid.tier, s.rows, ${stateMap(group, 's')}, ${stamp(computedAt)}
    FROM (${grid(group, months)}) AS grid
    LEFT JOIN (${monthsOfDays(group, types, { from: new Date(`${starts[0]}T00:00:00Z`), to: new Date(`${nextMonth(starts.at(-1)!)}T00:00:00Z`) }, [...teamDays.keys()])}) AS s
      ON s.month = grid.start AND s.team = grid.team AND s.tier = grid.tier`);
}

/**
 * Stores the states of the two months before the one of `now`, for `teams`, from their day
 * states: a month stops being merged from its days a month after it ended (statesFor), by which
 * time this has run (the worker's periodic refresh). Stamped with the end of each month, so that
 * a month state a recompute stored since (a late event) is never replaced by one read before it.
 */
export async function refreshEndedMonthStates(storage: Storage, group: StateGroup, teams: readonly string[], now: Date): Promise<void> {
  const previous = monthBefore(monthOf(DAY_TEXT(now)));
  for (const month of [monthBefore(previous), previous]) {
    await refreshMonthStates(storage, group, new Map(teams.map((team) => [team, [month]])), new Date(`${nextMonth(month)}T00:00:00Z`));
  }
}

/**
 * The months ('YYYY-MM-01') a quarter or a year merges from their day states whatever their month
 * states: the month of `now` and the one before (see refreshMonthStates, refreshEndedMonthStates).
 */
export function openMonths(now: Date): string[] {
  const current = monthOf(DAY_TEXT(now));
  return [monthBefore(current), current];
}

const monthBefore = (month: string) => new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 2, 1)).toISOString().slice(0, 10);

/**
 * Builds the states of every day from all the rows, then of every month from its days, replacing
 * whatever was stored under the group's fingerprint, and records the build with the states'
 * types (what merging them needs).
 */
export async function buildStates(storage: Storage, group: StateGroup, computedAt: Date): Promise<Record<string, string>> {
  const fingerprint = param(group.fingerprint, 'String');
  const [types] = await storage.query<Record<string, string>>(sql`
    SELECT ${join(
      group.columns.map((column) => sql`toTypeName(${aggregateCall(column, 'state')}) AS ${raw(column.name)}`),
      ', ',
    )}
    FROM (${group.source.rows([])}) AS source_rows`);
  await storage.command(sql`
    ${insertStates}
    SELECT ${fingerprint}, 'day', day, team, tier, rows, ${stateMap(group, 'daily')}, ${stamp(computedAt)}
    FROM (${dailyStates(group, undefined, undefined)}) AS daily`);
  // Days and months the rows no longer have (the build read everything there is as of computedAt)
  // are emptied: rows 0 and empty states, which every read skips. Stamped just before the build,
  // so that the month states stored next replace theirs. (A DELETE, a mutation of every part of
  // the table, took 0.5 to 1.1 s per group, most of a rebuild.)
  const emptied = join(
    group.columns.map((column) => sql`${param(column.name, 'String')}, CAST(defaultValueOfTypeName(${param(types![column.name], 'String')}), 'String')`),
    ', ',
  );
  await storage.command(sql`
    ${insertStates}
    SELECT fingerprint, grain, start, team, tier, 0, map(${emptied}), ${stamp(new Date(computedAt.getTime() - 1))}
    FROM {db:Identifier}.kpi_states FINAL
    WHERE fingerprint = ${fingerprint} AND computed_at < ${stamp(computedAt)} AND rows > 0`);
  await storage.command(sql`
    ${insertStates}
    SELECT ${fingerprint}, 'month', month, team, tier, rows, ${stateMap(group, 'monthly')}, ${stamp(computedAt)}
    FROM (${monthsOfDays(group, types!, { from: new Date('1970-01-01T00:00:00Z'), to: new Date('2200-01-01T00:00:00Z') }, undefined)}) AS monthly`);
  await storage.command(sql`
    INSERT INTO {db:Identifier}.kpi_state_builds (fingerprint, types, built_at)
    VALUES (${fingerprint}, ${param(types, 'Map(String, String)')}, ${stamp(computedAt)})`);
  return types!;
}

/** The types of a group's stored states, its states built first if they never were (a new KPI, a new definition). */
const built = new Map<string, Promise<Record<string, string>>>();
export function ensureStates(storage: Storage, group: StateGroup, now: Date): Promise<Record<string, string>> {
  const key = `${storage.database}|${group.fingerprint}`;
  let types = built.get(key);
  if (!types) {
    types = (async () => {
      const [row] = await storage.query<{ types: Record<string, string> }>(sql`SELECT types FROM {db:Identifier}.kpi_state_builds FINAL WHERE fingerprint = ${param(group.fingerprint, 'String')}`);
      return row?.types ?? buildStates(storage, group, now);
    })();
    built.set(key, types);
    types.catch(() => built.delete(key));
  }
  return types;
}

/** Forgets which states this process saw built (a test or tool that dropped them). */
export function forgetBuiltStates(): void {
  built.clear();
}

/**
 * The partial states a value computation merges for `windows` and `teams`, and which of them go
 * to which window: day states computed from the rows now (`rows`: exact at this instant, what a
 * breakdown shows), or the stored day and month states (`stored`: what recomputes keep current,
 * see refreshDayStates; the quarters and years of `monthsFromDays` and of the open months merge
 * those months' days). Each
 * row has `day` (its start) and `state_<column>`s.
 */
export async function statesFor(
  storage: Storage,
  group: StateGroup,
  windows: readonly PeriodWindow[],
  teams: readonly string[] | undefined,
  from: 'rows' | 'stored',
  now: Date,
  monthsFromDays: readonly string[] = [],
): Promise<{ rows: Sql; inWindow: Sql }> {
  const inPeriod = raw('day >= w.2 AND day < w.3');
  if (from === 'rows') return { rows: dailyStates(group, [spanOf(windows)], teams), inWindow: inPeriod };
  const monthly = sql`has(${param(MONTHLY, 'Array(String)')}, w.1)`;
  const fromDays = [...new Set([...monthsFromDays, ...openMonths(now)])];
  return {
    rows: storedStates(group, await ensureStates(storage, group, now), windows, teams, fromDays),
    // A quarter or a year takes month states, and the day states of the months read from days; a shorter period its days.
    inWindow: sql`${inPeriod} AND if(${monthly}, grain = 'month' OR has(${param(fromDays, 'Array(Date)')}, toStartOfMonth(day)), grain = 'day')`,
  };
}
