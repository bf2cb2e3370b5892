import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { sharedInfra } from '@kpi/testing';
import { eventually } from './support/pipeline.ts';
import { alive, startStack, waitReady, type StackProcess } from './support/stack.ts';

/**
 * The start command (`node services/stack`, every role in one process) while its own Redis or
 * Kafka broker dies: answers stay fast, the supervisor brings the dependency back, no event is
 * lost or counted twice, and SIGTERM still stops everything.
 */
describe('faults: the start command while its Redis or Kafka broker dies', () => {
  let stack: StackProcess;
  let producer: Producer;

  beforeAll(async () => {
    // Restarts wait 3 s, so there is an outage to observe.
    stack = await startStack({ LOCAL_RESTART_BACKOFF_MS: '3000' });
    await waitReady(stack);
    producer = new Kafka({ brokers: stack.brokers, logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 200 } }).producer({ idempotent: true });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    stack?.kill();
  });

  /** `count` survey answers of `team` in `month`, scores 1..5 in turn: the KPI's mean and sample size are known. */
  const surveys = (team: string, month: string, count: number): CloudEvent[] =>
    Array.from({ length: count }, (_, i) => makeEvent('survey.response', { team, score: 1 + (i % 5) }, { source: 'faults-test', id: `${team}-${i}`, time: `${month}-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z` }));
  const meanScore = (events: CloudEvent[]) => events.reduce((sum, event) => sum + (event.data as { score: number }).score, 0) / events.length;

  /** Produces in batches of 20 every 100 ms, retrying a batch until the broker acknowledges it, as any producer would. */
  const stream = async (events: CloudEvent[], onBatch: (index: number) => Promise<void> | void) => {
    for (let start = 0, index = 0; start < events.length; start += 20, index++) {
      const messages = events.slice(start, start + 20).map((event) => ({ key: event.id, value: JSON.stringify(event) }));
      await eventually(async () => {
        await producer.send({ topic: 'ml.signals', acks: -1, messages });
        return true;
      }, 120_000, 'the broker to accept a batch');
      await onBatch(index);
      await sleep(100);
    }
  };

  const satisfaction = async (team: string, month: string) => {
    const response = await stack.request(`/v1/kpis/stakeholder_satisfaction/values?granularity=month&team=${team}&from=${month}-01&to=${nextMonth(month)}-01`, { timeoutMs: 2_000 });
    return { ...response, value: response.body?.values?.[0] as { value: number | null; sample_size: number } | undefined };
  };
  const restarts = async (service: string) => {
    const metrics = (await stack.request('/metrics')).body as string;
    return Number(new RegExp(`kpi_local_service_restarts_total\\{service="${service}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  };

  it('Redis hung, then SIGKILLed mid-stream: reads answer within 2 s, Redis comes back by itself, every event counts without a restart', { timeout: 240_000 }, async () => {
    const events = surveys('redis-fault', '2026-03', 300);
    const posted = (outage: string) => makeEvent('survey.response', { team: 'redis-fault', score: 5 }, { source: 'faults-test', id: `redis-fault-http-${outage}`, time: '2026-03-15T10:00:00Z' });
    const during: { what: string; status: number; ms: number; body: any }[] = [];
    const probe = async (what: string) => {
      const read = await satisfaction('redis-fault', '2026-03');
      during.push({ what: `${what}: KPI values`, status: read.status, ms: read.ms, body: read.body });
      const alerts = await stack.request('/v1/alerts', { timeoutMs: 2_000 });
      during.push({ what: `${what}: alerts (state in Redis)`, status: alerts.status, ms: alerts.ms, body: alerts.body });
      const post = await stack.request('/v1/events', { method: 'POST', body: posted(what), timeoutMs: 2_000 });
      during.push({ what: `${what}: POST /v1/events (rate-limited in Redis)`, status: post.status, ms: post.ms, body: post.body });
      const ready = await stack.request('/readyz', { timeoutMs: 2_000 });
      during.push({ what: `${what}: readyz`, status: ready.status, ms: ready.ms, body: ready.body });
    };
    const redisPid = stack.pidOf('redis');
    await stream(events, async (batch) => {
      if (batch === 3) {
        // Hung: the connection stays open, nothing answers (commands time out).
        process.kill(redisPid, 'SIGSTOP');
        await probe('hung');
        process.kill(redisPid, 'SIGCONT');
      }
      if (batch === 6) {
        process.kill(redisPid, 'SIGKILL');
        await sleep(200);
        await probe('killed');
      }
    });
    for (const outage of ['hung', 'killed']) {
      const answers = during.filter((entry) => entry.what.startsWith(outage));
      // Every answer within 2 s; reads from ClickHouse, the collector through Kafka, Redis-only state 503 naming Redis.
      expect(answers.filter((entry) => entry.ms >= 2_000).map((entry) => `${entry.what}: ${entry.ms} ms`)).toEqual([]);
      expect(answers.map((entry) => [entry.what, entry.status])).toEqual([
        [`${outage}: KPI values`, 200],
        [`${outage}: alerts (state in Redis)`, 503],
        [`${outage}: POST /v1/events (rate-limited in Redis)`, 202],
        [`${outage}: readyz`, 503],
      ]);
      expect(answers[1]!.body).toMatchObject({ error: 'unavailable', dependency: 'redis' });
      expect(answers[3]!.body).toMatchObject({ failing: ['redis'] });
    }

    // Back by itself: a new redis-server, counted in /metrics, logged.
    await waitReady(stack, 60_000);
    expect(stack.pidOf('redis')).not.toBe(redisPid);
    expect(await restarts('redis')).toBe(1);
    expect(readFileSync(join(stack.dataDir, 'stack.log'), 'utf8')).toContain('the local Redis exited unexpectedly; restarting it');

    // Every event counts once (the stream and the two posted during the outages), with no restart of the stack.
    const expected = [...events, posted('hung'), posted('killed')];
    const final = await eventually(async () => {
      const read = await satisfaction('redis-fault', '2026-03');
      return read.value?.sample_size === expected.length ? read.value : undefined;
    }, 90_000, `${expected.length} survey answers in the KPI`);
    expect(final.value).toBeCloseTo(meanScore(expected), 10);
    expect(stack.child.exitCode).toBeNull();
  });

  it('the Kafka broker SIGKILLed mid-stream and brought back by the supervisor: every event counted exactly once', { timeout: 300_000 }, async () => {
    const events = surveys('kafka-fault', '2026-04', 300);
    const brokerPid = stack.pidOf('kafka');
    const during: { what: string; status: number; ms: number; body: any }[] = [];
    await stream(events, async (batch) => {
      if (batch !== 5) return;
      process.kill(brokerPid, 'SIGKILL');
      await sleep(200);
      const read = await satisfaction('redis-fault', '2026-03');
      during.push({ what: 'KPI values', status: read.status, ms: read.ms, body: read.body });
      const post = await stack.request('/v1/events', { method: 'POST', body: makeEvent('survey.response', { team: 'kafka-fault-http', score: 1 }, { time: '2026-04-15T10:00:00Z' }), timeoutMs: 2_000 });
      during.push({ what: 'POST /v1/events', status: post.status, ms: post.ms, body: post.body });
      const ready = await stack.request('/readyz', { timeoutMs: 2_000 });
      during.push({ what: 'readyz', status: ready.status, ms: ready.ms, body: ready.body });
    });
    expect(during.filter((entry) => entry.ms >= 2_000).map((entry) => `${entry.what}: ${entry.ms} ms`)).toEqual([]);
    expect(during.map((entry) => [entry.what, entry.status])).toEqual([
      ['KPI values', 200],
      ['POST /v1/events', 503],
      ['readyz', 503],
    ]);
    expect(during[1]!.body).toMatchObject({ error: 'unavailable', dependency: 'kafka' });
    expect(during[2]!.body).toMatchObject({ failing: ['kafka'] });

    await waitReady(stack, 120_000);
    expect(stack.pidOf('kafka')).not.toBe(brokerPid);
    expect(await restarts('kafka')).toBe(1);
    const final = await eventually(async () => {
      const read = await satisfaction('kafka-fault', '2026-04');
      return read.value && read.value.sample_size >= events.length ? read.value : undefined;
    }, 120_000, `${events.length} survey answers in the KPI`);
    await sleep(2_000);
    // Every streamed event exactly once: not one missing, not one twice (the producer retried across the crash).
    expect((await satisfaction('kafka-fault', '2026-04')).value).toEqual(final);
    expect(final.sample_size).toBe(events.length);
    expect(final.value).toBeCloseTo(meanScore(events), 10);
    // The POST answered 503 may still have been written once the broker came back: if so, once.
    expect((await satisfaction('kafka-fault-http', '2026-04')).value?.sample_size).toBeLessThanOrEqual(1);
  });

  it('SIGTERM with Redis down stops the stack within 30 s and leaves no process behind', { timeout: 120_000 }, async () => {
    const pids = [stack.child.pid!, stack.pidOf('kafka'), stack.pidOf('redis')];
    process.kill(stack.pidOf('redis'), 'SIGKILL');
    await sleep(200);
    expect((await stack.request('/readyz', { timeoutMs: 2_000 })).body).toMatchObject({ failing: ['redis'] });
    const started = Date.now();
    stack.child.kill('SIGTERM');
    const code = await stack.exited;
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(30);
    expect(pids.filter(alive)).toEqual([]);
    expect(stack.leftovers()).toEqual([]);
    // Not clean (3): with Redis gone the workers could not hand back their jobs; the log says so.
    expect(code).toBe(3);
    const log = readFileSync(join(stack.dataDir, 'stack.log'), 'utf8');
    expect(log).toContain('Redis is unavailable: workers closed without handing back jobs in flight');
    expect(log).toContain('stopped, but not everything drained or closed in time');
  });
});

describe('faults: a local dependency that keeps failing', () => {
  it('the supervisor gives up with a message naming it and exit code 4, leaving no process behind', { timeout: 120_000 }, async () => {
    // The shared broker: this stack starts only its own Redis (and the API), which is all this needs.
    const stack = await startStack({ KAFKA_BROKERS: sharedInfra().kafkaBrokers.join(','), KPI_ROLES: 'api', LOCAL_RESTART_MAX: '1', LOCAL_RESTART_BACKOFF_MS: '2000' });
    const blocker = createServer();
    try {
      await waitReady(stack);
      const pid = stack.pidOf('redis');
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(readFileSync(`/proc/${pid}/cmdline`, "utf8"))![1]); // redis-server sets its title to its address
      // Killed, and its port taken before the restart: every restart fails.
      process.kill(pid, 'SIGKILL');
      await eventually(
        () =>
          new Promise<true>((resolve, reject) => {
            blocker.once('error', reject).listen(port, '127.0.0.1', () => resolve(true));
          }),
        1_500,
        `port ${port} free once Redis is dead`,
      );
      expect(await stack.exited).toBe(4);
      const log = readFileSync(join(stack.dataDir, 'stack.log'), 'utf8');
      expect(log).toContain('the local Redis failed 2 times within 10 min (last: did not start); giving up');
      expect(log).toContain(join(stack.dataDir, 'redis', 'redis.log'));
      expect(stack.leftovers()).toEqual([]);
    } finally {
      blocker.close();
      stack.kill();
    }
  });
});

function nextMonth(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, '0')}`;
}
