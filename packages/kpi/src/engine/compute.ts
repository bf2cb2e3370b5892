import { TIER_SCOPES, type TierScope } from '@kpi/schemas';
import { join, kpiValues, param, raw, sql, type Sql, type Storage } from '@kpi/storage';
import { emptyEvaluation, granularitiesOf, type Evaluation, type KpiDefinition } from '../definition.ts';
import { chTime, periodStartOf, periodsStartingIn, type Granularity, type Period } from '../periods.ts';
import { instant, type Row } from '../rows.ts';
import type { Source } from '../source.ts';
import { aggregatesOf, evaluationOf, isSqlKpi, renderAggregate, type SqlKpi } from './measures.ts';
import { ALL_TEAMS, DAY_TEXT, periodOfDay, scopeColumns, ScopeIndex, scopes, spanOf, teamFilter, windowDays, type PeriodWindow, type Window } from './scopes.ts';
import { stateGroupOf, statesFor } from './states.ts';
import { backlogTarget, storedOverrides, type TargetOverride } from '../targets.ts';

export { ALL_TEAMS, type TeamFilter, type Window } from './scopes.ts';
export { TIER_SCOPES, type TierScope } from '@kpi/schemas';

export function tierScopes(kpi: KpiDefinition): TierScope[] {
  return kpi.tiered ? [...TIER_SCOPES] : ['all'];
}

export interface ScopedValue {
  kpi: string;
  granularity: Granularity;
  period: Period;
  team: string;
  tier: TierScope;
  evaluation: Evaluation;
}

export interface ComputeRequest {
  kpis: readonly KpiDefinition[];
  windows: readonly Window[];
  /** Team scopes to produce; ALL_TEAMS is the whole organisation, computed from the rows, never from team values. */
  teams: readonly string[];
  now: Date;
  /**
   * Where anchored SQL KPIs take their per-day partial states: from the rows, now (the default:
   * exact at this instant, what a breakdown shows), or as stored in `kpi_states` (days and months), which
   * recomputes keep current for the days events touch (see states.ts). States are stored per
   * group of KPIs (source and anchor, as `kpis` lists them): pass the whole source, as the
   * recomputes that refresh them do, or the group is built apart from every row.
   */
  states?: 'rows' | 'stored';
  /**
   * With stored states: the months ('YYYY-MM-01') whose day states changed since their month
   * states were stored (a recompute refreshes a month's state after storing its values); quarters
   * and years merge those months' day states instead.
   */
  monthsFromDays?: readonly string[];
  /**
   * Target overrides in force, for the targets backlogs count against (backlogTarget); by
   * default the ones set through the admin API, read when a KPI with a backlog is computed.
   */
  overrides?: TargetOverride[];
}

/** The instant live state is judged at: the period end, or now for the open period. */
export const judgedAt = (period: Period, now: Date) => new Date(Math.min(period.end.getTime(), now.getTime()));

/**
 * Computes KPIs for the periods of `windows`, for every requested team scope and every tier, and
 * hands them over one KPI at a time. The work is ClickHouse's: one query per source and anchor,
 * all granularities and all scopes together (GROUPING SETS), returning one row per (period, team,
 * tier) with data, so the process holds O(periods x scopes), whatever the number of events. Only
 * what SQL cannot do (experiment statistics) is evaluated here, over O(experiments) rows.
 */
