import {
  ALL_TEAMS, buildStates, CATALOG, computeValues, GRANULARITIES, monthsOf, periodStartOf, previousPeriodStart, refreshDayStates, refreshEndedMonthStates, refreshMonthStates, staleScopes, stateGroupsOf, storeValues,
  type Catalog, type Granularity, type KpiDefinition, type ScopedValue, type TargetOverride, type Window,
} from '@kpi/kpi';
import type { DirtySet } from '@kpi/queue';
import type { Serving } from '@kpi/serving';
import { eventQueries, kpiValues, type Storage } from '@kpi/storage';

/**
 * Where computed values go: ClickHouse (the record), then the served copies that answer reads
 * (this process's at once, the others' through Redis). Without `serving` (tools, tests) only ClickHouse.
 */
export interface ValueStore {
  storage: Storage;
  serving?: Pick<Serving, 'publish' | 'reloadEverywhere' | 'overrides'>;
  /**
   * The target overrides in force (the API's and KPI_TARGETS_FILE's), which backlogs count
   * against; by default the served ones, else only the API's stored ones.
   */
  overrides?: TargetOverride[];
}

const overridesOf = (target: ValueStore) => target.overrides ?? target.serving?.overrides();

const storeAndServe = (target: ValueStore, computedAt: Date) => async (values: ScopedValue[]) => {
  await storeValues(target.storage, values, computedAt);
  await target.serving?.publish(values, computedAt);
};

/**
 * Recomputes what the changed days of one source make stale: the day states of those days, then
 * every KPI of the source for the periods containing them (through now for live state), for their
 * teams and the organisation, every tier, merged from day states (and month states for the months
 * it did not touch); stores and serves only the stale values, then refreshes the touched months'
 * states (but the open one's: see refreshMonthStates). Returns the values (`kpi|granularity|period start|team`).
 */
