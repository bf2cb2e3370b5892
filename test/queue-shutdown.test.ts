import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createQueues, startWorker, stopWorkers } from '@kpi/queue';
import { sharedInfra, uniqueName } from '@kpi/testing';

const log = { warn: () => undefined };

/** A worker on its own queue prefix whose one job runs until the test lets it finish. */
async function workerWithRunningJob() {
  const connection = new Redis(sharedInfra().redisUrl, { maxRetriesPerRequest: null });
  const prefix = uniqueName('shutdown');
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  let finished = false;
  const worker = startWorker(
    'kpiRefresh',
    async () => {
      started();
      await released;
      finished = true;
    },
    { connection, prefix, concurrency: 1, log },
  );
  const queues = createQueues(connection, prefix, log);
  const job = await queues.queue('kpiRefresh').add('refresh', {});
  await running;
  return { worker, job, release, finished: () => finished, close: async () => (await queues.close(), connection.disconnect()) };
}

describe('stopping workers', () => {
  it('abandons a job still running after the drain time: the workers close, the job stays active for BullMQ to run again', async () => {
    const { worker, job, release, finished, close } = await workerWithRunningJob();
    let closed = false;
    worker.once('closed', () => (closed = true));
    expect(await stopWorkers([worker], 200)).toBe(false);
    expect(finished()).toBe(false);
    expect(closed).toBe(true);
    // Not completed, not failed: its lock lapses and a worker runs it again as stalled.
    expect(await job.getState()).toBe('active');
    release();
    await close();
  });

  it('waits for a job that finishes within the drain time, which then completes', async () => {
    const { worker, job, release, finished, close } = await workerWithRunningJob();
    setTimeout(release, 100);
    expect(await stopWorkers([worker], 10_000)).toBe(true);
    expect(finished()).toBe(true);
    expect(worker.isRunning()).toBe(false);
    expect(await job.getState()).toBe('completed');
    await close();
  });
});
