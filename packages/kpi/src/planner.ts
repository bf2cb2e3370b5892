import { entityKeyOfType, teamOf, toUtcMillis, type CloudEvent, type EventType } from '@kpi/events';
import { GRANULARITIES, type Recompute } from '@kpi/queue';
import type { Storage } from '@kpi/storage';
import { CATALOG } from './catalog/index.ts';
import { ALL_TEAMS } from './compute.ts';
import { nextPeriodStart, periodStartOf } from './periods.ts';
import { SOURCES, type SourceName } from './sources.ts';

const sourceOfType = new Map<EventType, SourceName>(
  Object.entries(SOURCES).flatMap(([name, source]) => source.eventTypes.map((type) => [type as EventType, name as SourceName])),
);
const entitySources = new Set<SourceName>(['incidents', 'releases', 'experiments']);

/**
 * The (KPI, period, scope) recomputes that just-inserted events call for, and no others.
 * A KPI is anchored on one of its entity's event times (opened, first mitigation, first or
 * latest readout, decision, deploy), so for lifecycle events the affected periods are those
 * of every event time of the entity, read back from ClickHouse: a late mitigation, a
 * correction or a decision before its start all reach the right period. Live-state KPIs
 * (drift coverage) and open-item details (incidents open past target) change from the event
 * onwards, through the current period.
 * Each affects its team's scope and the whole organisation's.
 */
export async function planRecomputes(storage: Storage, events: CloudEvent[], now: Date): Promise<Recompute[]> {
  const plans = new Map<string, Recompute>();
  const add = (source: SourceName, team: string, times: number[]) => {
    for (const kpi of CATALOG) {
      if (kpi.source !== source) continue;
      // Live state (drift coverage) and open-item details (incidents open past target) hold from
      // the event on: every later period up to the open one changes too.
      const throughNow = kpi.anchor === 'period_end' || kpi.backlog !== undefined;
      for (const granularity of GRANULARITIES) {
        const starts = new Set<number>();
        for (const time of times) {
          let start = periodStartOf(granularity, time);
          starts.add(start.getTime());
          while (throughNow && (start = nextPeriodStart(granularity, start)) <= now) starts.add(start.getTime());
        }
        for (const start of starts) {
          for (const scope of [team, ALL_TEAMS]) {
            const plan = { kpi: kpi.id, granularity, periodStart: new Date(start).toISOString(), team: scope };
            plans.set(`${plan.kpi}|${granularity}|${plan.periodStart}|${scope}`, plan);
          }
        }
      }
    }
  };

  const lifecycle = new Map<SourceName, Set<string>>();
  for (const event of events) {
    const source = sourceOfType.get(event.type);
    if (!source) continue;
    if (entitySources.has(source)) {
      const ids = lifecycle.get(source) ?? new Set<string>();
      ids.add(String((event.data as Record<string, unknown>)[entityKeyOfType[event.type]!]));
      lifecycle.set(source, ids);
    } else {
      add(source, teamOf(event), [toUtcMillis(event.time)]);
    }
  }
  for (const [source, ids] of lifecycle) {
    const rows = await storage.query<{ team: string; times: string[] }>(
      `SELECT anyIf(team, team != '') AS team, groupUniqArray(toString(toUnixTimestamp64Milli(time))) AS times
       FROM {db:Identifier}.events
       WHERE type IN {types:Array(String)} AND entity_id IN {ids:Array(String)}
       GROUP BY entity_id`,
      { types: [...SOURCES[source].eventTypes], ids: [...ids] },
    );
    for (const row of rows) {
      // An entity whose defining event has not arrived yet counts nowhere: nothing to recompute.
      if (row.team === '') continue;
      add(source, row.team, row.times.map(Number));
    }
  }
  return [...plans.values()];
}
