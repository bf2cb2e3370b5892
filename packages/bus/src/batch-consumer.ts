import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

export interface BatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Messages handed to `handle` at once (a fetched batch is cut into chunks of this size). */
  chunkSize: number;
  /** How long a fetch waits for data to accumulate: the batching-by-time knob. */
  maxWaitMs: number;
  fromBeginning?: boolean;
  /** Partitions whose chunks are handled at the same time (at most). */
  concurrency: number;
  /**
   * Makes a chunk durable (insert rows, produce DLQ messages). Resolves only when everything is
   * acknowledged; throws to have the same chunk retried. Must be idempotent for a chunk.
   */
  handle(batch: PartitionBatch): Promise<void>;
  onRetry?(error: unknown, attempt: number, batch: PartitionBatch): void;
}

export interface BatchConsumer {
  readonly consumer: Consumer;
  /** Finishes the chunk in flight, commits it, leaves the group. */
  stop(): Promise<void>;
}

/**
 * Insert-then-commit consumption: a chunk's offsets are committed only after `handle`
 * resolved, so a crash at any point re-delivers at most the uncommitted chunk, and the
 * handler's idempotency (dedup token, ReplacingMergeTree) absorbs the repeat. While `handle`
 * fails (ClickHouse down) the same chunk is retried with capped exponential backoff and
 * heartbeats, so the partition waits instead of skipping, and the process does not exit.
 */
export async function startBatchConsumer(options: BatchConsumerOptions): Promise<BatchConsumer> {
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: options.maxWaitMs,
    minBytes: 1,
    // A fetch holds at most this much per partition in memory (x partitions consumed at once).
    maxBytesPerPartition: 1024 * 1024,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  let stopping = false;
  await consumer.connect();
  await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // Every partition at once: while one chunk is in ClickHouse, others are decoded or committed.
    partitionsConsumedConcurrently: options.concurrency,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      for (let start = 0; start < batch.messages.length; start += options.chunkSize) {
        if (!isRunning() || isStale()) return;
        const chunk: PartitionBatch = { topic: batch.topic, partition: batch.partition, messages: batch.messages.slice(start, start + options.chunkSize) };
        for (let attempt = 1; ; attempt++) {
          try {
            await options.handle(chunk);
            break;
          } catch (error) {
            options.onRetry?.(error, attempt, chunk);
            // Stopping or rebalanced: leave the chunk uncommitted; whoever owns the partition next re-reads it.
            if (stopping || !isRunning() || isStale()) return;
            const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt - 1, 7));
            for (let waited = 0; waited < delay && !stopping; waited += 1_000) {
              await sleep(Math.min(1_000, delay - waited));
              await heartbeat().catch(() => undefined);
            }
            if (stopping) return;
          }
        }
        const lastOffset = chunk.messages.at(-1)!.offset;
        resolveOffset(lastOffset);
        await consumer.commitOffsets([{ topic: chunk.topic, partition: chunk.partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
        await heartbeat();
      }
    },
  });
  return {
    consumer,
    async stop() {
      stopping = true;
      // disconnect() waits for the batch in flight, then leaves the group.
      await consumer.disconnect();
    },
  };
}
