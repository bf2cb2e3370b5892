import type { EventRef, EventType } from '@kpi/events';
import { GRANULARITIES, type Recompute } from '@kpi/queue';
import type { Storage } from '@kpi/storage';
import { CATALOG } from './catalog/index.ts';
import { ALL_TEAMS } from './compute.ts';
import { nextPeriodStart, periodStartOf } from './periods.ts';
import { DAY } from './definition.ts';
import { SOURCES, type SourceName } from './sources.ts';

const sourceOfType = new Map<EventType, SourceName>(
  Object.entries(SOURCES).flatMap(([name, source]) => source.eventTypes.map((type) => [type as EventType, name as SourceName])),
);
// Sources of entities with a lifecycle: the ones defined by an event (incident opened, ...).
const entitySources = new Set(Object.entries(SOURCES).flatMap(([name, source]) => ('definingType' in source ? [name as SourceName] : [])));

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
export async function planRecomputes(storage: Storage, events: readonly EventRef[], now: Date): Promise<Recompute[]> {
  // First the distinct (source, team, day) touched, then periods and KPIs: a batch of thousands
  // of events touches a handful of days per team.
  const daysTouched = new Map<string, { source: SourceName; team: string; days: Set<number> }>();
  const touch = (source: SourceName, team: string, time: number) => {
    const key = `${source}|${team}`;
    let entry = daysTouched.get(key);
    if (!entry) daysTouched.set(key, (entry = { source, team, days: new Set() }));
    entry.days.add(Math.floor(time / DAY));
  };

  const lifecycle = new Map<SourceName, Set<string>>();
  for (const event of events) {
    const source = sourceOfType.get(event.type);
    if (!source) continue;
    if (entitySources.has(source)) {
      let ids = lifecycle.get(source);
      if (!ids) lifecycle.set(source, (ids = new Set()));
      ids.add(event.entityId);
    } else {
      touch(source, event.team, Date.parse(event.time)); // validated RFC 3339
    }
  }
  for (const [source, ids] of lifecycle) {
    const rows = await storage.query<{ team: string; times: string[] }>(
      `SELECT anyIf(team, team != '') AS team, groupUniqArray(toString(toUnixTimestamp64Milli(time))) AS times
       FROM {db:Identifier}.entity_events
       WHERE type IN {types:Array(String)} AND entity_id IN {ids:Array(String)}
       GROUP BY entity_id`,
      { types: [...SOURCES[source].eventTypes], ids: [...ids] },
    );
    for (const row of rows) {
      // An entity whose defining event has not arrived yet counts nowhere: nothing to recompute.
      if (row.team === '') continue;
      for (const time of row.times) touch(source, row.team, Number(time));
    }
  }

  const plans: Recompute[] = [];
  for (const { source, team, days } of daysTouched.values()) {
    // Periods are whole UTC days: the day decides the period of every granularity.
    const starts = GRANULARITIES.map((granularity) => new Set([...days].map((day) => periodStartOf(granularity, day * DAY).getTime())));
    for (const kpi of CATALOG) {
      if (kpi.source !== source) continue;
      // Live state (drift coverage) and open-item details (incidents open past target) hold from
      // the event on: every later period up to the open one changes too.
      const throughNow = kpi.anchor === 'period_end' || kpi.backlog !== undefined;
      for (const [index, granularity] of GRANULARITIES.entries()) {
        const periods = new Set(starts[index]);
        if (throughNow && periods.size > 0) {
          for (let start = new Date(Math.min(...periods)); start <= now; start = nextPeriodStart(granularity, start)) periods.add(start.getTime());
        }
        for (const start of periods) {
          const periodStart = new Date(start).toISOString();
          plans.push({ kpi: kpi.id, granularity, periodStart, team }, { kpi: kpi.id, granularity, periodStart, team: ALL_TEAMS });
        }
      }
    }
  }
  return plans;
}
