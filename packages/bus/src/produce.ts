import type { Producer } from 'kafkajs';
import type { Config } from '@kpi/config';
import { entityIdOf, topicOf, type AnyEvent } from '@kpi/events';

export type Topics = Config['kafka']['topics'];

/**
 * Produces events to their topics, keyed by entity (ordering per entity), acknowledged by every
 * in-sync replica, in batches. Resolves once all are durable; a failure part-way is safe to retry
 * whole: the events written before it count once, by (source, id).
 */
export async function produceEvents(producer: Producer, topics: Topics, events: readonly AnyEvent[], batchSize = 5_000): Promise<void> {
  for (let start = 0; start < events.length; start += batchSize) {
    const byTopic = new Map<string, { key: string | null; value: string }[]>();
    for (const event of events.slice(start, start + batchSize)) {
      const topic = topics[topicOf(event.type)];
      const message = { key: entityIdOf(event) || null, value: JSON.stringify(event) };
      const messages = byTopic.get(topic);
      if (messages) messages.push(message);
      else byTopic.set(topic, [message]);
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  }
}
