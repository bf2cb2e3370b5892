import { ALL_TEAMS, CATALOG, computeValues, GRANULARITIES, nextPeriodStart, periodStartOf, previousPeriodStart, storeValues, type Catalog, type Granularity, type KpiDefinition, type ScopedValue, type Window } from '@kpi/kpi';
import type { DirtySet } from '@kpi/queue';
import type { Serving } from '@kpi/serving';
import { eventQueries, kpiValues, type Storage } from '@kpi/storage';

/**
 * Where computed values go: ClickHouse (the record), then the served copies that answer reads
 * (this process's at once, the others' through Redis). Without `serving` (tools, tests) only ClickHouse.
 */
export interface ValueStore {
  storage: Storage;
  serving?: Pick<Serving, 'publish' | 'removed'>;
}

const storeAndServe = (target: ValueStore, computedAt: Date) => async (values: ScopedValue[]) => {
  await storeValues(target.storage, values, computedAt);
  await target.serving?.publish(values, computedAt);
};

/**
 * Recomputes the stale scopes of one KPI, every tier: one query over the span of its stale
 * periods, every granularity together, storing only the stale (period, team) values. Returns what
 * it recomputed.
 */
export async function recomputeStale(target: ValueStore, catalog: Catalog, dirty: DirtySet, kpiId: string, jobId: string, now = new Date()): Promise<string[]> {
  // A custom KPI defined a moment ago in another process: look again after a refresh.
  const kpi = catalog.get(kpiId) ?? ((await catalog.refresh()) ? catalog.get(kpiId) : undefined);
  const stale = await dirty.take(kpiId, jobId);
  if (!kpi) {
    // Deleted since its events were planned: nothing to compute.
    await dirty.done(kpiId, jobId);
    return [];
  }
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
  const store = storeAndServe(target, now);
  await computeValues(target.storage, { kpis: [kpi], windows, teams: [...teams], now }, (values) =>
    store(values.filter((value) => keys.has(`${value.granularity}|${value.period.start.toISOString()}|${value.team}`))),
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
  target: ValueStore,
  range: { from: (granularity: Granularity) => Date; to: Date; kpis?: readonly KpiDefinition[] },
  now = new Date(),
  onProgress?: (progress: Progress) => void,
): Promise<number> {
  const kpis = range.kpis ?? CATALOG;
  const teams = [ALL_TEAMS, ...(await eventQueries.knownTeams(target.storage))];
  const windows = GRANULARITIES.map((granularity) => ({ granularity, from: range.from(granularity), to: range.to }));
  const started = Date.now();
  const store = storeAndServe(target, now);
  let written = 0;
  let done = 0;
  await computeValues(target.storage, { kpis, windows, teams, now }, async (values) => {
    await store(values);
    written += values.length;
    onProgress?.({ done: ++done, total: kpis.length, values: written, seconds: (Date.now() - started) / 1000 });
  });
  return written;
}

/** The open period and the one that closed last: live-state KPIs and open-incident details move with time. */
export function refreshOpenPeriods(target: ValueStore, kpis: readonly KpiDefinition[] = CATALOG, now = new Date()): Promise<number> {
  return recomputeRange(target, { from: (granularity) => previousPeriodStart(granularity, periodStartOf(granularity, now)), to: new Date(now.getTime() + 1), kpis }, now);
}

/** Recomputes every KPI of `kpis` (default: the built-in catalog) from the raw events, from the first event's period to the open one. */
export async function rebuildAll(target: ValueStore, now = new Date(), onProgress?: (progress: Progress) => void, kpis?: readonly KpiDefinition[]): Promise<number> {
  const first = await eventQueries.firstEventTime(target.storage);
  if (!first) return 0;
  return recomputeRange(target, { from: (granularity) => periodStartOf(granularity, first), to: new Date(now.getTime() + 1), kpis }, now, onProgress);
}

/**
 * A KPI whose definition changed: its whole history recomputed, then every value older than that
 * recompute dropped (scopes the old definition filled and the new one leaves empty). A KPI no
 * longer in the catalog loses its values.
 */
export async function recomputeHistory(target: ValueStore, catalog: Catalog, kpiId: string, now = new Date()): Promise<number> {
  await catalog.refresh();
  const kpi = catalog.get(kpiId);
  const written = kpi ? await rebuildAll(target, now, undefined, [kpi]) : 0;
  await kpiValues.remove(target.storage, kpiId, kpi ? now : undefined);
  await target.serving?.removed(kpiId, now);
  return written;
}
