import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { makeEvent, sampleData } from '@kpi/events';
import { uniqueName } from '@kpi/testing';
import { replayTopic } from '@kpi/ingest/replay';
import { storeChunk, type IngestOptions } from '@kpi/ingest';
import { countEvents, eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';

// One pipeline (own topics, group, database, queues) for this file; each test uses its own `source`.
let pipeline: TestPipeline;
let insertFailuresLeft = 0;
let dlqFailuresLeft = 0;
const warnings: { context: Record<string, unknown>; message: string }[] = [];
beforeAll(async () => {
  pipeline = await startPipeline({
    roles: ['ingest'],
    ingest: {
      // The ingest role's log, read back by the tests (warnings only: that is all it writes).
      log: { warn: (context: Record<string, unknown>, message: string) => void warnings.push({ context, message }) } as unknown as IngestOptions['log'],
      // The DLQ topic "unavailable": producing to it fails while dlqFailuresLeft > 0.
      producer: async () => {
        const producer = await pipeline.runtime.producer();
        if (dlqFailuresLeft === 0) return producer;
        dlqFailuresLeft--;
        return { ...producer, send: async () => Promise.reject(new Error('the DLQ topic has no leader (injected)')) };
      },
      // ClickHouse "unavailable": the insert fails while insertFailuresLeft > 0.
      insert: async (rows, token) => {
        if (insertFailuresLeft > 0) {
          insertFailuresLeft--;
          throw new Error('ClickHouse unavailable (injected)');
        }
        await storeChunk(pipeline.runtime.storage, rows, token);
      },
    },
  });
});
afterAll(() => pipeline?.stop());

const incident = (source: string, i: number) =>
  makeEvent('incident.opened', { ...sampleData['incident.opened'], incident_id: `inc-${source}-${i}` }, { source, id: `e-${i}`, time: '2026-03-01T10:00:00Z' });

describe('ingestion: Kafka -> ClickHouse', () => {
  it('events produced by kcat, a Kafka client written elsewhere, land in ClickHouse', async () => {
    const source = uniqueName('kcat');
    const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify(incident(source, i))).join('\n');
    const kcat = spawnSync('kcat', ['-P', '-b', pipeline.runtime.brokers[0]!, '-t', pipeline.runtime.config.kafka.topics.incidents, '-K', '\t'], {
      input: lines
        .split('\n')
        .map((line, i) => `inc-${i}\t${line}`)
        .join('\n'),
      encoding: 'utf8',
    });
    expect(kcat.status, kcat.stderr).toBe(0);
    await eventually(async () => ((await countEvents(pipeline.runtime, source)) === 25 ? true : undefined), 30_000, '25 kcat events in ClickHouse');
    const [row] = await pipeline.runtime.storage.query<{ team: string; entity_id: string; type: string }>(
      'SELECT team, entity_id, type FROM {db:Identifier}.events FINAL WHERE source = {source:String} AND id = {id:String}',
      { source, id: 'e-3' },
    );
    expect(row).toEqual({ team: 'search', entity_id: `inc-${source}-3`, type: 'incident.opened' });
  });

  it('stores producer strings exactly, whatever characters they hold', async () => {
    const source = uniqueName('chars');
    const awkward = ['tab\there', 'new\nline', 'back\\slash \\t \\n', 'cr\r', 'nul\0', 'quote"\'', 'ünïcødé 🚀', '\\'];
    const events = awkward.map((text, i) =>
      makeEvent('incident.mitigated', { incident_id: `inc\t${text}`, action: text }, { source, id: `${text}|${i}`, time: '2026-03-01T10:00:00Z' }),
    );
    await pipeline.produce(events);
    await eventually(async () => ((await countEvents(pipeline.runtime, source)) === events.length ? true : undefined), 30_000, 'the awkward events');
    const rows = await pipeline.runtime.storage.query<{ id: string; entity_id: string; data: string }>(
      'SELECT id, entity_id, data FROM {db:Identifier}.events FINAL WHERE source = {source:String} ORDER BY id',
      { source },
    );
    const expected = events.map((e) => ({ id: e.id, entity_id: e.data.incident_id, data: e.data })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    expect(rows.map((row) => ({ ...row, data: JSON.parse(row.data) }))).toEqual(expected);
  });

  it('the same events sent twice are counted once', async () => {
    const source = uniqueName('dup');
    const events = Array.from({ length: 50 }, (_, i) => incident(source, i));
    await pipeline.produce(events);
    await pipeline.produce(events);
    await pipeline.produce(events.slice(0, 10));
    await eventually(async () => ((await countEvents(pipeline.runtime, source)) === 50 ? true : undefined), 30_000, '50 events');
    // Give the re-sent copies time to arrive: still 50.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await countEvents(pipeline.runtime, source)).toBe(50);
  });

  it('keeps consuming and loses nothing while ClickHouse refuses inserts, without exiting', async () => {
    const source = uniqueName('chdown');
    insertFailuresLeft = 4;
    await pipeline.produce(Array.from({ length: 30 }, (_, i) => incident(source, i)));
    await eventually(async () => (insertFailuresLeft === 0 ? true : undefined), 30_000, 'the injected failures to be used up');
    await eventually(async () => ((await countEvents(pipeline.runtime, source)) === 30 ? true : undefined), 60_000, '30 events after recovery');
    const metrics = await pipeline.api.inject('/metrics');
    expect(metrics.body).toMatch(/kpi_clickhouse_insert_retries_total [1-9]/);
  });

  it('sends garbage to the DLQ with its reason while the valid events around it are ingested', async () => {
    const source = uniqueName('garbage');
    const topic = pipeline.runtime.config.kafka.topics.incidents;
    const valid = (i: number) => JSON.stringify(incident(source, i));
    const schemaFailure = JSON.stringify({ ...incident(source, 99), data: { ...sampleData['incident.opened'], tier: 7 } });
    const unknownType = JSON.stringify({ ...incident(source, 98), type: 'incident.exploded' });
    const producer = await pipeline.runtime.producer();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'a', value: valid(1) },
        { key: 'b', value: '{"specversion": "1.0", nope' },
        { key: 'c', value: unknownType },
        { key: 'd', value: schemaFailure },
        { key: 'e', value: Buffer.alloc(2 * 1024 * 1024, 'x') },
        { key: 'f', value: null },
        { key: null, value: valid(2) },
        { key: 'g', value: valid(3) },
      ],
    });
    await eventually(async () => ((await countEvents(pipeline.runtime, source)) === 3 ? true : undefined), 30_000, 'the 3 valid events');

    const consumer = pipeline.runtime.kafka.consumer({ groupId: uniqueName('dlq-reader'), maxWaitTimeInMs: 100 });
    const seen: KafkaMessage[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: pipeline.runtime.config.kafka.topics.dlq, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
    const header = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();
    const ours = () => seen.filter((message) => header(message, 'dlq_topic') === topic && ['b', 'c', 'd', 'e', 'f'].includes(message.key?.toString() ?? ''));
    await eventually(async () => (ours().length >= 5 ? true : undefined), 30_000, '5 DLQ messages');
    await consumer.disconnect();
    const reasons = Object.fromEntries(ours().map((message) => [message.key!.toString(), header(message, 'dlq_reason')]));
    expect(reasons).toEqual({ b: 'invalid_json', c: 'unknown_type', d: 'schema', e: 'oversized', f: 'empty' });
    const schema = ours().find((message) => message.key!.toString() === 'd')!;
    expect(header(schema, 'dlq_error')).toContain('data.tier');
    expect(header(schema, 'dlq_partition')).toMatch(/^\d+$/);
    expect(header(schema, 'dlq_offset')).toMatch(/^\d+$/);
    expect(schema.value!.toString()).toBe(schemaFailure);
    const unknown = ours().find((message) => message.key!.toString() === 'c')!;
    expect(header(unknown, 'dlq_error')).toContain('incident.exploded');
  });
});

