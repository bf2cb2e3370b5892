import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { planRecomputes } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import { chunkHandler } from './ingest.ts';

export interface ReplayRequest {
  topic: string;
  /** Start at this offset in every partition, or at the first message at or after this instant. */
  from: { offset: string } | { timestamp: Date };
}

/**
 * Re-reads a topic from an offset or an instant up to its end at the time of the call, into
 * ClickHouse through the same chunk handler as the ingest role. Idempotent by construction:
 * every event is keyed by (source, id), so a replay over data already ingested changes no count.
 * Uses a throwaway consumer group, so the live ingest group's offsets are untouched.
 */
export async function replayTopic(runtime: Runtime, request: ReplayRequest): Promise<{ messages: number }> {
  const { kafka, config } = runtime;
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(request.topic)).map((p) => [p.partition, BigInt(p.high)]));
  const starts =
    'offset' in request.from
      ? new Map([...ends.keys()].map((partition) => [partition, (request.from as { offset: string }).offset]))
      : new Map(
          (await admin.fetchTopicOffsetsByTimestamp(request.topic, request.from.timestamp.getTime())).map((p) => [
            p.partition,
            // -1: no message at or after the instant in this partition, so nothing to replay there.
            Number(p.offset) < 0 ? String(ends.get(p.partition) ?? 0n) : p.offset,
          ]),
        );
  await admin.disconnect();
  const remaining = new Set([...ends].filter(([partition, end]) => BigInt(starts.get(partition) ?? '0') < end).map(([partition]) => partition));
  if (remaining.size === 0) return { messages: 0 };

  const handle = chunkHandler({
    kafka,
    storage: runtime.storage,
    producer: runtime.producer,
    log: runtime.log,
    groupId: '',
    topics: [request.topic],
    dlqTopic: config.kafka.topics.dlq,
    chunkSize: config.ingest.batchSize,
    maxWaitMs: config.ingest.batchMaxWaitMs,
    maxMessageBytes: config.ingest.maxMessageBytes,
    afterInsert: async (events) => runtime.queues.enqueueRecomputes(await planRecomputes(runtime.storage, events, runtime.catalog.list())),
  });
  const consumer = kafka.consumer({ groupId: `${config.kafka.groupId}-replay-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: request.topic, fromBeginning: true });
  let messages = 0;
  await new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [partition, offset] of starts) if (remaining.has(partition)) consumer.seek({ topic: request.topic, partition, offset });
    });
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition)!;
          // A fetch may start before the seek lands: keep exactly the requested range.
          const start = BigInt(starts.get(batch.partition) ?? '0');
          const inRange = batch.messages.filter((message) => BigInt(message.offset) >= start && BigInt(message.offset) < end);
          if (inRange.length > 0) {
            await handle({ topic: batch.topic, partition: batch.partition, messages: inRange });
            messages += inRange.length;
          }
          if (BigInt(batch.lastOffset()) + 1n >= end) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { messages };
}

/** CLI: `node services/ingest/replay.js --topic ml.incidents (--from-offset N | --from-timestamp 2026-01-01T00:00:00Z)`. */
export function parseReplayArgs(argv: string[]): ReplayRequest {
  const { values } = parseArgs({ args: argv, options: { topic: { type: 'string' }, 'from-offset': { type: 'string' }, 'from-timestamp': { type: 'string' } } });
  if (!values.topic) throw new Error('--topic is required');
  if (values['from-offset'] !== undefined) {
    if (!/^\d+$/.test(values['from-offset'])) throw new Error('--from-offset: expected a non-negative integer');
    return { topic: values.topic, from: { offset: values['from-offset'] } };
  }
  if (values['from-timestamp'] !== undefined) {
    const timestamp = new Date(values['from-timestamp']);
    if (Number.isNaN(timestamp.getTime())) throw new Error('--from-timestamp: expected an RFC 3339 timestamp');
    return { topic: values.topic, from: { timestamp } };
  }
  return { topic: values.topic, from: { offset: '0' } };
}
