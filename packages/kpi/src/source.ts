import type { CustomEventType, EventRef, EventType } from '@kpi/events';
import { identifier, join, param, raw, sql, type Sql } from '@kpi/storage';
import { chTime } from './periods.ts';

/**
 * A source of KPI rows: one row per entity (an incident, a release, an alert) or per sample (a
 * serving window, an answer), computed in ClickHouse from its typed table (migration 011) with
 * the SPEC's rules, so that it comes out the same whatever the order and however often events
 * arrived. Every row has `entity_id`, `team`, `tier` (0 for events that carry none) and the
 * columns its KPIs read.
 */
export interface Source {
  name: string;
  /** What a row is, in breakdowns. */
  entity: string;
  tiered: boolean;
  /** The event types whose events make up the rows. */
  eventTypes: readonly (EventType | CustomEventType)[];
  /**
   * `sample`: every event is a row, assigned by its own time: an event changes its own period.
   * `entity`: a row gathers the events of one entity (its latest triage, its first mitigation):
   * an event can move the entity to another period, so planning reads all the entity's event times.
   */
  planning: SamplePlanning | EntityPlanning;
  /**
   * The rows; with `ranges`, only those that can be anchored in them: a sample source reads only
   * those ranges of its table, an entity source only the entities with an event there (all their
   * events, since an entity's state needs them all).
   */
  rows(ranges?: readonly TimeRange[]): Sql;
  /**
   * For live-state KPIs (anchor `period_end`): the rows live at an instant `at`, one per `per`
   * (the latest first by `latestFirst`).
   */
  live?: { at(at: Sql): Sql; per: string; latestFirst: string };
  /** Sources whose KPIs are evaluated in the process: a row as the entity they read. */
  parse?(row: Record<string, unknown>): unknown;
}

/**
 * A sample's team scope and instant are its event's own (`data.team`, `time`), unless `locate`
 * reads them from the event's data, which ingestion then keeps for planning (`readsData`).
 */
export interface SamplePlanning {
  kind: 'sample';
  readsData?: boolean;
  locate?(ref: EventRef): { team: string; time: number } | undefined;
}

/**
 * Where planning finds an entity's events: `table` (sorted or indexed by entity_id), narrowed by
 * `where`; `team` is the aggregate giving the entity's team scope ('' while its defining event is
 * missing: it counts nowhere yet).
 */
export interface EntityPlanning {
  kind: 'entity';
  table: string;
  where?: Sql;
  team: Sql;
  /** The event that makes an entity exist (SPEC §3); events of an entity without it wait. */
  definingType?: EventType;
}

export function defineSource<const S extends Source>(source: S): Omit<S, 'rows'> & Pick<Source, 'rows'> {
  return source;
}

/**
 * The latest of several versions of a fact: by event time, ties to the later ingested (SPEC §3).
 * Entity rows aggregate every copy of their events with aggregates a duplicate cannot change
 * (argMax by LATEST, min, max, uniq, "has any"), so they read their tables without FINAL; sample
 * rows, which are counted, read each event once (eventsOnce).
 */
export const LATEST = raw('(time, ingested_at, offset)');

/** [from, to): the instants a caller needs rows of. */
export interface TimeRange {
  from: Date;
  to: Date;
}

/** `time` in any of `ranges` (every row without ranges): on a sample table's sorting column, one range read per range. */
export function timeRanges(ranges: readonly TimeRange[] | undefined): Sql {
  if (!ranges) return raw('1');
  if (ranges.length === 0) return raw('0');
  const time = raw('time');
  const any = join(
    ranges.map((range) => sql`(${time} >= ${param(chTime(range.from), "DateTime64(3, 'UTC')")} AND ${time} < ${param(chTime(range.to), "DateTime64(3, 'UTC')")})`),
    ' OR ',
  );
  return sql`(${any})`;
}

/**
 * The events of a sample table (one row per event, sorted by time) in `ranges`, each once: the
 * latest ingested copy (SPEC §3: (source, id) is the event), as a sample KPI counts it. A few
 * days (a recompute) take the latest copy of each event among their rows, where FINAL would also
 * merge every column of the parts ingestion keeps adding; the whole table (a build) streams
 * through FINAL, which holds no set of every event in memory.
 */
export function eventsOnce(table: string, ranges: readonly TimeRange[] | undefined, where: Sql = raw('1')): Sql {
  if (!ranges) return sql`SELECT * FROM {db:Identifier}.${identifier(table)} FINAL WHERE ${where}`;
  return sql`
    SELECT * FROM {db:Identifier}.${identifier(table)}
    WHERE ${timeRanges(ranges)} AND ${where}
    ORDER BY ingested_at DESC
    LIMIT 1 BY source, id`;
}

/**
 * For an entity source: its entities with an event in `ranges` (every entity without ranges).
 * Every anchor of an entity is the time of one of its events, so no entity anchored in the ranges
 * is left out, and an entity read is read with all its events.
 */
export function entitiesWithEventsIn(table: string, ranges: readonly TimeRange[] | undefined, where: Sql = raw('1')): Sql {
  if (!ranges) return raw('1');
  return sql`entity_id IN (SELECT entity_id FROM {db:Identifier}.${identifier(table)} WHERE ${timeRanges(ranges)} AND ${where})`;
}
