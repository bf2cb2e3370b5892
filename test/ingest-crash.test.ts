import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKafka, ensureTopics } from '@kpi/bus';
import { loadConfig } from '@kpi/config';
import { makeEvent, sampleData, type CloudEvent } from '@kpi/events';
import { startLocalKafka, stopProcess } from '@kpi/infra';
import { createStorage } from '@kpi/storage';
import { isolatedEnv, uniqueName } from '@kpi/testing';
import { countEvents, eventually, startPipeline } from './support/pipeline.ts';

const root = join(import.meta.dirname, '..');

function streamOf(source: string, count: number): CloudEvent[] {
  const time = '2026-05-04T12:00:00Z';
  return Array.from({ length: count }, (_, i) =>
    i % 10 === 0
      ? makeEvent('incident.opened', { ...sampleData['incident.opened'], incident_id: `inc-${i}` }, { source, id: `e${i}`, time })
      : makeEvent('survey.response', { team: `team-${i % 7}`, score: 1 + (i % 5) }, { source, id: `e${i}`, time }),
  );
}

async function committedTotal(kafka: ReturnType<typeof createKafka>, groupId: string, topics: string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId, topics });
    return offsets.flatMap((topic) => topic.partitions).reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('ingestion survives crashes', () => {
  it('SIGKILL in the middle of 100 000 events, then a restart: every event in ClickHouse exactly once', { timeout: 600_000 }, async () => {
    const total = 100_000;
    const env = isolatedEnv({ INGEST_BATCH_SIZE: '2000', DATA_DIR: mkdtempSync(join(tmpdir(), 'kpi-crash-')) });
    const config = loadConfig(env);
    const kafka = createKafka(config.kafka, config.kafka.brokers!);
    const topics = Object.values(config.kafka.topics);
    await ensureTopics(kafka, topics, 3);
    const source = uniqueName('crash');
    const events = streamOf(source, total);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const byTopic = (batch: CloudEvent[]) => {
      const incidents = batch.filter((event) => event.type === 'incident.opened');
      const signals = batch.filter((event) => event.type !== 'incident.opened');
      return [
        { topic: config.kafka.topics.incidents, messages: incidents.map((event) => ({ key: event.id, value: JSON.stringify(event) })) },
        { topic: config.kafka.topics.signals, messages: signals.map((event) => ({ key: event.id, value: JSON.stringify(event) })) },
      ];
    };
    // The stream keeps flowing while the ingest process is killed and restarted.
    const producing = (async () => {
      for (let start = 0; start < total; start += 5_000) {
        await producer.sendBatch({ acks: -1, topicMessages: byTopic(events.slice(start, start + 5_000)) });
      }
    })();

    const startIngest = (): ChildProcess => spawn(process.execPath, ['services/ingest'], { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
    let ingest = startIngest();
    const eventTopics = [config.kafka.topics.incidents, config.kafka.topics.signals];
    await eventually(async () => ((await committedTotal(kafka, config.kafka.groupId, eventTopics)) >= 20_000 ? true : undefined), 180_000, '20 000 committed');
    ingest.kill('SIGKILL');
    await new Promise((resolve) => ingest.once('exit', resolve));
    const committedAtKill = await committedTotal(kafka, config.kafka.groupId, eventTopics);
    expect(committedAtKill).toBeLessThan(total);

    ingest = startIngest();
    await producing;
    await producer.disconnect();
    await eventually(async () => ((await committedTotal(kafka, config.kafka.groupId, eventTopics)) === total ? true : undefined), 300_000, 'every offset committed');
    await stopProcess(ingest, 30_000);
    expect(ingest.exitCode).toBe(0);

    // The data directory is free again: open it here, as the KPIs would read it.
    const storage = createStorage({ clickhouse: config.clickhouse, dataDir: config.dataDir });
    const [counts] = await storage.query<{ distinct_events: number; missing: number }>(
      `SELECT count() AS distinct_events, {total:UInt32} - uniqExact(toUInt32(substring(id, 2))) AS missing
       FROM {db:Identifier}.events FINAL WHERE source = {source:String}`,
      { source, total },
    );
    await storage.close();
    expect(counts).toEqual({ distinct_events: total, missing: 0 });
  });

  it('the broker stopped and restarted in the middle of a stream: every event once', { timeout: 300_000 }, async () => {
    const broker = await startLocalKafka({ dataDir: mkdtempSync(join(tmpdir(), 'kpi-restart-kafka-')) });
    const pipeline = await startPipeline({ roles: ['ingest'], env: { KAFKA_BROKERS: broker.brokers.join(',') } });
    try {
      const source = uniqueName('restart');
      const events = streamOf(source, 20_000);
      for (let start = 0; start < events.length; start += 1_000) {
        if (start === 8_000) await broker.restart();
        const chunk = events.slice(start, start + 1_000);
        // A producer retries until the broker acknowledges; the idempotent producer and (source, id) dedup make retries safe.
        await eventually(async () => {
          await pipeline.produce(chunk);
          return true;
        }, 120_000, 'the broker to accept the chunk');
      }
      await eventually(async () => ((await countEvents(pipeline.runtime, source)) === 20_000 ? true : undefined), 180_000, '20 000 events');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await countEvents(pipeline.runtime, source)).toBe(20_000);
    } finally {
      await pipeline.stop();
      await broker.stop();
    }
  });
});
