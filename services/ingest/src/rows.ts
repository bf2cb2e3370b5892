import type { KafkaMessage } from 'kafkajs';
import { decodeEventMessage, entityIdOf, teamOf, type CloudEvent } from '@kpi/events';

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

/** What one message becomes: a row to insert, or a DLQ entry naming why. One place acts on it. */
export type StepResult =
  | { kind: 'ok'; row: EventRow; event: CloudEvent }
  | { kind: 'dlq'; reason: string; error: string; message: KafkaMessage };

/** ClickHouse DateTime64(3, 'UTC') text form of an instant. */
export function clickhouseTime(epochMillis: number): string {
  return new Date(epochMillis).toISOString().replace('T', ' ').replace('Z', '');
}

export function decodeMessage(message: KafkaMessage, topic: string, partition: number, maxBytes: number): StepResult {
  const decoded = decodeEventMessage(message.value, maxBytes);
  if (!decoded.ok) return { kind: 'dlq', reason: decoded.reason, error: decoded.error, message };
  const event = decoded.event;
  return {
    kind: 'ok',
    event,
    row: {
      source: event.source,
      id: event.id,
      type: event.type,
      // The schema has validated `time` as RFC 3339 with an offset, which Date.parse reads exactly.
      time: clickhouseTime(Date.parse(event.time)),
      team: teamOf(event),
      entity_id: entityIdOf(event),
      data: JSON.stringify(event.data),
      topic,
      partition,
      offset: message.offset,
    },
  };
}
