import { entityIdOf, teamOf, type AnyEvent } from '@kpi/events';
import { tsvField as field } from '@kpi/storage';

/** Where a message was read: stored with its event, so any row can be traced back to Kafka. */
export interface Origin {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * ClickHouse DateTime64(3, 'UTC') text of a validated RFC 3339 timestamp: 2026-06-01 12:00:00.000.
 * Any offset is applied and sub-millisecond digits are truncated, as Date.parse does.
 */
export function clickhouseTime(rfc3339: string): string {
  // Already UTC to the millisecond, as most producers send it: no Date needed.
  const iso = rfc3339.length === 24 && rfc3339.endsWith('Z') ? rfc3339 : new Date(Date.parse(rfc3339)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/**
 * The `events` row of a validated event as one TabSeparated line (EVENT_COLUMNS of
 * @kpi/storage): built straight from the event, since an object per row would cost more than the
 * insert itself. `json` is the event's data as JSON text, when the caller has it already.
 */
export function eventLine(event: AnyEvent, origin: Origin, json = JSON.stringify(event.data)): string {
  // `type` is one of the schema's names and the time is ours: neither needs escaping.
  return `${field(event.source)}\t${field(event.id)}\t${event.type}\t${clickhouseTime(event.time)}\t${field(teamOf(event))}\t${field(entityIdOf(event))}\t${field(json)}\t${field(origin.topic)}\t${origin.partition}\t${origin.offset}\n`;
}

