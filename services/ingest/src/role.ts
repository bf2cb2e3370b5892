import { planRecomputes } from '@kpi/kpi';
import type { Runtime, RoleHandle } from '@kpi/runtime';
import { consumerGroupLag, ensureTopics } from '@kpi/bus';
import { consumerLag } from '@kpi/metrics';
import { startIngest, type IngestOptions } from './ingest.ts';

export { chunkHandler, startIngest, storeChunk, storeEvents, type ChunkRows, type IngestOptions } from './ingest.ts';
export { kpiLineOf, KPI_TABLE_COLUMNS, type KpiTable } from './kpi-rows.ts';
export { eventLine } from './rows.ts';

/** The ingest role: the four event topics -> ClickHouse, then recompute jobs for what changed. */
export async function startIngestRole(runtime: Runtime, overrides: Partial<IngestOptions> = {}): Promise<RoleHandle> {
  const { config, queues } = runtime;
  // Raw inserts and recompute planning on a connection of their own, beside reads and recomputes.
  const storage = runtime.storage.lane('ingest');
  const { topics } = config.kafka;
  await ensureTopics(runtime.kafka, Object.values(topics), config.kafka.partitions);
  const consumer = await startIngest({
    kafka: runtime.kafka,
    storage,
    producer: runtime.producer,
    log: runtime.log,
    groupId: config.kafka.groupId,
    topics: [topics.releases, topics.incidents, topics.experiments, topics.signals],
    dlqTopic: topics.dlq,
    chunkSize: config.ingest.batchSize,
    concurrency: 4 * config.kafka.partitions,
    maxWaitMs: config.ingest.batchMaxWaitMs,
    maxMessageBytes: config.ingest.maxMessageBytes,
    afterInsert: async (events) => queues.enqueueRecomputes(await planRecomputes(storage, events, runtime.catalog.list())),
    customTypes: { current: () => runtime.catalog, refresh: () => runtime.catalog.refresh() },
    ...overrides,
  });
  // Consumer lag per partition, refreshed in the background for /metrics.
  const lagTimer = setInterval(() => {
    consumerGroupLag(runtime.kafka, config.kafka.groupId, [topics.releases, topics.incidents, topics.experiments, topics.signals])
      .then((lags) => lags.forEach(({ topic, partition, lag }) => consumerLag.set({ topic, partition: String(partition) }, lag)))
      // The gauges keep their last values meanwhile; /readyz says whether Kafka answers.
      .catch((error) => runtime.log.warn({ err: error, group: config.kafka.groupId }, 'could not read the consumer lag'));
  }, 10_000);
  lagTimer.unref();
  return {
    id: 'ingest',
    async stop() {
      clearInterval(lagTimer);
      await consumer.stop();
    },
  };
}
