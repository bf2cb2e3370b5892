import { ALL_TEAMS, CATALOG, computeKpi, knownTeams, kpiById, nextPeriodStart, periodStartOf, previousPeriodStart, storeValues } from '@kpi/kpi';
import { GRANULARITIES, type Payload } from '@kpi/queue';
import type { Storage } from '@kpi/storage';

/** One (KPI, period, team scope) recompute, every tier; an unknown KPI id fails the job. */
export async function recompute(storage: Storage, payload: Payload<'kpiRecompute'>, now = new Date()): Promise<number> {
  const kpi = kpiById(payload.kpi);
  if (!kpi) throw new Error(`unknown KPI ${payload.kpi}`);
  const from = new Date(payload.periodStart);
  const values = await computeKpi(storage, { kpi, granularity: payload.granularity, from, to: nextPeriodStart(payload.granularity, from), teams: [payload.team], now });
  await storeValues(storage, values, now);
  return values.length;
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

/** Recomputes everything from the raw events, from the first event's period to the open one. */
export async function rebuildAll(storage: Storage, now = new Date()): Promise<number> {
  const [first] = await storage.query<{ first: string | null }>("SELECT if(count() = 0, NULL, toString(min(time))) AS first FROM {db:Identifier}.events");
  if (!first?.first) return 0;
  const start = new Date(`${first.first.replace(' ', 'T')}Z`);
  return recomputeRange(storage, { from: (granularity) => periodStartOf(granularity, start), to: new Date(now.getTime() + 1) }, now);
}
