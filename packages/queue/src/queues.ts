import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { jobSeconds, jobsEnqueued, jobsProcessed } from '@kpi/metrics';
import { queueCatalog, recomputeDedupId, type Payload, type QueueKey } from './catalog.ts';

export function createRedis(url: string): Redis {
  // BullMQ workers block on Redis; they need unlimited retries per request.
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

const defaultJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000 },
};

export interface Queues {
  readonly prefix: string;
  queue(key: QueueKey): Queue;
  enqueueRecomputes(payloads: Payload<'kpiRecompute'>[]): Promise<void>;
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, prefix: string): Queues {
  const opened = new Map<QueueKey, Queue>();
  const queue = (key: QueueKey) => {
    let existing = opened.get(key);
    if (!existing) {
      existing = new Queue(queueCatalog[key].name, { connection, prefix, defaultJobOptions });
      opened.set(key, existing);
    }
    return existing;
  };
  return {
    prefix,
    queue,
    async enqueueRecomputes(payloads) {
      if (payloads.length === 0) return;
      jobsEnqueued.inc({ queue: queueCatalog.kpiRecompute.name }, payloads.length);
      await queue('kpiRecompute').addBulk(
        payloads.map((payload) => ({
          name: 'recompute',
          data: queueCatalog.kpiRecompute.payload.parse(payload),
          opts: { deduplication: { id: recomputeDedupId(payload), keepLastIfActive: true } },
        })),
      );
    },
    async close() {
      await Promise.all([...opened.values()].map((q) => q.close()));
    },
  };
}

export type Processor<K extends QueueKey> = (payload: Payload<K>, job: Job) => Promise<unknown>;

/** Starts a worker whose processor gets a parsed payload and is measured in /metrics. */
export function startWorker<K extends QueueKey>(
  key: K,
  processor: Processor<K>,
  options: { connection: ConnectionOptions; prefix: string; concurrency: number },
): Worker {
  const { name, payload } = queueCatalog[key];
  const worker = new Worker(
    name,
    async (job) => {
      const timer = jobSeconds.startTimer({ queue: name });
      try {
        return await processor(payload.parse(job.data) as Payload<K>, job);
      } finally {
        timer();
      }
    },
    { connection: options.connection, prefix: options.prefix, concurrency: options.concurrency },
  );
  worker.on('completed', () => jobsProcessed.inc({ queue: name, outcome: 'completed' }));
  worker.on('failed', () => jobsProcessed.inc({ queue: name, outcome: 'failed' }));
  // A worker error (lost Redis connection) is retried by BullMQ; never let it crash the process.
  worker.on('error', () => undefined);
  return worker;
}