export async function computeValues(storage: Storage, request: ComputeRequest, onValues: (values: ScopedValue[]) => Promise<void>): Promise<void> {
  const windows = request.windows.map((window) => ({ ...window, periods: periodsStartingIn(window.granularity, window.from, window.to) })).filter((window) => window.periods.length > 0);
  if (windows.length === 0 || request.kpis.length === 0) return;
  const groups = new Map<string, KpiDefinition[]>();
  for (const kpi of request.kpis) {
    const key = `${kpi.source.name}|${kpi.anchor}|${isSqlKpi(kpi) ? 'sql' : 'entities'}`;
    groups.set(key, [...(groups.get(key) ?? []), kpi]);
  }
  // The organisation's scope needs every team's rows.
  const teams = request.teams.includes(ALL_TEAMS) ? undefined : request.teams;
  const overrides = request.kpis.some((kpi) => kpi.backlog) ? (request.overrides ?? (await storedOverrides(storage))) : [];
  for (const kpis of groups.values()) {
    const first = kpis[0]!;
    const source = first.source;
    // Only the granularities the group's KPIs offer (days for the daily ones).
    const offered = windows.filter((window) => kpis.some((kpi) => granularitiesOf(kpi).includes(window.granularity)));
    if (offered.length === 0) continue;
    const evaluate = isSqlKpi(first)
      ? await sqlEvaluations(storage, kpis as SqlKpi[], offered, teams, request.now, { from: request.states ?? 'rows', monthsFromDays: request.monthsFromDays ?? [] })
      : await entityEvaluations(storage, source, kpis, offered, request.now);
    for (const kpi of kpis) {
      const ofKpi = offered.filter((window) => granularitiesOf(kpi).includes(window.granularity));
      const backlog = kpi.backlog ? await backlogDetails(storage, kpi, ofKpi, { teams, scopes: request.teams, overrides }, request.now) : undefined;
      const tiers = tierScopes(kpi);
      const values: ScopedValue[] = [];
      for (const window of ofKpi) {
        for (const period of window.periods) {
          // What every scope of the period shares (a rebuild goes through hundreds of thousands).
          const start = DAY_TEXT(period.start);
          const context = { period, at: judgedAt(period, request.now) };
          for (const scope of request.teams) {
            for (const tier of tiers) {
              const evaluation = evaluate(kpi, window.granularity, start, scope, tier, context) ?? emptyEvaluation(kpi, context);
              if (kpi.backlog) Object.assign(evaluation.details, backlog!.get(window.granularity, start, scope, tier) ?? emptyBacklog(kpi));
              values.push({ kpi: kpi.id, granularity: window.granularity, period, team: scope, tier, evaluation });
            }
          }
        }
      }
      await onValues(values);
    }
  }
}

/** The details of a backlog with nothing open. */
function emptyBacklog(kpi: KpiDefinition): Record<string, unknown> {
  return kpi.backlog ? { [kpi.backlog.name]: 0, [`${kpi.backlog.name}_${kpi.source.entity}s`]: [] } : {};
}

/** The value of a period with nothing in it, details of an empty backlog included. */
export function emptyValue(kpi: KpiDefinition, context: { period: Period; at: Date }): Evaluation {
  const evaluation = emptyEvaluation(kpi, context);
  Object.assign(evaluation.details, emptyBacklog(kpi));
  return evaluation;
}

type Evaluate = (kpi: KpiDefinition, granularity: string, periodStart: string, team: string, tier: string, context: { period: Period; at: Date }) => Evaluation | undefined;

/** Rows of the source, each assigned to the periods (of every granularity asked) that contain its anchor. */
function anchoredRows(source: Source, anchor: string, windows: PeriodWindow[], teams: readonly string[] | undefined): Sql {
  // Periods start at midnight UTC, so the anchor's day decides which windows it falls in.
  const day = raw(`toDate(${anchor}, 'UTC')`);
  return sql`
    SELECT *, window.1 AS granularity, ${raw(periodOfDay('window.1', anchor))} AS period
    FROM (${source.rows([spanOf(windows)])}) AS source_rows
    ARRAY JOIN arrayFilter(w -> ifNull(${day} >= w.2 AND ${day} < w.3, 0), ${windowDays(windows)}) AS window
    WHERE ${teamFilter(teams)}`;
}

/** The instants of every period asked: (granularity, period start, the instant it is judged at). */
function instantList(windows: PeriodWindow[], now: Date): Sql {
  const periods = windows.flatMap((window) => window.periods.map((period) => ({ granularity: window.granularity, period })));
  return sql`arrayZip(${param(
    periods.map((p) => p.granularity),
    'Array(String)',
  )}, ${param(
    periods.map((p) => DAY_TEXT(p.period.start)),
    'Array(String)',
  )}, ${param(
    periods.map((p) => chTime(judgedAt(p.period, now))),
    "Array(DateTime64(3, 'UTC'))",
  )})`;
}

