import { describe, expect, it } from 'vitest';
import { QueueEvents } from 'bullmq';
import { loadConfig } from '@kpi/config';
import { freePort } from '@kpi/infra';
import { createQueues, createWorkerRedis, startWorker } from '@kpi/queue';
import { asUnavailable } from '@kpi/runtime';
import { createStorage } from '@kpi/storage';
import { isolatedEnv } from '@kpi/testing';

describe('background jobs during a ClickHouse outage', () => {
  it('a job whose ClickHouse server refuses connections runs again later without using up its attempts; any other error fails it', { timeout: 60_000 }, async () => {
    const config = loadConfig(isolatedEnv());
    const redis = createWorkerRedis(config.redis.url!);
    const queues = createQueues(redis, config.queuePrefix);
    const events = new QueueEvents('kpi-refresh', { connection: redis.duplicate(), prefix: config.queuePrefix });
    // A ClickHouse server that is down: nothing listens on its port.
    const down = createStorage({ clickhouse: { ...config.clickhouse, url: `http://127.0.0.1:${await freePort()}` }, dataDir: config.dataDir });
    let runs = 0;
    let broken = false;
    const worker = startWorker(
      'kpiRefresh',
      async () => {
        runs++;
        if (broken) throw new Error('a bug, not an outage');
        // The outage lasts two runs; the job has a single attempt.
        if (runs <= 2) await down.query('SELECT 1');
        return { runs };
      },
      { connection: redis, prefix: config.queuePrefix, concurrency: 1, isOutage: (error) => asUnavailable(error)?.dependency === 'clickhouse' },
    );
    try {
      await events.waitUntilReady();
      const job = await queues.queue('kpiRefresh').add('refresh', {}, { attempts: 1 });
      expect(await job.waitUntilFinished(events, 30_000)).toEqual({ runs: 3 });
      broken = true;
      const failing = await queues.queue('kpiRefresh').add('refresh', {}, { attempts: 1 });
      await expect(failing.waitUntilFinished(events, 10_000)).rejects.toThrow('a bug, not an outage');
    } finally {
      await worker.close();
      await events.close();
      await queues.close();
      await down.close();
      redis.disconnect();
    }
  });
});