export async function recomputeSource(target: ValueStore, catalog: Catalog, dirty: DirtySet, sourceName: string, jobId: string, now = new Date()): Promise<string[]> {
  const ofSource = () => catalog.list().filter((kpi) => kpi.source.name === sourceName);
  let kpis = ofSource();
  // A custom KPI defined a moment ago in another process: look again after a refresh.
  if (kpis.length === 0 && (await catalog.refresh())) kpis = ofSource();
  const days = await dirty.take(sourceName, jobId);
  if (kpis.length === 0 || days.length === 0) {
    // A custom KPI deleted since its events were planned: nothing to compute.
    await dirty.done(sourceName, jobId);
    return [];
  }
  const teamDays = new Map<string, string[]>();
  for (const { team, day } of days) teamDays.set(team, [...(teamDays.get(team) ?? []), day]);
  const groups = stateGroupsOf(kpis);
  for (const group of groups) await refreshDayStates(target.storage, group, teamDays, now);
  // Every KPI of the source in one computation (the day states are stored per group of the
  // source's KPIs), over the periods any of them needs; each stores only its own stale ones.
  const stale = new Set<string>();
  // The same scopes keyed by the period's epoch milliseconds, which a computed value has at hand.
  const staleAt = new Set<string>();
  const windows = new Map<Granularity, Window>();
  for (const kpi of kpis) {
    const needs = staleScopes(kpi, teamDays, now);
    for (const scope of needs.scopes) {
      stale.add(`${scope.kpi}|${scope.granularity}|${scope.periodStart}|${scope.team}`);
      staleAt.add(`${scope.kpi}|${scope.granularity}|${Date.parse(scope.periodStart)}|${scope.team}`);
    }
    for (const window of needs.windows) {
      const known = windows.get(window.granularity);
      windows.set(window.granularity, known ? { ...window, from: new Date(Math.min(+known.from, +window.from)), to: new Date(Math.max(+known.to, +window.to)) } : window);
    }
  }
  // The touched months' quarters and years merge their fresh day states: their month states are
  // refreshed after the values are served, off the path from an event to its value.
  const monthsFromDays = monthsOf(days.map(({ day }) => day));
  const request = { kpis, windows: [...windows.values()], teams: [...teamDays.keys(), ALL_TEAMS], now, states: 'stored', monthsFromDays, overrides: overridesOf(target) } as const;
  // Stored and served in one insert and one message for the whole source: each insert is a part
  // ClickHouse merges later, each message a parse in every process.
  const recomputedValues: ScopedValue[] = [];
  await computeValues(target.storage, request, async (values) => {
    for (const value of values) if (staleAt.has(`${value.kpi}|${value.granularity}|${+value.period.start}|${value.team}`)) recomputedValues.push(value);
  });
  await storeAndServe(target, now)(recomputedValues);
  for (const group of groups) await refreshMonthStates(target.storage, group, teamDays, now);
  const recomputed = [...stale];
  await dirty.done(sourceName, jobId);
  return recomputed;
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
async function computeRange(
  target: ValueStore,
  range: { from: (granularity: Granularity) => Date; to: Date; kpis?: readonly KpiDefinition[] },
  now: Date,
  store: (values: ScopedValue[]) => Promise<void>,
  onProgress?: (progress: Progress) => void,
): Promise<number> {
  const kpis = range.kpis ?? CATALOG;
  const teams = [ALL_TEAMS, ...(await eventQueries.knownTeams(target.storage))];
  const windows = GRANULARITIES.map((granularity) => ({ granularity, from: range.from(granularity), to: range.to }));
  const started = Date.now();
  let written = 0;
  let done = 0;
  // A KPI's values are stored while the next KPI computes (one store in flight): the engine runs
  // both at once on its two connections.
  let storing: Promise<void> = Promise.resolve();
  await computeValues(target.storage, { kpis, windows, teams, now, states: 'stored', overrides: overridesOf(target) }, async (values) => {
    await storing;
    storing = store(values).then(() => {
      written += values.length;
      onProgress?.({ done: ++done, total: kpis.length, values: written, seconds: (Date.now() - started) / 1000 });
    });
    // Rejected, it is thrown where it is awaited: at the next KPI's values or below.
    storing.catch(() => undefined);
  });
  await storing;
  return written;
}

/**
 * The open period and the one that closed last of the KPIs that move with time alone: live state
 * (drift coverage, judged at now) and open-item details (incidents open past target). The others
 * change only with events, which recompute them. Also stores the states of the months that ended
 * (see refreshEndedMonthStates).
 */
export async function refreshOpenPeriods(target: ValueStore, kpis: readonly KpiDefinition[] = CATALOG, now = new Date()): Promise<number> {
  const teams = await eventQueries.knownTeams(target.storage);
  for (const group of stateGroupsOf(kpis)) await refreshEndedMonthStates(target.storage, group, teams, now);
  const moving = kpis.filter((kpi) => kpi.anchor === 'period_end' || kpi.backlog !== undefined);
  const range = { from: (granularity: Granularity) => previousPeriodStart(granularity, periodStartOf(granularity, now)), to: new Date(now.getTime() + 1), kpis: moving };
  return computeRange(target, range, now, storeAndServe(target, now));
}

/**
 * Recomputes every KPI of `kpis` (default: the built-in catalog) from the raw events: their day
 * and month states built again from every row, then their values from the first event's period
 * to the open one, stored in ClickHouse; then every serving process loads them from there (a
 * rebuild writes too many to send one by one).
 */
export async function rebuildAll(target: ValueStore, now = new Date(), onProgress?: (progress: Progress) => void, kpis: readonly KpiDefinition[] = CATALOG): Promise<number> {
  const written = await rebuildValues(target, now, onProgress, kpis);
  await target.serving?.reloadEverywhere();
  return written;
}

async function rebuildValues(target: ValueStore, now: Date, onProgress: ((progress: Progress) => void) | undefined, kpis: readonly KpiDefinition[]): Promise<number> {
  const { storage } = target;
  for (const group of stateGroupsOf(kpis)) await buildStates(storage, group, now);
  const first = await eventQueries.firstEventTime(storage);
  if (!first) return 0;
  return computeRange(target, { from: (granularity) => periodStartOf(granularity, first), to: new Date(now.getTime() + 1), kpis }, now, (values) => storeValues(storage, values, now), onProgress);
}

/**
 * A KPI whose definition changed: its whole history recomputed, then every value older than that
 * recompute dropped (scopes the old definition filled and the new one leaves empty), then served
 * everywhere from ClickHouse. A KPI no longer in the catalog loses its values.
 */
export async function recomputeHistory(target: ValueStore, catalog: Catalog, kpiId: string, now = new Date()): Promise<number> {
  await catalog.refresh();
  const kpi = catalog.get(kpiId);
  const written = kpi ? await rebuildValues(target, now, undefined, [kpi]) : 0;
  await kpiValues.remove(target.storage, kpiId, kpi ? now : undefined);
  await target.serving?.reloadEverywhere([kpiId]);
  return written;
}
