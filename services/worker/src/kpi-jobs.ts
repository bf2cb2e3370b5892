import { ALL_TEAMS, CATALOG, computeAll, computeKpi, knownTeams, kpiById, nextPeriodStart, periodStartOf, previousPeriodStart, storeValues } from '@kpi/kpi';
import { GRANULARITIES, type DirtySet, type Granularity } from '@kpi/queue';
import type { Storage } from '@kpi/storage';

/**
 * Recomputes the stale scopes of one KPI, every tier: one query per granularity over the span
 * of its stale periods, storing only the stale (period, team) values. Returns what it recomputed.
 */
export async function recomputeStale(storage: Storage, dirty: DirtySet, kpiId: string, jobId: string, now = new Date()): Promise<string[]> {
  const kpi = kpiById(kpiId);
  if (!kpi) throw new Error(`unknown KPI ${kpiId}`);
  const stale = await dirty.take(kpiId, jobId);
  const byGranularity = new Map<Granularity, { starts: number[]; teams: Set<string>; keys: Set<string> }>();
  for (const scope of stale) {
    const group = byGranularity.get(scope.granularity) ?? { starts: [], teams: new Set<string>(), keys: new Set<string>() };
    group.starts.push(Date.parse(scope.periodStart));
    group.teams.add(scope.team);
    group.keys.add(`${new Date(scope.periodStart).toISOString()}|${scope.team}`);
    byGranularity.set(scope.granularity, group);
  }
  for (const [granularity, group] of byGranularity) {
    const from = new Date(Math.min(...group.starts));
    const to = nextPeriodStart(granularity, new Date(Math.max(...group.starts)));
    const values = await computeKpi(storage, { kpi, granularity, from, to, teams: [...group.teams], now });
    await storeValues(
      storage,
      values.filter((value) => group.keys.has(`${value.period.start.toISOString()}|${value.team}`)),
      now,
    );
  }
  await dirty.done(kpiId, jobId);
  return stale.map((scope) => `${kpiId}|${scope.granularity}|${scope.periodStart}|${scope.team}`);
}

/**
 * Every KPI of every team scope for the periods starting in [from, to): one query per KPI and
 * granularity. Serves the periodic refresh (open and just-closed periods) and the full rebuild.
 */
export async function recomputeRange(storage: Storage, range: { from: (granularity: (typeof GRANULARITIES)[number]) => Date; to: Date }, now = new Date()): Promise<number> {
  const teams = [ALL_TEAMS, ...(await knownTeams(storage))];
  let written = 0;
  for (const kpi of CATALOG) {
    for (const granularity of GRANULARITIES) {
      const values = await computeKpi(storage, { kpi, granularity, from: range.from(granularity), to: range.to, teams, now });
      await storeValues(storage, values, now);
      written += values.length;
    }
  }
  return written;
}

/** The open period and the one that closed last: live-state KPIs and open-incident details move with time. */
export function refreshOpenPeriods(storage: Storage, now = new Date()): Promise<number> {
  return recomputeRange(storage, { from: (granularity) => previousPeriodStart(granularity, periodStartOf(granularity, now)), to: new Date(now.getTime() + 1) }, now);
}

/**
 * Recomputes everything from the raw events, from the first event's period to the open one:
 * one query per entity source, shared by every KPI and granularity built on it. Idempotent: an
 * interrupted rebuild is simply run again (its values are overwritten, later `computed_at` wins).
 * `onStored` hears about each stored batch (the command logs its progress).
 */
export async function rebuildAll(storage: Storage, now = new Date(), onStored?: (batch: { kpi: string; granularity: string; values: number }) => void): Promise<number> {
  const [first] = await storage.query<{ first: string | null }>("SELECT if(count() = 0, NULL, toString(min(time))) AS first FROM {db:Identifier}.events");
  if (!first?.first) return 0;
  const start = new Date(`${first.first.replace(' ', 'T')}Z`);
  const teams = [ALL_TEAMS, ...(await knownTeams(storage))];
  let written = 0;
  await computeAll(storage, { kpis: CATALOG, granularities: GRANULARITIES, from: (granularity) => periodStartOf(granularity, start), to: new Date(now.getTime() + 1), teams, now }, async (values) => {
    await storeValues(storage, values, now);
    written += values.length;
    if (values[0]) onStored?.({ kpi: values[0].kpi, granularity: values[0].granularity, values: values.length });
  });
  return written;
}