/** The rows live at the instant each period is judged at (the latest per `live.per`). */
function liveRows(source: Source, windows: PeriodWindow[], teams: readonly string[] | undefined, now: Date): Sql {
  const live = source.live;
  if (!live) throw new Error(`source ${source.name} has no live state`);
  return sql`
    SELECT *, instant.1 AS granularity, instant.2 AS period, instant.3 AS at
    FROM (${source.rows()}) AS source_rows
    ARRAY JOIN arrayFilter(i -> ${live.at(raw('i.3'))}, ${instantList(windows, now)}) AS instant
    WHERE ${teamFilter(teams)}
    ORDER BY granularity, period, ${raw(live.per)}, ${raw(live.latestFirst)}
    LIMIT 1 BY granularity, period, ${raw(live.per)}`;
}

/** The rows of a KPI for its periods: anchored ones, or live state. */
export function rowsInPeriods(source: Source, kpi: KpiDefinition, windows: PeriodWindow[], teams: readonly string[] | undefined, now: Date): Sql {
  return kpi.anchor === 'period_end' ? liveRows(source, windows, teams, now) : anchoredRows(source, kpi.anchor, windows, teams);
}

/**
 * The KPIs of one source and anchor for every period and scope asked. Anchored rows come as one
 * partial state per (day, team, tier) (from the rows, or stored: statesFor), spread over the
 * periods of every granularity and merged per scope (GROUPING SETS). Live state is a row per model
 * and instant already, aggregated in one step.
 */
async function sqlEvaluations(
  storage: Storage,
  kpis: SqlKpi[],
  windows: PeriodWindow[],
  teams: readonly string[] | undefined,
  now: Date,
  states: { from: 'rows' | 'stored'; monthsFromDays: readonly string[] },
): Promise<Evaluate> {
  const first = kpis[0]!;
  const source = first.source;
  let query: Sql;
  if (first.anchor === 'period_end') {
    const columns = kpis.flatMap((kpi, index) => aggregatesOf(kpi, `k${index}`));
    query = sql`
      SELECT ${scopeColumns(source)}, ${join(columns.map((column) => renderAggregate(column, 'value')), ',\n  ')}
      FROM (${liveRows(source, windows, teams, now)})
      GROUP BY ${scopes(source)}`;
  } else {
    const group = stateGroupOf(kpis);
    const { rows, inWindow } = await statesFor(storage, group, windows, teams, states.from, now, states.monthsFromDays);
    query = sql`
      SELECT ${scopeColumns(source)}, ${join(group.columns.map((column) => renderAggregate(column, 'merge')), ',\n  ')}
      FROM (
        SELECT *, window.1 AS granularity, ${raw(periodOfDay('window.1', 'day'))} AS period
        FROM (${rows})
        ARRAY JOIN arrayFilter(w -> ${inWindow}, ${windowDays(windows)}) AS window)
      GROUP BY ${scopes(source)}`;
  }
  const rows = await storage.query<Row>(query);
  const byScope = ScopeIndex.of(rows, (row) => row);
  const prefixOf = new Map(kpis.map((kpi, index) => [kpi.id, `k${index}`]));
  return (kpi, granularity, periodStart, team, tier) => {
    const row = byScope.get(granularity, periodStart, team, tier);
    return row ? evaluationOf(kpi as SqlKpi, prefixOf.get(kpi.id)!, row) : undefined;
  };
}

/**
 * Open rows at each period's instant (a backlog), counted and listed per scope, past the target of
 * the scope's team and granularity: one query per distinct target (overrides are few).
 */
