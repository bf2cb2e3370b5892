import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { Config } from '@kpi/config';

/** Where kafkajs logs go: its transient connection errors are retried, so they are debug detail. */
export type KafkaLogSink = (level: 'debug' | 'warn', message: string, extra: Record<string, unknown>) => void;

export function createKafka(config: Pick<Config['kafka'], 'clientId'>, brokers: string[], sink?: KafkaLogSink): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers,
    logLevel: sink ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => ({ level, log }) => {
      const { message, ...extra } = log;
      sink?.(level === logLevel.WARN ? 'warn' : 'debug', message, extra);
    },
    // Reconnect for as long as it takes: a broker restart must not end the process.
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: Number.MAX_SAFE_INTEGER },
  });
}

/**
 * Idempotent producer with acks from all in-sync replicas: a retried send never writes twice
 * to the log, and a send resolves only once the message is durable.
 */
export async function createProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return producer;
}

/** Creates the topics that do not exist yet (idempotent). */
export async function ensureTopics(kafka: Kafka, topics: string[], partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      // kafkajs' own waitForLeaders gives up on a topic the broker's metadata does not show yet; the loop below waits for it.
      await admin.createTopics({ waitForLeaders: false, topics: missing.map((topic) => ({ topic, numPartitions: partitions })) }).catch(async (error: Error) => {
        // Another replica may have created them in the meantime: only a topic still missing is an error.
        const now = new Set(await admin.listTopics());
        if (missing.some((topic) => !now.has(topic))) throw error;
      });
    }
    // A new topic is usable once every partition has a leader in the broker's metadata.
    for (let attempt = 0; ; attempt++) {
      const metadata = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
      if (metadata?.topics.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0))) break;
      if (attempt >= 100) throw new Error(`topics ${topics.join(', ')} have no leader after 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/** True when a broker answers a metadata request within `timeoutMs`. */
export async function kafkaReachable(kafka: Kafka, timeoutMs = 2_000): Promise<boolean> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  const probe = (async () => {
    try {
      await admin.connect();
      await admin.describeCluster();
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  })();
  return Promise.race([probe, timeout]);
}

/** Messages behind the high watermark for each partition of `topics`, for a consumer group. */
export async function consumerGroupLag(kafka: Kafka, groupId: string, topics: string[]): Promise<{ topic: string; partition: number; lag: number }[]> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics });
    const lags: { topic: string; partition: number; lag: number }[] = [];
    for (const { topic, partitions } of committed) {
      const watermarks = await admin.fetchTopicOffsets(topic);
      for (const watermark of watermarks) {
        const offset = partitions.find((partition) => partition.partition === watermark.partition)?.offset ?? '-1';
        const start = Number(offset) < 0 ? Number(watermark.low) : Number(offset);
        lags.push({ topic, partition: watermark.partition, lag: Math.max(0, Number(watermark.high) - start) });
      }
    }
    return lags;
  } finally {
    await admin.disconnect();
  }
}

const KAFKA_UNAVAILABLE = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSNumberOfRetriesExceeded', 'KafkaJSBrokerNotFound', 'KafkaJSLockTimeout', 'KafkaJSTimeout', 'KafkaJSGroupCoordinatorNotFound', 'KafkaJSNoBrokerAvailableError']);

/** True when `error` says no Kafka broker could be reached or answered in time (not a refused request). */
export function isKafkaUnavailable(error: unknown): boolean {
  return error instanceof Error && KAFKA_UNAVAILABLE.has(error.name);
}