describe('ingestion: the DLQ unavailable', () => {
  it('logs the failing step with the chunk and counts it, retries, and commits nothing before the DLQ has the message', async () => {
    const source = uniqueName('dlqdown');
    const topic = pipeline.runtime.config.kafka.topics.incidents;
    dlqFailuresLeft = 2;
    const producer = await pipeline.runtime.producer();
    await producer.send({ topic, acks: -1, messages: [{ key: 'bad', value: '{"nope' }, { key: 'good', value: JSON.stringify(incident(source, 1)) }] });
    await eventually(async () => (dlqFailuresLeft === 0 ? true : undefined), 30_000, 'the injected DLQ failures to be used up');
    await eventually(async () => ((await countEvents(pipeline.runtime, source)) === 1 ? true : undefined), 60_000, 'the valid event after recovery');
    const retries = warnings.filter((warning) => warning.context.step === 'dlq' && warning.context.topic === topic);
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries[0]!.message).toContain('DLQ');
    expect(retries[0]!.context).toMatchObject({ dlq_messages: 1, dlq_reasons: ['invalid_json'], dlq_topic: pipeline.runtime.config.kafka.topics.dlq, partition: expect.any(Number), attempt: 1 });
    expect(String((retries[0]!.context.err as Error).message)).toContain('no leader');
    const metrics = (await pipeline.api.inject('/metrics')).body;
    expect(metrics).toMatch(new RegExp(`kpi_ingest_step_failures_total\\{topic="${topic.replaceAll('.', '\\.')}",step="dlq"\\} [2-9]`));
  });
});

