import { produceEvents } from '@kpi/bus';
import type { AnyEvent } from '@kpi/events';
import { DependencyUnavailable, withDeadline, type Runtime } from '@kpi/runtime';

/** How long a request waits for Kafka's acknowledgement before it answers 503. */
const KAFKA_ACK_MS = 1_500;
/**
 * Sends still waiting for Kafka after their request answered 503 (they complete when the broker is
 * back; the events then count once, by (source, id)). Beyond this many, requests are refused at
 * once, so an outage cannot pile up events in memory.
 */
const MAX_UNACKNOWLEDGED = 64;
const unacknowledged = new WeakMap<Runtime, number>();

/**
 * Produces events on behalf of a request (the collector, webhooks, triage): resolves once Kafka
 * acknowledged them; throws DependencyUnavailable('kafka') after 1.5 s, so the request answers
 * 503 in time while the send may still complete.
 */
export async function produceForRequest(runtime: Runtime, events: AnyEvent[]): Promise<void> {
  const waiting = unacknowledged.get(runtime) ?? 0;
  if (waiting >= MAX_UNACKNOWLEDGED) throw new DependencyUnavailable('kafka', `${waiting} earlier sends are still unacknowledged`);
  unacknowledged.set(runtime, waiting + 1);
  const sending = (async () => produceEvents(await runtime.producer(), runtime.config.kafka.topics, events))().finally(() => unacknowledged.set(runtime, unacknowledged.get(runtime)! - 1));
  await withDeadline(sending, KAFKA_ACK_MS, 'kafka', 'acknowledging the events');
}
