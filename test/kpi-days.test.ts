import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '@kpi/events';
import { periodOf, storeValues } from '@kpi/kpi';
import { Serving } from '@kpi/serving';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { kpiReader, ratio } from './support/kpi-values.ts';

// The `day` granularity (SPEC 5, 6) through the real stack: events around the UTC midnight
// between 2026-03-01 (a Sunday) and 2026-03-02 (a Monday), several with an offset in their
// `time`; every expected value is worked out by hand below.

const arrival = (n: number, time: string, expected_at: string) =>
  makeEvent('dataset.arrived', { team: 'dy-data', dataset: 'clicks_daily', expected_at }, { source: 'days-test/airflow', id: `arrival-${n}`, time });
const serving = (n: number, time: string, tier: 1 | 2, requests: number, latency_p95_ms: number) =>
  makeEvent('serving.window', { team: 'dy-serve', model_id: `model-${tier}`, tier, requests, latency_p95_ms, cost_usd: requests / 1000 }, { source: 'days-test/gateway', id: `window-${n}`, time });

//   arrival  time (as sent)               UTC day     expected_at (UTC)   delay    on time (SLA 120 min)
//   1        2026-03-02T01:30:00+02:00    03-01       03-01 22:00          90 min  yes
//   2        2026-03-01T23:50:00Z         03-01       03-01 21:00         170 min  no
//   3        2026-03-01T19:10:00-05:00    03-02       03-02 00:00          10 min  yes
//   4        2026-03-02T00:00:00Z         03-02       03-01 22:00         120 min  yes (<= SLA)
//   -> 03-01: 1 of 2 = 0.5 (breached, >= 0.99); 03-02: 2 of 2 = 1 (met)
const arrivals = [
  arrival(1, '2026-03-02T01:30:00+02:00', '2026-03-01T22:00:00Z'),
  arrival(2, '2026-03-01T23:50:00Z', '2026-03-01T21:00:00Z'),
  arrival(3, '2026-03-01T19:10:00-05:00', '2026-03-02T00:00:00Z'),
  arrival(4, '2026-03-02T00:00:00Z', '2026-03-01T23:00:00+01:00'),
];
//   window  time (as sent)               UTC day   tier  requests  p95
//   1       2026-03-02T00:59:00+01:00    03-01     1     1000       80
//   2       2026-03-01T22:00:00Z         03-01     2     3000      120
//   3       2026-03-01T16:30:00-08:00    03-02     1     2000       90
//   4       2026-03-02T00:00:00.000Z     03-02     1     2000      110
//   -> 03-01: all (80 x 1000 + 120 x 3000) / 4000 = 110 (breached, <= 100); tier 1: 80; tier 2: 120
//      03-02: all and tier 1 (90 x 2000 + 110 x 2000) / 4000 = 100 (met); tier 2: nothing
const windows = [serving(1, '2026-03-02T00:59:00+01:00', 1, 1000, 80), serving(2, '2026-03-01T22:00:00Z', 2, 3000, 120), serving(3, '2026-03-01T16:30:00-08:00', 1, 2000, 90), serving(4, '2026-03-02T00:00:00.000Z', 1, 2000, 110)];

let pipeline: TestPipeline;
const { values, check } = kpiReader(() => pipeline);

beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.produce([...arrivals, ...windows]);
  await eventually(
    async () => ((await values('data_freshness_sla', 'day', '2026-03-02', '2026-03-03', 'dy-data'))[0]?.denominator === 2 && (await values('inference_latency_p95_ms', 'day', '2026-03-02', '2026-03-03', 'dy-serve'))[0]?.sample_size === 2 ? true : undefined),
    90_000,
    'the events counted',
  );
  await pipeline.settle();
}, 150_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('day values (SPEC 5: UTC days, events assigned by their UTC instant)', () => {
  it('data_freshness_sla per day, per team and for the organisation, and the weeks either side of the midnight', async () => {
    await check('data_freshness_sla', [
      ['day', '2026-03-01', 'dy-data', 'all', ratio(1, 2, 0.99, 'breached')],
      ['day', '2026-03-02', 'dy-data', 'all', ratio(2, 2, 0.99, 'met')],
      ['day', '2026-03-01', 'all', 'all', ratio(1, 2, 0.99, 'breached')],
      ['day', '2026-03-02', 'all', 'all', ratio(2, 2, 0.99, 'met')],
      ['day', '2026-02-28', 'dy-data', 'all', ratio(0, 0, 0.99, 'no_data')],
      // 03-01 is a Sunday: its week started 02-23; 03-02 opens the next.
      ['week', '2026-02-23', 'dy-data', 'all', ratio(1, 2, 0.99, 'breached')],
      ['week', '2026-03-02', 'dy-data', 'all', ratio(2, 2, 0.99, 'met')],
    ]);
  });

  it('inference_latency_p95_ms per day and tier: request-weighted', async () => {
    const latency = (sum: number, requests: number, windows: number, status: 'met' | 'breached') => ratio(sum, requests, 100, status, windows);
    await check('inference_latency_p95_ms', [
      ['day', '2026-03-01', 'dy-serve', 'all', latency(80 * 1000 + 120 * 3000, 4000, 2, 'breached')],
      ['day', '2026-03-01', 'dy-serve', '1', latency(80 * 1000, 1000, 1, 'met')],
      ['day', '2026-03-01', 'dy-serve', '2', latency(120 * 3000, 3000, 1, 'breached')],
      ['day', '2026-03-02', 'dy-serve', 'all', latency(90 * 2000 + 110 * 2000, 4000, 2, 'met')],
      ['day', '2026-03-02', 'dy-serve', '1', latency(90 * 2000 + 110 * 2000, 4000, 2, 'met')],
      ['day', '2026-03-02', 'dy-serve', '2', { value: null, numerator: 0, denominator: 0, sample_size: 0, target: 100, status: 'no_data' }],
      ['day', '2026-03-01', 'all', 'all', latency(80 * 1000 + 120 * 3000, 4000, 2, 'breached')],
    ]);
  });

  it('the last 30 days by default; a day breakdown lists the events of that UTC day', async () => {
    const series = (await pipeline.get('/v1/kpis/data_freshness_sla/values?granularity=day&team=dy-data')).body.values;
    expect(series).toHaveLength(30);
    expect(series.at(-1)!.period_start).toBe(periodOf('day', new Date()).start.toISOString().replace('.000Z', 'Z'));
    const breakdown = await pipeline.get('/v1/kpis/data_freshness_sla/breakdown?granularity=day&period_start=2026-03-01&team=dy-data');
    expect(breakdown.status).toBe(200);
    expect(breakdown.body).toMatchObject({ numerator: 1, denominator: 2, period_end: '2026-03-02T00:00:00.000Z' });
    expect(breakdown.body.entities.map((entity: { entity: string }) => entity.entity).sort()).toEqual(['days-test/airflow/arrival-1', 'days-test/airflow/arrival-2']);
  });

  it('only the KPIs that measure daily offer it: the others answer 400 naming their granularities, in values, breakdowns, alert rules and targets', async () => {
    const catalog = (await pipeline.get('/v1/kpis')).body as { id: string; granularities: string[] }[];
    expect(catalog.filter((kpi) => kpi.granularities.includes('day')).map((kpi) => kpi.id).sort()).toEqual(
      ['data_freshness_sla', 'data_validation_pass_rate', 'inference_cost_per_1k', 'inference_latency_p95_ms', 'inference_latency_p99_ms'],
    );
    const refused = 'granularity: releases_delivered is computed per week, month, quarter, year; not per day';
    for (const path of ['/v1/kpis/releases_delivered/values?granularity=day', '/v1/kpis/releases_delivered/breakdown?granularity=day&period_start=2026-03-01']) {
      const response = await pipeline.get(path);
      expect(response.status, path).toBe(400);
      expect(response.bodyAt(400).message).toBe(refused);
    }
    const rule = { name: 'days-rule', kpi: 'releases_delivered', scope: 'all', granularity: 'day' };
    const refusedRule = await pipeline.post('/v1/alert-rules', rule, TOKENS.admin);
    expect(refusedRule.status).toBe(400);
    expect(refusedRule.bodyAt(400).message).toContain(refused);
    expect((await pipeline.post('/v1/alert-rules', { ...rule, kpi: 'data_freshness_sla' }, TOKENS.admin)).status).toBe(201);
    const override = await pipeline.api.inject({ method: 'PUT', url: '/v1/targets/releases_delivered/dy-data', payload: { op: '>=', value: 1, granularity: 'day' }, headers: { authorization: `Bearer ${TOKENS.admin}` } });
    expect(override.statusCode).toBe(400);
    expect(override.json().message).toBe(refused);
  });

  it('a full rebuild (its values stored, not sent) reaches every process with one reload message', async () => {
    // Days multiply the values a rebuild writes: it stores them and then every process loads them once.
    const { runtime } = pipeline;
    const other = new Serving({ storage: runtime.storage, redis: runtime.redis, redisUrl: pipeline.env.REDIS_URL!, prefix: runtime.config.queuePrefix, fileOverrides: [], log: runtime.log });
    try {
      await other.ready();
      const period = periodOf('day', new Date('2026-03-05T12:00:00Z'));
      const evaluation = { value: 1, numerator: 3, denominator: 3, sample_size: 3, details: {} };
      await storeValues(runtime.storage, [{ kpi: 'data_freshness_sla', granularity: 'day', period, team: 'dy-rebuilt', tier: 'all', evaluation }], new Date());
      const served = (serving: Serving) => serving.values.read({ kpis: ['data_freshness_sla'], granularity: 'day', tier: 'all', teams: ['dy-rebuilt'], from: period.start, to: period.start });
      expect(served(other)).toEqual([]);
      await runtime.serving.rebuilt();
      expect(served(runtime.serving)).toMatchObject([{ numerator: 3, denominator: 3 }]);
      await eventually(async () => (served(other).length === 1 ? true : undefined), 15_000, 'the other process reloaded');
    } finally {
      other.close();
    }
  });

  it('/v1/metrics has the day under way for the daily KPIs only', async () => {
    const metrics = (await pipeline.get('/v1/metrics')).body as string;
    expect(metrics).toMatch(/^kpi_status\{kpi="data_freshness_sla",team="dy-data",tier="all",granularity="day",status="no_data"\} 1$/m);
    expect(metrics).toMatch(/^kpi_sample_size\{kpi="inference_latency_p95_ms",team="dy-serve",tier="1",granularity="day"\} 0$/m);
    expect(metrics).not.toMatch(/kpi="releases_delivered"[^}]*granularity="day"/);
  });
});
