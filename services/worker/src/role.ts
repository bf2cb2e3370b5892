import type { Worker } from 'bullmq';
import { createQueues, startWorker } from '@kpi/queue';
import { within, type Deadline, type RoleHandle, type Runtime } from '@kpi/runtime';
import type { Config } from '@kpi/config';
import { recomputeStale, refreshOpenPeriods } from './kpi-jobs.ts';
import { evaluateAfterRecompute, startAlertWorkers } from './alerts-jobs.ts';
import { REPORT_SCHEDULE, startReportWorkers } from './reports.ts';
import { GROWTHBOOK_POLL, startGrowthbookWorkers } from './growthbook-jobs.ts';

export { recomputeStale, rebuildAll, refreshOpenPeriods } from './kpi-jobs.ts';

/** Repeatable jobs, declared once and reconciled at start-up. */
const schedules = (config: Config, connectors: Runtime['connectors']) =>
  [
    { queue: 'kpiRefresh', id: 'refresh-open-periods', everyMs: 5 * 60_000 },
    { queue: 'alertEvaluate', id: 'evaluate-alert-rules', everyMs: config.alerts.evaluationIntervalMs },
    REPORT_SCHEDULE,
    ...(connectors.growthbook ? [GROWTHBOOK_POLL] : []),
  ] as const;

export async function startWorkerRole(base: Runtime): Promise<RoleHandle> {
  // Workers and their jobs wait for an absent Redis to come back instead of failing (and using up
  // their attempts): background work is delayed by an outage, never lost to it.
  const redis = base.workerRedis();
  const runtime: Runtime = { ...base, redis, queues: createQueues(redis, base.config.queuePrefix) };
  const { storage, queues, config } = runtime;
  const options = { connection: redis, prefix: config.queuePrefix, concurrency: config.worker.concurrency };
  const workers: Worker[] = [
    startWorker(
      'kpiRecompute',
      // While a KPI's job runs, new stale scopes queue one more run of it (keepLastIfActive).
      async (payload, job) => {
        const recomputed = await recomputeStale(storage, queues.dirty, payload.kpi, job.id!);
        await queues.valuesChanged();
        await evaluateAfterRecompute(runtime);
        return { recomputed };
      },
      options,
    ),
    startWorker(
      'kpiRefresh',
      async () => {
        const written = await refreshOpenPeriods(storage);
        await queues.valuesChanged();
        await evaluateAfterRecompute(runtime);
        return { written };
      },
      { ...options, concurrency: 1 },
    ),
    ...startAlertWorkers(runtime, options),
    ...startReportWorkers(runtime, options),
    ...startGrowthbookWorkers(runtime, options),
  ];
  for (const schedule of schedules(config, runtime.connectors)) {
    const repeat = 'pattern' in schedule ? { pattern: schedule.pattern } : { every: schedule.everyMs };
    await queues.queue(schedule.queue).upsertJobScheduler(schedule.id, repeat, { name: schedule.id, data: {} });
  }
  return {
    id: 'worker',
    async stop(deadline?: Deadline) {
      const drained = Promise.all(workers.map((worker) => worker.close()));
      // Jobs in flight may finish until a second before the deadline; then they are left to be
      // retried as stalled (their taken scopes stay in Redis, see DirtySet), and the stop is unclean.
      if (deadline && !(await within(drained, deadline.remaining() - 1_000)).done) {
        await Promise.all(workers.map((worker) => worker.close(true)));
        throw new Error('jobs still running at the shutdown deadline were left to be retried');
      }
      await drained;
      await queues.close();
    },
  };
}
