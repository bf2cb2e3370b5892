import type { EventRef } from '@kpi/events';
import { identifier, param, sql, type Storage } from '@kpi/storage';
import { CATALOG } from './catalog.ts';
import { granularitiesOf, type KpiDefinition } from './definition.ts';
import { ALL_TEAMS, type Window } from './engine/scopes.ts';
import { nextPeriodStart, periodStartOf, type Granularity } from './periods.ts';
import type { EntityPlanning, Source } from './source.ts';

/** A UTC day of one team whose rows of a source changed: its states, and every period containing it, are stale. */
export interface DirtyDay {
  source: string;
  team: string;
  /** 'YYYY-MM-DD' */
  day: string;
}

/** One (KPI, granularity, period, team scope) to recompute; '*' is the whole organisation. */
export interface StaleScope {
  kpi: string;
  granularity: Granularity;
  periodStart: string;
  team: string;
}

const DAY = 86_400_000;
const dayText = (time: number) => new Date(Math.floor(time / DAY) * DAY).toISOString().slice(0, 10);

/**
 * The days just-inserted events changed, per source and team, and no others. A sample (a serving
 * window, an answer) changes the day of its own anchor. An entity's KPIs are anchored on its
 * events' times (opened, first mitigation, latest triage, first cross-team reuse, ...), so for an
 * entity event the changed days are those of every event of the entity, read back from
 * ClickHouse: a late mitigation, a correction or a decision before its start all reach the right
 * day, and so does the day an entity moved out of.
 */
export async function planRecomputes(storage: Storage, events: readonly EventRef[], catalog: readonly KpiDefinition[] = CATALOG): Promise<DirtyDay[]> {
  const dirty = new Map<string, DirtyDay>();
  const touch = (source: Source, team: string, time: number) => {
    const mark = { source: source.name, team, day: dayText(time) };
    dirty.set(`${mark.source}|${mark.team}|${mark.day}`, mark);
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
  return [...dirty.values()];
}

/** Every event time of the given entities, with the team scope of each. */
function entityEventTimes(storage: Storage, planning: EntityPlanning, ids: string[]): Promise<{ team: string; times: string[] }[]> {
  return storage.query<{ team: string; times: string[] }>(sql`
    SELECT ${planning.team} AS team, groupUniqArray(toString(toUnixTimestamp64Milli(time))) AS times
    FROM {db:Identifier}.${identifier(planning.table)}
    WHERE entity_id IN ${param(ids, 'Array(String)')} AND ${planning.where ?? sql`1`}
    GROUP BY entity_id`);
}

/**
 * What changed days make stale for one KPI: the periods of every granularity it offers that contain them,
 * for each team and the organisation. Live-state KPIs (drift coverage) and open-item details
 * (incidents open past target) change from the day onwards, through the current period.
 * `windows` span the stale periods (for computeValues); `scopes` are the stale ones exactly.
 */
export function staleScopes(kpi: KpiDefinition, teamDays: ReadonlyMap<string, readonly string[]>, now: Date): { windows: Window[]; scopes: StaleScope[] } {
  const throughNow = kpi.anchor === 'period_end' || kpi.backlog !== undefined;
  const windows: Window[] = [];
  const scopes: StaleScope[] = [];
  const allDays = [...new Set([...teamDays.values()].flat())].map((day) => Date.parse(`${day}T00:00:00Z`));
  for (const granularity of granularitiesOf(kpi)) {
    const startsOf = (days: readonly number[]) => {
      const starts = new Set(days.map((day) => periodStartOf(granularity, day).getTime()));
      if (throughNow && starts.size > 0) {
        for (let start = new Date(Math.min(...starts)); start <= now; start = nextPeriodStart(granularity, start)) starts.add(start.getTime());
      }
      return starts;
    };
    const organisation = startsOf(allDays);
    if (organisation.size === 0) continue;
    windows.push({ granularity, from: new Date(Math.min(...organisation)), to: nextPeriodStart(granularity, new Date(Math.max(...organisation))) });
    const periodsOf = [...teamDays].map(([team, days]) => [team, startsOf(days.map((day) => Date.parse(`${day}T00:00:00Z`)))] as const);
    for (const [team, starts] of [...periodsOf, [ALL_TEAMS, organisation] as const]) {
      for (const start of starts) scopes.push({ kpi: kpi.id, granularity, periodStart: new Date(start).toISOString(), team });
    }
  }
  return { windows, scopes };
}
