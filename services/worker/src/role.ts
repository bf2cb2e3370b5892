import type { Worker } from 'bullmq';
import { startWorker } from '@kpi/queue';
import type { RoleHandle, Runtime } from '@kpi/runtime';
import type { Config } from '@kpi/config';
import { recomputeHistory, recomputeStale, refreshOpenPeriods } from './kpi-jobs.ts';
import { evaluateAfterRecompute, startAlertWorkers } from './alerts-jobs.ts';
import { REPORT_SCHEDULE, startReportWorkers } from './reports.ts';
import { GROWTHBOOK_POLL, startGrowthbookWorkers } from './growthbook-jobs.ts';

export { recomputeHistory, recomputeStale, rebuildAll, refreshOpenPeriods } from './kpi-jobs.ts';

/** Repeatable jobs, declared once and reconciled at start-up. */
const schedules = (config: Config, connectors: Runtime['connectors']) =>
  [
    { queue: 'kpiRefresh', id: 'refresh-open-periods', everyMs: 5 * 60_000 },
    { queue: 'alertEvaluate', id: 'evaluate-alert-rules', everyMs: config.alerts.evaluationIntervalMs },
    REPORT_SCHEDULE,
    ...(connectors.growthbook ? [GROWTHBOOK_POLL] : []),
  ] as const;

export async function startWorkerRole(runtime: Runtime): Promise<RoleHandle> {
  const { storage, redis, queues, config } = runtime;
  const options = { connection: redis, prefix: config.queuePrefix, concurrency: config.worker.concurrency };
  const workers: Worker[] = [
    startWorker(
      'kpiRecompute',
      // While a KPI's job runs, new stale scopes queue one more run of it (keepLastIfActive).
      async (payload, job) => {
        const recomputed = await recomputeStale(storage, runtime.catalog, queues.dirty, payload.kpi, job.id!);
        await queues.valuesChanged();
        await evaluateAfterRecompute(runtime);
        return { recomputed };
      },
      options,
    ),
    startWorker(
      'kpiRefresh',
      async () => {
        const written = await refreshOpenPeriods(storage, runtime.catalog.list());
        await queues.valuesChanged();
        await evaluateAfterRecompute(runtime);
        return { written };
      },
      { ...options, concurrency: 1 },
    ),
    startWorker(
      'kpiHistory',
      async (payload) => {
        const written = await recomputeHistory(storage, runtime.catalog, payload.kpi);
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
    async stop() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
