import { DelayedError, Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobSeconds, jobsEnqueued, jobsProcessed, queueErrors } from '@kpi/metrics';
import { queueCatalog, type Payload, type QueueKey, type Recompute } from './catalog.ts';
import { DirtySet } from './dirty.ts';
import { Postpone, RECOMPUTE_DELAY_MS, RecomputePace } from './pace.ts';
import { execAll } from './redis.ts';

const defaultJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000 },
};


export interface Queues {
  readonly prefix: string;
  readonly dirty: DirtySet;
  /** When each source's next recompute may run (see RecomputePace). */
  readonly pace: RecomputePace;
  queue(key: QueueKey): Queue;
  /**
   * Opens every queue once Redis answers. A BullMQ Queue first used while Redis is away waits for
   * it however long it takes; opened at start-up, its commands fail fast like the connection's.
   */
  open(): Promise<void>;
  /** Marks days stale and makes sure a recompute job per affected source is waiting. */
  enqueueRecomputes(recomputes: readonly Recompute[]): Promise<void>;
  close(): Promise<void>;
}

/** Where queue and worker errors are logged (a pino logger). */
export interface ErrorLog {
  warn(context: Record<string, unknown>, message: string): void;
  debug?(context: Record<string, unknown>, message: string): void;
}

const ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * The `error` listener of a BullMQ queue or worker. BullMQ retries what failed (a lost Redis
 * connection, a lock it could not renew) and never lets it crash the process; here every error is
 * counted, and logged with the queue it happened on, one line per 30 s at most while they repeat
 * (with how many were not logged), so an outage is visible without flooding the log.
 */
export function reportErrors(log: ErrorLog, labels: { queue: string; emitter: 'queue' | 'worker' }) {
  let lastLogged = 0;
  let notLogged = 0;
  return (error: Error) => {
    queueErrors.inc(labels);
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) {
      notLogged++;
      return;
    }
    log.warn({ err: error, ...labels, ...(notLogged > 0 ? { not_logged_since_last: notLogged } : {}) }, `BullMQ ${labels.emitter} error on queue ${labels.queue}; BullMQ retries`);
    lastLogged = now;
    notLogged = 0;
  };
}

export function createQueues(connection: Redis, prefix: string, log: ErrorLog): Queues {
  const dirty = new DirtySet(connection, prefix);
  const pace = new RecomputePace(connection, prefix);
  const opened = new Map<QueueKey, Queue>();
  const queue = (key: QueueKey) => {
    let existing = opened.get(key);
    if (!existing) {
      existing = new Queue(queueCatalog[key].name, { connection, prefix, defaultJobOptions });
      // Connection errors are retried by ioredis; /readyz reports Redis being down.
      existing.on('error', reportErrors(log, { queue: queueCatalog[key].name, emitter: 'queue' }));
      opened.set(key, existing);
    }
    return existing;
  };
  return {
    prefix,
    dirty,
    pace,
    queue,
    async open() {
      await Promise.all((Object.keys(queueCatalog) as QueueKey[]).map((key) => queue(key).waitUntilReady()));
    },
    async enqueueRecomputes(recomputes) {
      if (recomputes.length === 0) return;
      const sources = await dirty.add(recomputes);
      jobsEnqueued.inc({ queue: queueCatalog.kpiRecompute.name }, sources.length);
      // One waiting job per source at most (and one running): a job drains every day marked before it
      // starts. It waits RECOMPUTE_DELAY_MS first, so the batches of that moment go into one recompute.
      await queue('kpiRecompute').addBulk(
        sources.map((source) => ({ name: source, data: { source }, opts: { delay: RECOMPUTE_DELAY_MS, deduplication: { id: `recompute|${source}`, keepLastIfActive: true } } })),
      );
    },
    async close() {
      await Promise.all([...opened.values()].map((q) => q.close()));
    },
  };
}

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  log: ErrorLog;
  /** Whether a job's error means a dependency is away (the job then waits and runs again). */
  isOutage?: (error: unknown) => boolean;
}

export type Processor<K extends QueueKey> = (payload: Payload<K>, job: Job) => Promise<unknown>;

/** How long a job waits before it runs again when a dependency it needs is away. */
const OUTAGE_RETRY_MS = 5_000;

/**
 * Starts a worker whose processor gets a parsed payload and is measured in /metrics. A job that
 * fails because a dependency is away (`isOutage`, e.g. ClickHouse down) is no fault of its own:
 * it runs again after a few seconds without using up an attempt, however long the outage lasts.
 * A processor that throws Postpone has its job run again at the time it names, likewise.
 */
export function startWorker<K extends QueueKey>(
  key: K,
  processor: Processor<K>,
  options: WorkerOptions,
): Worker {
  const { name, payload } = queueCatalog[key];
  const worker = new Worker(
    name,
    async (job, token) => {
      const timer = jobSeconds.startTimer({ queue: name });
      const ran = () => {
        const seconds = timer();
        options.log.debug?.({ queue: name, job: job.id, name: job.name, seconds }, 'job ran');
      };
      try {
        const result = await processor(payload.parse(job.data) as Payload<K>, job);
        ran();
        return result;
      } catch (error) {
        // A postponed job did not run: neither its time nor a line of its own.
        if (error instanceof Postpone && token) {
          jobsProcessed.inc({ queue: name, outcome: 'postponed' });
          await job.moveToDelayed(error.until, token);
          throw new DelayedError();
        }
        ran();
        if (!token || !options.isOutage?.(error)) throw error;
        jobsProcessed.inc({ queue: name, outcome: 'delayed' });
        await job.moveToDelayed(Date.now() + OUTAGE_RETRY_MS, token);
        throw new DelayedError();
      }
    },
    { connection: options.connection, prefix: options.prefix, concurrency: options.concurrency },
  );
  worker.on('completed', () => jobsProcessed.inc({ queue: name, outcome: 'completed' }));
  worker.on('failed', (job, error) => {
    jobsProcessed.inc({ queue: name, outcome: 'failed' });
    // BullMQ retries it (attempts, backoff); each failure is worth a line with its reason.
    options.log.warn({ err: error, queue: name, job: job?.id, attempt: job?.attemptsMade }, `job failed on queue ${name}`);
  });
  // A worker error (lost Redis connection) is retried by BullMQ; it must not crash the process, nor go unseen.
  worker.on('error', reportErrors(options.log, { queue: name, emitter: 'worker' }));
  return worker;
}

/**
 * Stops `workers`: they take no new job, jobs in flight get `drainMs` to finish, then the workers
 * close without them. Resolves whether every job in flight finished. An abandoned job stays
 * active in Redis until its lock lapses; BullMQ then runs it again (stalled), so it loses nothing.
 * (A second `close(true)` would not do: BullMQ hands back the first `close()`, still waiting for the jobs.)
 */
export async function stopWorkers(workers: readonly Worker[], drainMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    Promise.all(workers.map((worker) => worker.pause())).then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, drainMs)))),
  ]);
  clearTimeout(timer);
  await Promise.all(workers.map((worker) => worker.close(true)));
  return drained;
}
