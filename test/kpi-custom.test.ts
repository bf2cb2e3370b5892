import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { uniqueName } from '@kpi/testing';
import { openInBrowser, type OpenBrowser } from './support/browser.ts';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';

// Custom KPIs (SPEC §5b) defined through the admin API over a custom event type, computed by the
// same engine as the built-in ones, recomputed when changed, gone when deleted, alerted on,
// reported and drawn. Every expected number is worked out by hand below.

const TYPE = 'custom.search_eval';
const schema = {
  type: 'object',
  required: ['team', 'passed', 'ndcg_delta', 'surface'],
  properties: { team: { type: 'string' }, passed: { type: 'boolean' }, ndcg_delta: { type: 'number' }, surface: { enum: ['web', 'app'] } },
};
const passRate = {
  name: 'Search eval pass rate (web)',
  description: 'Share of web search evaluations that passed',
  unit: 'share',
  direction: 'higher',
  source: TYPE,
  schema,
  where: { 'data.surface': 'web' },
  value: { agg: 'share', match: { 'data.passed': true } },
  targets: [{ op: '>=', value: 0.5 }],
};
const ndcgP90 = {
  name: 'Search NDCG delta p90',
  unit: 'number',
  direction: 'higher',
  source: TYPE,
  schema,
  value: { agg: 'p90', field: 'data.ndcg_delta' },
  targets: [{ op: '>=', value: 0.01, granularity: 'quarter' }],
};

const evaluation = (id: string, at: string, team: string, surface: 'web' | 'app', passed: boolean, ndcg: number) => ({
  specversion: '1.0',
  id,
  source: 'search-evals',
  type: TYPE,
  time: at,
  data: { team, surface, passed, ndcg_delta: ndcg },
});
//   event  team     time        surface  passed  ndcg_delta
//   s1     search   2025-03-03  web      yes      0.010
//   s2     search   2025-03-10  web      no      -0.020
//   s3     search   2025-03-17  app      yes      0.050
//   s4     search   2025-04-07  web      yes      0.030
//   r1     ranking  2025-03-05  web      yes      0.020
//   r2     ranking  2025-03-20  web      yes      0.040
//   r3     ranking  2025-05-02  web      no       0.000
const s1 = evaluation('s1', '2025-03-03T10:00:00Z', 'search', 'web', true, 0.01);
const history = [
  s1,
  s1, // a duplicate: counts once
  evaluation('s2', '2025-03-10T10:00:00Z', 'search', 'web', false, -0.02),
  evaluation('s3', '2025-03-17T10:00:00Z', 'search', 'app', true, 0.05),
  evaluation('s4', '2025-04-07T10:00:00Z', 'search', 'web', true, 0.03),
  evaluation('r1', '2025-03-05T10:00:00Z', 'ranking', 'web', true, 0.02),
  evaluation('r2', '2025-03-20T10:00:00Z', 'ranking', 'web', true, 0.04),
  evaluation('r3', '2025-05-02T10:00:00Z', 'ranking', 'web', false, 0),
];
// Invalid for the registered schema, or of a type nobody registered: the DLQ.
const invalid = [
  { key: 'no-ndcg', event: { ...evaluation('bad-1', '2025-03-04T10:00:00Z', 'search', 'web', true, 0), data: { team: 'search', surface: 'web', passed: true } } },
  { key: 'no-team', event: { ...evaluation('bad-2', '2025-03-04T10:00:00Z', 'search', 'web', true, 0), data: { surface: 'web', passed: true, ndcg_delta: 0.1 } } },
  { key: 'bad-surface', event: evaluation('bad-3', '2025-03-04T10:00:00Z', 'search', 'tv' as 'web', true, 0.1) },
  { key: 'unknown-type', event: { ...evaluation('bad-4', '2025-03-04T10:00:00Z', 'search', 'web', true, 0.1), type: 'custom.nobody_defined' } },
];

let pipeline: TestPipeline;
let browser: OpenBrowser | undefined;
const { value } = kpiReader(() => pipeline);

