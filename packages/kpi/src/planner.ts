import type { EventRef } from '@kpi/events';
import { identifier, param, sql, type Storage } from '@kpi/storage';
import { CATALOG } from './catalog.ts';
import type { KpiDefinition } from './definition.ts';
import { ALL_TEAMS } from './engine/compute.ts';
import { GRANULARITIES, nextPeriodStart, periodStartOf, type Granularity } from './periods.ts';
import type { EntityPlanning, Source } from './source.ts';

/** One (KPI, granularity, period, team scope) that an event made stale; '*' is the whole organisation. */
export interface StaleScope {
  kpi: string;
  granularity: Granularity;
  periodStart: string;
  team: string;
}

const DAY = 86_400_000;

/**
 * The (KPI, period, scope) recomputes that just-inserted events call for, and no others.
 * A sample (a serving window, an answer) changes the periods of its own time. An entity's KPIs
 * are anchored on one of its events' times (opened, first mitigation, latest triage, first
 * cross-team reuse, ...), so for an entity event the affected periods are those of every event
 * time of the entity, read back from ClickHouse: a late mitigation, a correction or a decision
 * before its start all reach the right period, and so does the period an entity moved out of.
 * Live-state KPIs (drift coverage) and open-item details (incidents open past target) change
 * from the event onwards, through the current period. Each affects its team's scope and the
 * whole organisation's.
 */
export async function planRecomputes(storage: Storage, events: readonly EventRef[], now: Date, catalog: readonly KpiDefinition[] = CATALOG): Promise<StaleScope[]> {
  // First the distinct (source, team, day) touched, then periods and KPIs: a batch of thousands
  // of events touches a handful of days per team.
  const daysTouched = new Map<string, { source: Source; team: string; days: Set<number> }>();
  const touch = (source: Source, team: string, time: number) => {
    const key = `${source.name}|${team}`;
    let entry = daysTouched.get(key);
    if (!entry) daysTouched.set(key, (entry = { source, team, days: new Set() }));
    entry.days.add(Math.floor(time / DAY));
  };

  const sourcesOfType = new Map<EventRef['type'], Source[]>();
  for (const source of new Set(catalog.map((kpi) => kpi.source))) {
    for (const type of source.eventTypes) sourcesOfType.set(type, [...(sourcesOfType.get(type) ?? []), source]);
  }
  const entityIds = new Map<Source, Set<string>>();
  for (const event of events) {
    for (const source of sourcesOfType.get(event.type) ?? []) {
      if (source.planning.kind === 'sample') {
        const located = source.planning.locate ? source.planning.locate(event) : { team: event.team, time: Date.parse(event.time) }; // validated RFC 3339
        if (located) touch(source, located.team, located.time);
        continue;
      }
      let ids = entityIds.get(source);
      if (!ids) entityIds.set(source, (ids = new Set()));
      ids.add(event.entityId);
    }
  }
  for (const [source, ids] of entityIds) {
    for (const row of await entityEventTimes(storage, source.planning as EntityPlanning, [...ids])) {
      // An entity whose defining event has not arrived yet counts nowhere: nothing to recompute.
      if (row.team === '') continue;
      for (const time of row.times) touch(source, row.team, Number(time));
    }
  }

  const plans: StaleScope[] = [];
  for (const { source, team, days } of daysTouched.values()) {
    // Periods are whole UTC days: the day decides the period of every granularity.
    const starts = GRANULARITIES.map((granularity) => new Set([...days].map((day) => periodStartOf(granularity, day * DAY).getTime())));
    for (const kpi of catalog) {
      if (kpi.source !== source) continue;
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

/** Every event time of the given entities, with the team scope of each. */
function entityEventTimes(storage: Storage, planning: EntityPlanning, ids: string[]): Promise<{ team: string; times: string[] }[]> {
  return storage.query<{ team: string; times: string[] }>(sql`
    SELECT ${planning.team} AS team, groupUniqArray(toString(toUnixTimestamp64Milli(time))) AS times
    FROM {db:Identifier}.${identifier(planning.table)}
    WHERE entity_id IN ${param(ids, 'Array(String)')} AND ${planning.where ?? sql`1`}
    GROUP BY entity_id`);
}