async function backlogDetails(
  storage: Storage,
  kpi: KpiDefinition,
  windows: PeriodWindow[],
  scope: { teams: readonly string[] | undefined; scopes: readonly string[]; overrides: TargetOverride[] },
  now: Date,
): Promise<ScopeIndex<Record<string, unknown>>> {
  const { source } = kpi;
  const backlog = kpi.backlog!;
  const scopesByTarget = new Map<number, Set<string>>();
  for (const window of windows) {
    for (const team of scope.scopes) {
      const target = backlogTarget(kpi, { granularity: window.granularity, team }, scope.overrides);
      if (target === null) continue;
      const keys = scopesByTarget.get(target) ?? scopesByTarget.set(target, new Set()).get(target)!;
      keys.add(`${window.granularity}|${team}`);
    }
  }
  const index = new ScopeIndex<Record<string, unknown>>();
  for (const [target, keys] of scopesByTarget) {
    const ofTarget = windows.filter((window) => scope.scopes.some((team) => keys.has(`${window.granularity}|${team}`)));
    const at = raw('instant.3');
    const rows = await storage.query<Row>(sql`
      SELECT ${scopeColumns(source)}, count() AS open, groupArray(50)(explained) AS listed
      FROM (
        SELECT *, instant.1 AS granularity, instant.2 AS period, ${backlog.explain(at)} AS explained
        FROM (${source.rows()}) AS source_rows
        ARRAY JOIN arrayFilter(i -> ${backlog.open(raw('i.3'), param(target, 'Float64'))}, ${instantList(ofTarget, now)}) AS instant
        WHERE ${teamFilter(scope.teams)}
      )
      GROUP BY ${scopes(source)}`);
    for (const row of rows) {
      if (!keys.has(`${String(row.granularity)}|${String(row.team_scope)}`)) continue;
      index.set(String(row.granularity), String(row.period), String(row.team_scope), String(row.tier_scope), { [backlog.name]: Number(row.open), [`${backlog.name}_${source.entity}s`]: row.listed });
    }
  }
  return index;
}

/**
 * KPIs evaluated in the process over the source's parsed entities (experiments: lift, SRM,
 * Pearson), bucketed by period and scope here: O(entities) rows, not events.
 */
async function entityEvaluations(storage: Storage, source: Source, kpis: KpiDefinition[], windows: PeriodWindow[], now: Date): Promise<Evaluate> {
  const anchor = kpis[0]!.anchor;
  const { from, to } = spanOf(windows);
  const rows = await storage.query<Row>(sql`
    SELECT * FROM (${source.rows([{ from, to }])})
    WHERE ${raw(anchor)} >= ${param(chTime(from), "DateTime64(3, 'UTC')")} AND ${raw(anchor)} < ${param(chTime(to), "DateTime64(3, 'UTC')")}`);
  // Each entity goes to the period of its anchor in every granularity, for its team, the
  // organisation, its tier and all tiers: then every scope is a lookup.
  const buckets = new ScopeIndex<unknown[]>();
  for (const row of rows) {
    const at = instant(row[anchor])!;
    const entity = source.parse!(row);
    for (const window of windows) {
      const start = DAY_TEXT(periodStartOf(window.granularity, at));
      for (const team of [String(row.team), ALL_TEAMS]) {
        for (const tier of source.tiered ? ['all', String(row.tier)] : ['all']) {
          const bucket = buckets.get(window.granularity, start, team, tier);
          if (bucket) bucket.push(entity);
          else buckets.set(window.granularity, start, team, tier, [entity]);
        }
      }
    }
  }
  return (kpi, granularity, periodStart, team, tier, context) => {
    const entities = buckets.get(granularity, periodStart, team, tier);
    if (!entities) return undefined;
    if (kpi.measure.kind !== 'entities') throw new Error(`${kpi.id} is not evaluated over entities`);
    const { value, numerator, denominator, sample_size, details } = kpi.measure.evaluate(entities as never[], context);
    return { value, numerator, denominator, sample_size, details };
  };
}

/** Writes computed values; `computedAt` is when the computation started reading, so later reads win. */
export function storeValues(storage: Storage, values: ScopedValue[], computedAt: Date): Promise<void> {
  return kpiValues.insert(storage, values, computedAt);
}