async function call(method: 'PUT' | 'DELETE' | 'POST' | 'GET', url: string, payload?: unknown) {
  const response = await pipeline.api.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${TOKENS.admin}` } });
  return { status: response.statusCode, body: response.body ? response.json() : undefined };
}
const produceRaw = async (messages: { key: string; event: unknown }[]) => {
  const producer = await pipeline.runtime.producer();
  await producer.send({ topic: pipeline.runtime.config.kafka.topics.signals, acks: -1, messages: messages.map(({ key, event }) => ({ key, value: JSON.stringify(event) })) });
};

beforeAll(async () => {
  pipeline = await startPipeline({ env: { ALERT_EVALUATION_INTERVAL_MS: '500', ALERT_DEFAULT_RULES: '0' } });
  expect((await call('PUT', '/v1/kpis/search_eval_pass_rate', passRate)).status).toBe(201);
  expect((await call('PUT', '/v1/kpis/search_ndcg_p90', ndcgP90)).status).toBe(201);
  await produceRaw([...history.map((event, i) => ({ key: `h${i}`, event })), ...invalid]);
  await eventually(async () => ((await value('search_eval_pass_rate', 'quarter', '2025-04-01')).sample_size === 2 ? true : undefined), 60_000, 'Q2 pass rate');
  await eventually(async () => ((await value('search_ndcg_p90', 'month', '2025-03-01')).sample_size === 5 ? true : undefined), 60_000, 'March p90');
  await pipeline.settle();
});
afterAll(async () => {
  await browser?.close();
  await pipeline?.stop();
});

describe('custom KPIs defined through the API', () => {
  it('are in the catalog, marked custom, with their unit, direction and targets', async () => {
    const catalog = await pipeline.client.read.get('/v1/kpis');
    expect(catalog.find((kpi) => kpi.id === 'search_eval_pass_rate')).toMatchObject({ custom: true, unit: 'share', direction: 'higher_is_better', group: 'Custom', targets: [{ kind: 'threshold', op: '>=', value: 0.5 }] });
    expect(catalog.find((kpi) => kpi.id === 'search_ndcg_p90')).toMatchObject({ custom: true, unit: 'number', targets: [{ kind: 'threshold', op: '>=', value: 0.01, granularities: ['quarter'] }] });
    expect(catalog.find((kpi) => kpi.id === 'releases_delivered')).toMatchObject({ custom: false });
  });

  it('a share over the matching events, for two granularities, one team and all', async () => {
    // Web evaluations of March (all of Q1): s1 yes, s2 no, r1 yes, r2 yes -> 3 / 4; s3 is app, filtered out.
    for (const [granularity, start] of [['month', '2025-03-01'], ['quarter', '2025-01-01']] as const) {
      expect(await value('search_eval_pass_rate', granularity, start)).toMatchObject({ value: 0.75, numerator: 3, denominator: 4, sample_size: 4, target: 0.5, status: 'met' });
      expect(await value('search_eval_pass_rate', granularity, start, 'search')).toMatchObject({ value: 0.5, numerator: 1, denominator: 2, status: 'met' });
    }
    // Q2: s4 yes, r3 no; ranking alone: 0 / 1, breached.
    expect(await value('search_eval_pass_rate', 'quarter', '2025-04-01')).toMatchObject({ value: 0.5, numerator: 1, denominator: 2 });
    expect(await value('search_eval_pass_rate', 'quarter', '2025-04-01', 'ranking')).toMatchObject({ value: 0, numerator: 0, denominator: 1, status: 'breached' });
    // A period with nothing in it: no value.
    expect(await value('search_eval_pass_rate', 'month', '2025-02-01')).toMatchObject({ value: null, denominator: 0, status: 'no_data' });
  });

  it('a p90 (R-7) over every event, with its quarterly target', async () => {
    // March, all: -0.02, 0.01, 0.02, 0.04, 0.05; h = 4 x 0.9 = 3.6 -> 0.04 + 0.6 x 0.01 = 0.046. No target per month.
    const march = await value('search_ndcg_p90', 'month', '2025-03-01');
    expect(march).toMatchObject({ sample_size: 5, target: null, status: 'no_target' });
    expect(march.value).toBeCloseTo(0.046, 12);
    // Q1, search: -0.02, 0.01, 0.05; h = 1.8 -> 0.01 + 0.8 x 0.04 = 0.042 >= 0.01: met.
    const q1 = await value('search_ndcg_p90', 'quarter', '2025-01-01', 'search');
    expect(q1).toMatchObject({ sample_size: 3, target: 0.01, status: 'met' });
    expect(q1.value).toBeCloseTo(0.042, 12);
  });

  it('a breakdown lists the events behind a value', async () => {
    const response = await pipeline.get('/v1/kpis/search_eval_pass_rate/breakdown?granularity=month&period_start=2025-03-01&team=search');
    expect(response.status).toBe(200);
    const entities = (response.body.entities as { entity: string; in_numerator: boolean; in_denominator: boolean }[]).map((entity) => [entity.entity, entity.in_numerator, entity.in_denominator]);
    expect(entities.sort()).toEqual([['search-evals/s1', true, true], ['search-evals/s2', false, true]]);
  });

  it('invalid events of a custom type, and events of an unregistered one, go to the DLQ', async () => {
    const consumer = pipeline.runtime.kafka.consumer({ groupId: uniqueName('dlq-reader'), maxWaitTimeInMs: 100 });
    const seen: KafkaMessage[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: pipeline.runtime.config.kafka.topics.dlq, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
    await eventually(async () => (seen.length >= invalid.length ? true : undefined), 30_000, 'the invalid events in the DLQ');
    await consumer.disconnect();
    const byKey = Object.fromEntries(seen.map((message) => [message.key!.toString(), { reason: message.headers!.dlq_reason!.toString(), error: message.headers!.dlq_error!.toString() }]));
    expect(byKey['no-ndcg']).toMatchObject({ reason: 'schema', error: expect.stringContaining('ndcg_delta') });
    expect(byKey['no-team']).toMatchObject({ reason: 'schema', error: expect.stringContaining('data.team') });
    expect(byKey['bad-surface']).toMatchObject({ reason: 'schema', error: expect.stringContaining('data.surface') });
    expect(byKey['unknown-type']).toMatchObject({ reason: 'unknown_type', error: expect.stringContaining('custom.nobody_defined') });
  });

  it('is reported like a built-in KPI', async () => {
    expect((await call('POST', '/v1/reports', { quarter: '2025-Q1' })).status).toBe(202);
    const ready = await eventually(
      async () => {
        const response = await pipeline.get('/v1/reports/2025-Q1-all');
        if (response.body?.status === 'failed') throw new Error(response.body.error ?? undefined);
        return response.body?.status === 'ready' ? response.body : undefined;
      },
      90_000,
      'the 2025-Q1 report',
    );
    expect(ready.status).toBe('ready');
    const report = (await pipeline.get('/v1/reports/2025-Q1-all/json')).body as { kpis: { id: string; value: number | null; status: string; group: string }[] };
    expect(report.kpis.find((kpi) => kpi.id === 'search_eval_pass_rate')).toMatchObject({ value: 0.75, status: 'met', group: 'Custom' });
    const html = (await pipeline.api.inject({ url: '/v1/reports/2025-Q1-all/html', headers: { authorization: `Bearer ${TOKENS.read}` } })).body;
    expect(html).toContain('Search eval pass rate (web)');
  }, 150_000);

  it('is drawn on the dashboard like a built-in KPI', async () => {
    browser = await openInBrowser(pipeline);
    await browser.page.goto(`${browser.origin}/#token=${TOKENS.read}`);
    const row = browser.page.locator('a[data-kpi="search_eval_pass_rate"]');
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('Search eval pass rate (web)');
    expect(await browser.page.locator('.kpi-group h2', { hasText: 'Custom' }).count()).toBe(1);
  }, 120_000);

  it('an alert rule on a custom KPI fires', async () => {
    const rule = { name: 'custom-pass-rate', kpi: 'search_eval_pass_rate', scope: 'team', team: 'alerting', granularity: 'month', severity: 'warning' };
    expect((await call('POST', '/v1/alert-rules', rule)).status).toBe(201);
    const now = new Date().toISOString();
    await produceRaw([{ key: 'now-1', event: evaluation('now-1', now, 'alerting', 'web', false, 0) }]);
    const alert = await eventually(
      async () => {
        const [first] = (await pipeline.get('/v1/alerts?rule=custom-pass-rate&state=all')).body.alerts;
        return first?.state === 'firing' ? first : undefined;
      },
      60_000,
      'the custom KPI alert firing',
    );
    expect(alert).toMatchObject({ team: 'alerting', value: 0, target: 0.5, status: 'breached' });
  });

  it('a changed definition recomputes its history, leaving no value of the old one', async () => {
    expect((await call('PUT', '/v1/kpis/search_eval_pass_rate', { ...passRate, where: { 'data.surface': 'app' } })).status).toBe(200);
    // App evaluations only: s3 (search, March, passed) -> 1 / 1; ranking had web evaluations only: no value any more.
    await eventually(async () => ((await value('search_eval_pass_rate', 'month', '2025-03-01')).denominator === 1 ? true : undefined), 60_000, 'the recomputed history');
    await pipeline.settle();
    expect(await value('search_eval_pass_rate', 'month', '2025-03-01')).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    expect(await value('search_eval_pass_rate', 'month', '2025-03-01', 'ranking')).toMatchObject({ value: null, denominator: 0, status: 'no_data' });
    expect(await value('search_eval_pass_rate', 'quarter', '2025-04-01')).toMatchObject({ value: null, denominator: 0 });
  });

  it('a deleted one is gone from the catalog and its values', async () => {
    expect((await call('DELETE', '/v1/kpis/search_ndcg_p90')).status).toBe(204);
    expect((await pipeline.client.read.get('/v1/kpis')).map((kpi) => kpi.id)).not.toContain('search_ndcg_p90');
    expect((await pipeline.get('/v1/kpis/search_ndcg_p90/values')).status).toBe(404);
    const [stored] = await pipeline.runtime.storage.query<{ n: number }>("SELECT count() AS n FROM {db:Identifier}.kpi_values FINAL WHERE kpi = 'search_ndcg_p90'");
    expect(Number(stored!.n)).toBe(0);
    expect((await call('DELETE', '/v1/kpis/search_ndcg_p90')).status).toBe(404);
  });

  it('a bad definition is a 400 naming the problem; none runs SQL of its own', async () => {
    const bad = async (id: string, definition: unknown, problem: RegExp) => {
      const response = await call('PUT', `/v1/kpis/${id}`, definition);
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.message).toMatch(problem);
    };
    await bad('no_schema', { ...passRate, schema: undefined }, /schema: required/);
    await bad('bad_field', { ...ndcgP90, value: { agg: 'p90', field: 'ndcg_delta' } }, /value\.field: expected a field of the data/);
    await bad('bad_agg', { ...ndcgP90, value: { agg: 'stddev', field: 'data.ndcg_delta' } }, /value/);
    await bad('releases_delivered', passRate, /built-in/);
    await bad('sql_injection', { ...ndcgP90, value: { agg: 'p90', field: "data.x') FROM system.tables --" } }, /value\.field/);
    await bad('other_schema', { ...ndcgP90, schema: { type: 'object', required: ['team'] } }, /already has another schema/);
    expect((await call('DELETE', '/v1/kpis/releases_delivered')).status).toBe(400);
    const reader = await pipeline.api.inject({ method: 'PUT', url: '/v1/kpis/by_reader', payload: passRate, headers: { authorization: `Bearer ${TOKENS.read}` } });
    expect(reader.statusCode).toBe(403);
  });
});
