import { ALL_TEAMS, CATALOG, computeValues, GRANULARITIES, kpiById, nextPeriodStart, periodStartOf, previousPeriodStart, storeValues, type Granularity, type KpiDefinition, type Window } from '@kpi/kpi';
import type { DirtySet } from '@kpi/queue';
import { eventQueries, type Storage } from '@kpi/storage';

/**
 * Recomputes the stale scopes of one KPI, every tier: one query over the span of its stale
 * periods, every granularity together, storing only the stale (period, team) values. Returns what
 * it recomputed.
 */
export async function recomputeStale(storage: Storage, dirty: DirtySet, kpiId: string, jobId: string, now = new Date()): Promise<string[]> {
  const kpi = kpiById(kpiId);
  if (!kpi) throw new Error(`unknown KPI ${kpiId}`);
  const stale = await dirty.take(kpiId, jobId);
  const starts = new Map<Granularity, number[]>();
  const teams = new Set<string>();
  const keys = new Set<string>();
  for (const scope of stale) {
    const list = starts.get(scope.granularity);
    if (list) list.push(Date.parse(scope.periodStart));
    else starts.set(scope.granularity, [Date.parse(scope.periodStart)]);
    teams.add(scope.team);
    keys.add(`${scope.granularity}|${new Date(scope.periodStart).toISOString()}|${scope.team}`);
  }
  const windows: Window[] = [...starts].map(([granularity, list]) => ({
    granularity,
    from: new Date(Math.min(...list)),
    to: nextPeriodStart(granularity, new Date(Math.max(...list))),
  }));
  await computeValues(storage, { kpis: [kpi], windows, teams: [...teams], now }, (values) =>
    storeValues(
      storage,
      values.filter((value) => keys.has(`${value.granularity}|${value.period.start.toISOString()}|${value.team}`)),
      now,
    ),
  );
  await dirty.done(kpiId, jobId);
  return stale.map((scope) => `${kpiId}|${scope.granularity}|${scope.periodStart}|${scope.team}`);
}

export interface Progress {
  /** KPIs whose values are stored, of `total`. */
  done: number;
  total: number;
  values: number;
  seconds: number;
}

/**
 * Every KPI of `kpis` for every team scope, the periods of each granularity starting in
 * [from(granularity), to): the whole catalog in one pass per source (see computeValues).
 * Serves the periodic refresh (open and just-closed periods) and the full rebuild.
 */
export async function recomputeRange(
  storage: Storage,
  range: { from: (granularity: Granularity) => Date; to: Date; kpis?: readonly KpiDefinition[] },
  now = new Date(),
  onProgress?: (progress: Progress) => void,
): Promise<number> {
  const kpis = range.kpis ?? CATALOG;
  const teams = [ALL_TEAMS, ...(await eventQueries.knownTeams(storage))];
  const windows = GRANULARITIES.map((granularity) => ({ granularity, from: range.from(granularity), to: range.to }));
  const started = Date.now();
  let written = 0;
  let done = 0;
  await computeValues(storage, { kpis, windows, teams, now }, async (values) => {
    await storeValues(storage, values, now);
    written += values.length;
    onProgress?.({ done: ++done, total: kpis.length, values: written, seconds: (Date.now() - started) / 1000 });
  });
  return written;
}

/** The open period and the one that closed last: live-state KPIs and open-incident details move with time. */
export function refreshOpenPeriods(storage: Storage, now = new Date()): Promise<number> {
  return recomputeRange(storage, { from: (granularity) => previousPeriodStart(granularity, periodStartOf(granularity, now)), to: new Date(now.getTime() + 1) }, now);
}

/** Recomputes everything from the raw events, from the first event's period to the open one. */
export async function rebuildAll(storage: Storage, now = new Date(), onProgress?: (progress: Progress) => void): Promise<number> {
  const first = await eventQueries.firstEventTime(storage);
  if (!first) return 0;
  return recomputeRange(storage, { from: (granularity) => periodStartOf(granularity, first), to: new Date(now.getTime() + 1) }, now, onProgress);
}
