import type { KafkaMessage } from 'kafkajs';
import { decodeEventMessage, entityIdOf, teamOf, type CloudEvent } from '@kpi/events';
import type { Storage } from '@kpi/storage';

/** One row of the `events` table, in the column order of EVENT_COLUMNS. */
export interface EventRow {
  source: string;
  id: string;
  type: string;
  time: string;
  team: string;
  entity_id: string;
  data: string;
  topic: string;
  partition: number;
  offset: string;
}

export const EVENT_COLUMNS = ['source', 'id', 'type', 'time', 'team', 'entity_id', 'data', 'topic', 'partition', 'offset'] as const;

/** What one message becomes: a row to insert, or a DLQ entry naming why. One place acts on it. */
export type StepResult =
  | { kind: 'ok'; row: EventRow; event: CloudEvent }
  | { kind: 'dlq'; reason: string; error: string; message: KafkaMessage };

/**
 * ClickHouse DateTime64(3, 'UTC') text of a validated RFC 3339 timestamp: 2026-06-01 12:00:00.000.
 * Any offset is applied and sub-millisecond digits are truncated, as Date.parse does.
 */
export function clickhouseTime(rfc3339: string): string {
  // Already UTC to the millisecond, as most producers send it: no Date needed.
  const iso = rfc3339.length === 24 && rfc3339.endsWith('Z') ? rfc3339 : new Date(Date.parse(rfc3339)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** The stored row of a validated event; `origin` says where it was read (topic, partition, offset). */
export function eventRow(event: CloudEvent, origin: { topic: string; partition: number; offset: string }): EventRow {
  return {
    source: event.source,
    id: event.id,
    type: event.type,
    time: clickhouseTime(event.time),
    team: teamOf(event),
    entity_id: entityIdOf(event),
    data: JSON.stringify(event.data),
    topic: origin.topic,
    partition: origin.partition,
    offset: origin.offset,
  };
}

export function decodeMessage(message: KafkaMessage, topic: string, partition: number, maxBytes: number): StepResult {
  const decoded = decodeEventMessage(message.value, maxBytes);
  if (!decoded.ok) return { kind: 'dlq', reason: decoded.reason, error: decoded.error, message };
  return { kind: 'ok', event: decoded.event, row: eventRow(decoded.event, { topic, partition, offset: message.offset }) };
}

// TabSeparated escaping. Producer strings may hold anything; most hold none of these, and
// testing first is far cheaper than replacing.
const SPECIAL = /[\\\t\n\r\0]/;
const SPECIALS = /[\\\t\n\r\0]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };
const field = (value: string) => (SPECIAL.test(value) ? value.replace(SPECIALS, (c) => ESCAPED[c]!) : value);

/** TabSeparated text of rows, columns in EVENT_COLUMNS order. */
export function encodeEventRows(rows: readonly EventRow[]): string {
  let out = '';
  for (const r of rows) {
    out += `${field(r.source)}\t${field(r.id)}\t${field(r.type)}\t${r.time}\t${field(r.team)}\t${field(r.entity_id)}\t${field(r.data)}\t${field(r.topic)}\t${r.partition}\t${r.offset}\n`;
  }
  return out;
}

/** Inserts event rows in one statement; `token` makes a repeat of the same insert a no-op. */
export function insertEventRows(storage: Storage, rows: readonly EventRow[], token: string): Promise<void> {
  return storage.insertTabSeparated('events', EVENT_COLUMNS, encodeEventRows(rows), { insert_deduplication_token: token });
}
