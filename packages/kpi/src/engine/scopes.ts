import { param, raw, sql, type Sql } from '@kpi/storage';
import type { Granularity, Period } from '../periods.ts';
import type { Source, TimeRange } from '../source.ts';

/** The whole organisation's team scope: computed from the rows, never from team values. */
export const ALL_TEAMS = '*';

/** The teams an operational list reads: every team (ALL_TEAMS), one, or any of several (a principal's teams). */
export type TeamFilter = string | readonly string[];

/** The SQL condition on a `team` column of a TeamFilter. */
export const teamCondition = (team: TeamFilter): Sql => teamFilter(team === ALL_TEAMS ? undefined : typeof team === 'string' ? [team] : team);

/** The periods of one granularity starting in [from, to). */
export interface Window {
  granularity: Granularity;
  from: Date;
  to: Date;
}

export type PeriodWindow = Window & { periods: Period[] };

export const DAY_TEXT = (date: Date) => date.toISOString().slice(0, 10);

/**
 * Items by scope: granularity, period start (YYYY-MM-DD), team scope and tier scope. Nested maps
 * rather than one key string per scope: a rebuild looks up hundreds of thousands of scopes, whose
 * parts are the same few strings again and again (no string to build, hashes computed once).
 */
export class ScopeIndex<T> {
  private readonly byGranularity = new Map<string, Map<string, Map<string, Map<string, T>>>>();

  get(granularity: string, periodStart: string, team: string, tier: string): T | undefined {
    return this.byGranularity.get(granularity)?.get(periodStart)?.get(team)?.get(tier);
  }

  set(granularity: string, periodStart: string, team: string, tier: string, item: T): void {
    const level = <V>(map: Map<string, V>, key: string, make: () => V): V => map.get(key) ?? map.set(key, make()).get(key)!;
    const teams = level(level(this.byGranularity, granularity, () => new Map()), periodStart, () => new Map());
    level(teams, team, () => new Map()).set(tier, item);
  }

  /** The scopes of a result row of the scope columns (scopeColumns). */
  static of<R extends Record<string, unknown>, T>(rows: readonly R[], item: (row: R) => T): ScopeIndex<T> {
    const index = new ScopeIndex<T>();
    for (const row of rows) index.set(String(row.granularity), String(row.period), String(row.team_scope), String(row.tier_scope), item(row));
    return index;
  }
}

/** The grouping sets of a source's scopes: every team and the organisation, every tier and all tiers. */
export function scopes(source: Source): Sql {
  return source.tiered
    ? raw('GROUPING SETS ((granularity, period, team, tier), (granularity, period, team), (granularity, period, tier), (granularity, period))')
    : raw('GROUPING SETS ((granularity, period, team), (granularity, period))');
}

export const scopeColumns = (source: Source) =>
  raw(`granularity, period, if(grouping(team) = 1, '${ALL_TEAMS}', toString(team)) AS team_scope, ${source.tiered ? "if(grouping(tier) = 1, 'all', toString(tier))" : "'all'"} AS tier_scope`);

/** The start, as text, of the period of granularity `g` (an expression) that contains `day` (a Date or UTC time expression). */
export const periodOfDay = (g: string, day: string) =>
  `toString(multiIf(${g} = 'day', toDate(${day}), ${g} = 'week', toStartOfWeek(${day}, 1), ${g} = 'month', toStartOfMonth(${day}), ${g} = 'quarter', toStartOfQuarter(${day}), toStartOfYear(${day})))`;

/** [from, to): the time every window covers together. */
export function spanOf(windows: readonly PeriodWindow[]): TimeRange {
  return {
    from: new Date(Math.min(...windows.map((window) => window.periods[0]!.start.getTime()))),
    to: new Date(Math.max(...windows.map((window) => window.periods.at(-1)!.end.getTime()))),
  };
}

/** (granularity, first day, end day) of every window, and the period of a day in each (as `period`). */
export function windowDays(windows: PeriodWindow[]): Sql {
  return sql`arrayZip(${param(
    windows.map((w) => w.granularity),
    'Array(String)',
  )}, ${param(
    windows.map((w) => DAY_TEXT(w.periods[0]!.start)),
    'Array(Date)',
  )}, ${param(
    windows.map((w) => DAY_TEXT(w.periods.at(-1)!.end)),
    'Array(Date)',
  )})`;
}

/** The rows of the given team scopes (every team when `teams` is undefined). */
export const teamFilter = (teams: readonly string[] | undefined) => (teams === undefined ? raw('1') : sql`team IN ${param(teams, 'Array(String)')}`);