describe('replay', () => {
  it('re-reads a topic from an offset or a timestamp into ClickHouse, idempotently', async () => {
    const source = uniqueName('replay');
    const early = Array.from({ length: 20 }, (_, i) => incident(source, i));
    await pipeline.produce(early);
    await eventually(async () => ((await countEvents(pipeline.runtime, source)) === 20 ? true : undefined), 30_000, '20 events');
    const cutoff = new Date();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await pipeline.produce(Array.from({ length: 5 }, (_, i) => incident(source, 100 + i)));
    // A second pipeline on the same topics with an empty database: the backfill target.
    const { topics } = pipeline.runtime.config.kafka;
    const backfill = await startPipeline({
      roles: [],
      env: { DATA_DIR: pipeline.env.DATA_DIR!, KPI_TOPIC_INCIDENTS: topics.incidents, KPI_TOPIC_DLQ: topics.dlq },
    });
    try {
      const fromTimestamp = await replayTopic(backfill.runtime, { topic: topics.incidents, from: { timestamp: cutoff } });
      expect(fromTimestamp.messages).toBe(5);
      expect(await countEvents(backfill.runtime, source)).toBe(5);
      await replayTopic(backfill.runtime, { topic: topics.incidents, from: { offset: '0' } });
      await replayTopic(backfill.runtime, { topic: topics.incidents, from: { offset: '0' } });
      expect(await countEvents(backfill.runtime, source)).toBe(25);
    } finally {
      await backfill.stop();
    }
  });
});

describe('POST /v1/events', () => {
  it('is 401 without a token and 403 with a read token', async () => {
    const event = makeEvent('survey.response');
    expect((await pipeline.post('/v1/events', event, '')).status).toBe(401);
    expect((await pipeline.post('/v1/events', event, 'wrong')).status).toBe(401);
    expect((await pipeline.post('/v1/events', event, TOKENS.read)).status).toBe(403);
  });

  it('rejects a batch with any invalid event, naming each, and produces nothing', async () => {
    const source = uniqueName('http-bad');
    const good = makeEvent('survey.response', { team: 'search', score: 5 }, { source });
    const response = await pipeline.post('/v1/events', [good, { ...good, id: 'x2', data: { team: 'search', score: 9 } }, { ...good, id: 'x3', time: 'yesterday' }]);
    expect(response.status).toBe(400);
    const errors = response.bodyAt(400).errors!;
    expect(errors.map((error) => error.index)).toEqual([1, 2]);
    expect(errors[0]!.error).toContain('data.score');
    expect(errors[1]!.error).toContain('time');
    expect((await pipeline.post('/v1/events', Array.from({ length: 1001 }, () => good))).status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await countEvents(pipeline.runtime, source)).toBe(0);
  });

  it('refuses a body that is not UTF-8, naming the byte, and produces nothing', async () => {
    const source = uniqueName('http-utf8');
    // Two ids that differ only in bytes that are not UTF-8: read with replacement characters, they would be one event.
    const [head, middle, tail] = JSON.stringify([makeEvent('survey.response', { team: 'search', score: 4 }, { source, id: 'id-#' }), makeEvent('survey.response', { team: 'search', score: 2 }, { source, id: 'id-#' })]).split('#');
    const payload = Buffer.concat([Buffer.from(head!), Buffer.from([0xff]), Buffer.from(middle!), Buffer.from([0xfe]), Buffer.from(tail!)]);
    const response = await pipeline.api.inject({ method: 'POST', url: '/v1/events', payload, headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toBe(`body is not valid UTF-8 (byte offset ${Buffer.byteLength(head!)})`);
    const empty = await pipeline.api.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json', 'content-length': '0' } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toMatch(/^body: /);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await countEvents(pipeline.runtime, source)).toBe(0);
  });

  it('accepts valid events with 202 and they reach ClickHouse through Kafka', async () => {
    const source = uniqueName('http-ok');
    const events = [makeEvent('survey.response', { team: 'search', score: 4 }, { source }), makeEvent('incident.opened', sampleData['incident.opened'], { source })];
    const response = await pipeline.post('/v1/events', events);
    expect({ status: response.status, body: response.body }).toEqual({ status: 202, body: { accepted: 2 } });
    expect((await pipeline.post('/v1/events', makeEvent('survey.response', { team: 'search', score: 3 }, { source }))).body).toEqual({ accepted: 1 });
    await eventually(async () => ((await countEvents(pipeline.runtime, source)) === 3 ? true : undefined), 30_000, '3 events');
  });

  it('serves the JSON Schema of every event type', async () => {
    const response = await pipeline.get('/v1/schemas');
    expect(response.status).toBe(200);
    expect(JSON.stringify(response.body)).toContain('incident.mitigated');
  });
});
