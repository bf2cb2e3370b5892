import type { Worker } from 'bullmq';
import { createQueues, startWorker, stopWorkers } from '@kpi/queue';
import { asUnavailable, Deadline, type RoleHandle, type Runtime } from '@kpi/runtime';
import type { Config } from '@kpi/config';
import { recomputeHistory, recomputeSource, refreshOpenPeriods } from './kpi-jobs.ts';
import { evaluateAfterRecompute, startAlertWorkers } from './alerts-jobs.ts';
import { REPORT_SCHEDULE, startReportWorkers } from './reports.ts';
import { GROWTHBOOK_POLL, startGrowthbookWorkers } from './growthbook-jobs.ts';
import { servicenowSchedule, startServicenowWorkers } from './servicenow-jobs.ts';

export { recomputeHistory, recomputeSource, rebuildAll, refreshOpenPeriods } from './kpi-jobs.ts';

/** Repeatable jobs, declared once and reconciled at start-up. */
const schedules = (config: Config, connectors: Runtime['connectors']) =>
  [
    { queue: 'kpiRefresh', id: 'refresh-open-periods', everyMs: 5 * 60_000 },
    { queue: 'alertEvaluate', id: 'evaluate-alert-rules', everyMs: config.alerts.evaluationIntervalMs },
    REPORT_SCHEDULE,
    ...(connectors.growthbook ? [GROWTHBOOK_POLL] : []),
    ...(connectors.servicenow ? [servicenowSchedule(connectors.servicenow)] : []),
  ] as const;

/** How long a shutdown lets jobs in flight finish. */
const JOB_DRAIN_MS = 3_000;
/** What a shutdown keeps after the jobs for the roles and clients still to stop. */
const JOB_DRAIN_MARGIN_MS = 4_000;

export async function startWorkerRole(base: Runtime): Promise<RoleHandle> {
  // Workers and their jobs wait for an absent Redis to come back instead of failing (and using up
  // their attempts): background work is delayed by an outage, never lost to it.
  const redis = base.workerRedis();
  const runtime: Runtime = { ...base, redis, queues: createQueues(redis, base.config.queuePrefix, base.log) };
  const { storage, queues, config } = runtime;
  // A job that meets ClickHouse (or Kafka) down waits and runs again, whatever its attempts.
  const options = {
    connection: redis,
    prefix: config.queuePrefix,
    concurrency: config.worker.concurrency,
    isOutage: (error: unknown) => asUnavailable(error) !== undefined,
    log: runtime.log.child({ role: 'worker' }),
  };
  const workers: Worker[] = [
    startWorker(
      'kpiRecompute',
      // While a source's job runs, new changed days queue one more run of it (keepLastIfActive),
      // which waits as long as this one took (RecomputePace).
      async (payload, job) => {
        await queues.pace.check(payload.source);
        const started = Date.now();
        const recomputed = await recomputeSource(runtime, runtime.catalog, queues.dirty, payload.source, job.id!);
        await queues.pace.ran(payload.source, Date.now() - started);
        await evaluateAfterRecompute(runtime);
        return { recomputed };
      },
      options,
    ),
    startWorker(
      'kpiRefresh',
      async () => {
        const written = await refreshOpenPeriods(runtime, runtime.catalog.list());
        await evaluateAfterRecompute(runtime);
        return { written };
      },
      { ...options, concurrency: 1 },
    ),
    startWorker(
      'kpiHistory',
      async (payload) => {
        const written = await recomputeHistory(runtime, runtime.catalog, payload.kpi);
        await evaluateAfterRecompute(runtime);
        return { written };
      },
      { ...options, concurrency: 1 },
    ),
    ...startAlertWorkers(runtime, options),
    ...startReportWorkers(runtime, options),
    ...startGrowthbookWorkers(runtime, options),
    ...startServicenowWorkers(runtime, options),
  ];
  for (const schedule of schedules(config, runtime.connectors)) {
    const repeat = 'pattern' in schedule ? { pattern: schedule.pattern } : { every: schedule.everyMs };
    await queues.queue(schedule.queue).upsertJobScheduler(schedule.id, repeat, { name: schedule.id, data: {} });
  }
  return {
    id: 'worker',
    async stop(deadline = Deadline.in(config.shutdown.timeoutMs)) {
      if (redis.status !== 'ready') {
        // Jobs in flight could not be marked done: cut the connection, which ends every wait on
        // Redis, and close without them. They are retried as stalled when a worker next runs (the
        // scopes a recompute took stay in Redis, see DirtySet). (A graceful close would wait for
        // Redis forever, and cannot be turned into a forced one once begun.)
        redis.disconnect();
        await Promise.all(workers.map((worker) => worker.close(true)));
        throw new Error('Redis is unavailable: workers closed without handing back jobs in flight (they are retried when a worker next runs)');
      }
      // Jobs in flight may finish for a while; then they are abandoned, which loses nothing: BullMQ
      // runs a job whose lock lapsed again (stalled), and a recompute takes back the days it had taken.
      const drainMs = Math.min(JOB_DRAIN_MS, deadline.remaining() - JOB_DRAIN_MARGIN_MS);
      if (!(await stopWorkers(workers, drainMs))) runtime.log.warn({ waitedMs: drainMs }, 'jobs still running at shutdown: abandoned, they run again when a worker next runs');
      await queues.close();
    },
  };
}
