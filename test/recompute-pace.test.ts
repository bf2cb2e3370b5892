import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { jobSeconds, jobsProcessed } from '@kpi/metrics';
import { MAX_RECOMPUTE_PAUSE_MS, Postpone, RECOMPUTE_DELAY_MS, RecomputePace, startWorker } from '@kpi/queue';
import { sharedInfra, uniqueName } from '@kpi/testing';

describe('pacing of the recomputes of one source', () => {
  it('lets the first recompute run at once, then makes the next wait as long as the last one took, within bounds', async () => {
    const redis = new Redis(sharedInfra().redisUrl);
    const pace = new RecomputePace(redis, uniqueName('pace'));
    const now = Date.now();
    await expect(pace.check('incidents', now)).resolves.toBeUndefined();

    expect(await pace.ran('incidents', 800, now)).toBe(now + 800);
    const postponed = await pace.check('incidents', now + 100).catch((error: unknown) => error);
    expect(postponed).toBeInstanceOf(Postpone);
    expect((postponed as Postpone).until).toBe(now + 800);
    await expect(pace.check('incidents', now + 800)).resolves.toBeUndefined();
    // Another source is paced apart.
    await expect(pace.check('servingWindows', now + 100)).resolves.toBeUndefined();

    // A quick recompute still waits the coalescing delay; a long one at most MAX_RECOMPUTE_PAUSE_MS.
    expect(await pace.ran('incidents', 5, now)).toBe(now + RECOMPUTE_DELAY_MS);
    expect(await pace.ran('incidents', 60_000, now)).toBe(now + MAX_RECOMPUTE_PAUSE_MS);
    redis.disconnect();
  });

  it('runs a postponed job at the time named, counted as postponed and timed only when it ran', async () => {
    const connection = new Redis(sharedInfra().redisUrl, { maxRetriesPerRequest: null });
    const prefix = uniqueName('postpone');
    const outcome = async (name: string) => (await jobsProcessed.get()).values.find((value) => value.labels.queue === 'kpi-refresh' && value.labels.outcome === name)?.value ?? 0;
    const timed = async () => (await jobSeconds.get()).values.find((value) => value.metricName === 'kpi_job_seconds_count' && value.labels.queue === 'kpi-refresh')?.value ?? 0;
    const before = { postponed: await outcome('postponed'), completed: await outcome('completed'), failed: await outcome('failed'), timed: await timed() };
    const calls: number[] = [];
    let until = 0;
    let ran!: () => void;
    const done = new Promise<void>((resolve) => (ran = resolve));
    const worker = startWorker(
      'kpiRefresh',
      async () => {
        calls.push(Date.now());
        if (calls.length === 1) throw new Postpone((until = Date.now() + 300));
        ran();
      },
      { connection, prefix, concurrency: 1, log: { warn: () => undefined } },
    );
    const queue = new Queue('kpi-refresh', { connection, prefix });
    await queue.add('refresh', {});
    await done;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toHaveLength(2);
    expect(calls[1]!).toBeGreaterThanOrEqual(until);
    expect(await outcome('postponed')).toBe(before.postponed + 1);
    expect(await outcome('completed')).toBe(before.completed + 1);
    expect(await timed()).toBe(before.timed + 1);
    expect(await outcome('failed')).toBe(before.failed);
    await worker.close();
    await queue.close();
    connection.disconnect();
  });
});
