import type { Worker } from 'bullmq';
import { startWorker } from '@kpi/queue';
import type { RoleHandle, Runtime } from '@kpi/runtime';
import { recomputeStale, refreshOpenPeriods } from './kpi-jobs.ts';

export { recomputeStale, rebuildAll, refreshOpenPeriods } from './kpi-jobs.ts';

/** Repeatable jobs, declared once and reconciled at start-up. */
const SCHEDULES = [{ queue: 'kpiRefresh', id: 'refresh-open-periods', everyMs: 5 * 60_000 }] as const;

export async function startWorkerRole(runtime: Runtime): Promise<RoleHandle> {
  const { storage, redis, queues, config } = runtime;
  const options = { connection: redis, prefix: config.queuePrefix, concurrency: config.worker.concurrency };
  const workers: Worker[] = [
    startWorker(
      'kpiRecompute',
      // While a KPI's job runs, new stale scopes queue one more run of it (keepLastIfActive).
      async (payload, job) => {
        const recomputed = await recomputeStale(storage, queues.dirty, payload.kpi, job.id!);
        await queues.valuesChanged();
        return { recomputed };
      },
      options,
    ),
    startWorker(
      'kpiRefresh',
      async () => {
        const written = await refreshOpenPeriods(storage);
        await queues.valuesChanged();
        return { written };
      },
      { ...options, concurrency: 1 },
    ),
  ];
  for (const schedule of SCHEDULES) {
    await queues.queue(schedule.queue).upsertJobScheduler(schedule.id, { every: schedule.everyMs }, { name: schedule.id, data: {} });
  }
  return {
    id: 'worker',
    async stop() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
