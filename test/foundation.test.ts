import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createKafka, ensureTopics } from '@kpi/bus';
import { loadConfig } from '@kpi/config';
import { startLocalKafka } from '@kpi/infra';
import { createRuntime } from '@kpi/runtime';
import { buildApi } from '@kpi/api';
import { isolatedEnv, sharedInfra, uniqueName } from '@kpi/testing';

describe('foundation: the real infrastructure', () => {
  it('a message produced with kafkajs is consumed by a consumer group on the real broker', async () => {
    const kafka = createKafka({ clientId: 'foundation-test' }, sharedInfra().kafkaBrokers);
    const topic = uniqueName('roundtrip');
    await ensureTopics(kafka, [topic], 2);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'hello kafka' }] });
    const consumer = kafka.consumer({ groupId: uniqueName('group'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) });
    });
    await consumer.disconnect();
    await producer.disconnect();
    expect(received).toBe('hello kafka');
  });

  it('a BullMQ job round-trips through the real Redis', async () => {
    const connection = new Redis(sharedInfra().redisUrl, { maxRetriesPerRequest: null });
    const prefix = uniqueName('bull');
    const queue = new Queue('echo', { connection, prefix });
    const events = new QueueEvents('echo', { connection: new Redis(sharedInfra().redisUrl, { maxRetriesPerRequest: null }), prefix });
    const worker = new Worker('echo', async (job) => ({ doubled: job.data.n * 2 }), { connection, prefix });
    await events.waitUntilReady();
    const job = await queue.add('double', { n: 21 });
    const result = await job.waitUntilFinished(events, 10_000);
    await worker.close();
    await queue.close();
    await events.close();
    connection.disconnect();
    expect(result).toEqual({ doubled: 42 });
  });

  it('/readyz turns 503 naming Kafka while the broker is stopped, and 200 once it is back', async () => {
    const broker = await startLocalKafka({ dataDir: mkdtempSync(join(tmpdir(), 'kpi-readyz-kafka-')) });
    const env = isolatedEnv({ KAFKA_BROKERS: broker.brokers.join(','), KPI_API_TOKENS: 't:read' });
    const runtime = await createRuntime(loadConfig(env));
    const api = await buildApi({ runtime, tokens: runtime.config.apiTokens! });
    try {
      expect((await api.inject('/readyz')).statusCode).toBe(200);
      await broker.stop();
      const down = await api.inject('/readyz');
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ checks: { kafka: false, clickhouse: true, redis: true }, failing: ['kafka'] });
      expect(down.json().message).toContain('kafka');
      await broker.restart();
      expect((await api.inject('/readyz')).statusCode).toBe(200);
      expect((await api.inject('/healthz')).json()).toEqual({ status: 'ok' });
    } finally {
      await api.close();
      await runtime.close();
      await broker.stop();
    }
  });

  it.each([
    ['KAFKA_BROKERS', 'not a broker list'],
    ['CLICKHOUSE_URL', 'clickhouse:8123'],
    ['PORT', 'http'],
  ])('the start command refuses a bad %s with one line naming it', (name, value) => {
    const result = spawnSync(process.execPath, ['services/stack'], {
      cwd: join(import.meta.dirname, '..'),
      env: { ...process.env, [name]: value, DATA_DIR: mkdtempSync(join(tmpdir(), 'kpi-badconfig-')) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${name}=`);
  });

  // `docker compose` (the plugin) or the standalone docker-compose: either validates without an engine.
  const compose = [['docker', 'compose'], ['docker-compose']].find(([command, ...args]) => spawnSync(command!, [...args, 'version'], { encoding: 'utf8' }).status === 0);
  it.skipIf(!compose)('docker-compose.yml is a valid compose file (docker compose config)', () => {
    const [command, ...args] = compose!;
    const result = spawnSync(command!, [...args, '-f', 'docker-compose.yml', 'config', '--quiet'], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' });
    expect(result.stderr.replace(/^.*version.*obsolete.*$/gim, '').trim()).toBe('');
    expect(result.status).toBe(0);
  });
});
