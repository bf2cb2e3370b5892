import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';
import { runDataTool } from './support/data-tools.ts';
import { connectorsFile, deliveries } from './support/webhooks.ts';

// The data side's tools for real (PyPI, in the venv ./run test keeps): the OpenLineage Python
// client with its HTTP transport and API-key auth, Great Expectations (GX Core 1.x) running a
// Checkpoint with the project's action (integrations/great_expectations), and Evidently 0.7
// snapshots posted by the project's helper (integrations/evidently), against one pipeline whose
// API listens on a free port. Every expected KPI value is worked out by hand from SPEC section 5.
const TOKENS = { openlineage: 'openlineage-token', gx: 'great-expectations-token', evidently: 'evidently-token' };
const CONFIG = `
openlineage: {token: ${TOKENS.openlineage}, datasets: {"s3://lake/features/clicks": {team: ranking, schedule: "0 6 * * *", sla_minutes: 60}}}
great_expectations: {token: ${TOKENS.gx}}
evidently: {token: ${TOKENS.evidently}}
`;
let pipeline: TestPipeline;
let origin: string;

beforeAll(async () => {
  pipeline = await startPipeline({ env: { KPI_CONNECTORS_FILE: connectorsFile(CONFIG), ALERT_DEFAULT_RULES: '0' } });
  origin = await pipeline.api.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);
afterAll(() => pipeline?.stop());
const { value } = kpiReader(() => pipeline);
const monthStart = () => `${new Date().toISOString().slice(0, 7)}-01`;
/** A value once the pipeline has recomputed it to `done`. */
const once = <T>(read: () => Promise<T>, done: (row: T) => boolean, what: string) => eventually(async () => { const row = await read(); return done(row) ? row : undefined; }, 60_000, what);
const breakdownNotes = async (kpi: string, period: string, team: string) =>
  (await pipeline.client.read.get('/v1/kpis/:id/breakdown', { params: { id: kpi }, query: { granularity: 'month', period_start: period, team } })).entities.map((row) => [row.in_numerator, row.note]);

describe('openlineage, with the real OpenLineage Python client', { timeout: 240_000 }, () => {
  it('a COMPLETE run of a job writing two datasets, one configured: one arrival, due at the schedule\'s latest time; data_freshness_sla follows', async () => {
    expect(await value('data_freshness_sla', 'month', '2026-05-01', 'ranking')).toMatchObject({ value: null, status: 'no_data' });
    // The transport configured with only the pipeline's URL posts to its default endpoint, api/v1/lineage, below it.
    const url = `${origin}/v1/webhooks/openlineage/`;
    // Run 1 ends 2026-05-03 07:30Z: due at 06:00 (schedule 0 6 * * *), 90 min later, over the 60 min SLA: late.
    await runDataTool('openlineage_emit.py', [url, TOKENS.openlineage, '0196a3c4-8d0e-7c3b-9a51-1f2e3d4c5b6a', '2026-05-03T06:55:00Z', '2026-05-03T07:30:00Z']);
    const late = await once(() => value('data_freshness_sla', 'month', '2026-05-01', 'ranking'), (row) => row.denominator === 1, 'the first arrival');
    expect(late).toMatchObject({ value: 0, numerator: 0, denominator: 1, sample_size: 1, target: 0.99, status: 'breached' });
    // Run 2 ends 2026-05-04 06:20+00:00 (08:20+02:00): due at 06:00 that day, 20 min later: on time -> 1 of 2.
    await runDataTool('openlineage_emit.py', [url, TOKENS.openlineage, '0196a3c4-8d0e-7c3b-9a51-1f2e3d4c5b6b', '2026-05-04T07:50:00+02:00', '2026-05-04T08:20:00+02:00']);
    const both = await once(() => value('data_freshness_sla', 'month', '2026-05-01', 'ranking'), (row) => row.denominator === 2, 'the second arrival');
    expect(both).toMatchObject({ value: 0.5, numerator: 1, denominator: 2, status: 'breached' });
    expect(await breakdownNotes('data_freshness_sla', '2026-05-01', 'ranking')).toEqual(
      expect.arrayContaining([
        [false, 's3://lake/features/clicks: 90 min after expected, SLA 60 min'],
        [true, 's3://lake/features/clicks: 20 min after expected, SLA 60 min'],
      ]),
    );
    // START is lineage only; COMPLETE produced the configured dataset's arrival alone (not s3://lake/features/views).
    const stored = await deliveries(pipeline, { connector: 'openlineage' });
    expect(stored.filter((row) => row.outcome === 'ignored')).toHaveLength(2);
    expect(stored.filter((row) => row.outcome === 'accepted').flatMap((row) => row.events).sort()).toEqual([
      'openlineage:0196a3c4-8d0e-7c3b-9a51-1f2e3d4c5b6a:s3://lake/features/clicks',
      'openlineage:0196a3c4-8d0e-7c3b-9a51-1f2e3d4c5b6b:s3://lake/features/clicks',
    ]);
  });

  it('checks the bearer token and the RunEvent schema at the connector\'s own path', async () => {
    const post = (body: string, token: string) => fetch(`${origin}/v1/webhooks/openlineage`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    expect((await post('{}', 'wrong-token')).status).toBe(401);
    const invalid = await post(JSON.stringify({ eventType: 'COMPLETE', eventTime: '2026-05-03T07:30:00Z', producer: 'x', schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json', run: { runId: 'r' }, job: { namespace: 'n', name: 'j' } }), TOKENS.openlineage);
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { message: string }).message).toMatch(/not an OpenLineage RunEvent: \/producer must match format "uri"/);
    expect((await post('not json', TOKENS.openlineage)).status).toBe(400);
  });
});

describe('great_expectations, with a real GX Core 1.x Checkpoint and the shipped action', { timeout: 240_000 }, () => {
  it('each validation result is a data.validated with its counts; data_validation_pass_rate as computed by hand', async () => {
    await runDataTool('gx_checkpoint.py', [`${origin}/v1/webhooks/great_expectations`, TOKENS.gx, 'data-eng']);
    // clicks_daily / clicks_suite: 3 expectations, 1 failed (clicks 250 > 100) -> not a success;
    // impressions / impressions_suite: 2 of 2 -> success. Pass rate 1 / 2 = 0.5 < 0.95: breached.
    const rate = await once(() => value('data_validation_pass_rate', 'month', monthStart(), 'data-eng'), (row) => row.denominator === 2, 'both validations');
    expect(rate).toMatchObject({ value: 0.5, numerator: 1, denominator: 2, sample_size: 2, target: 0.95, status: 'breached' });
    expect((await breakdownNotes('data_validation_pass_rate', monthStart(), 'data-eng')).sort()).toEqual([
      [false, 'clicks_daily / clicks_suite: 1 of 3 checks failed'],
      [true, 'impressions / impressions_suite: 0 of 2 checks failed'],
    ]);
    // The same result re-posted counts once (its id is the run's).
    const [accepted] = (await deliveries(pipeline, { connector: 'great_expectations' })).filter((row) => row.outcome === 'accepted');
    const replay = await pipeline.post(`/v1/webhooks/deliveries/${accepted!.id}/replay`, {}, 'admin-token');
    expect(replay.status, JSON.stringify(replay.body)).toBe(202);
    await pipeline.settle();
    expect((await value('data_validation_pass_rate', 'month', monthStart(), 'data-eng')).denominator).toBe(2);
  });

  it('refuses a wrong token (401), a body that is not a checkpoint result (400) and a team that is not a slug (422)', async () => {
    const post = (body: unknown, token = TOKENS.gx) => fetch(`${origin}/v1/webhooks/great_expectations`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    const result = { suite: 's', asset: 'a', success: true, evaluated: 2, successful: 2 };
    expect((await post({}, 'wrong-token')).status).toBe(401);
    expect((await post({ team: 'data-eng', run_id: 'r', run_time: '2026-05-03T00:00:00Z', results: [{ ...result, successful: 3 }] })).status).toBe(400);
    expect((await post({ team: 'Data Eng', run_id: 'r', run_time: '2026-05-03T00:00:00Z', results: [result] })).status).toBe(422);
  });
});

describe('evidently, with real Evidently 0.7 snapshots and the shipped helper', { timeout: 240_000 }, () => {
  it('drifted columns and failed tests await triage; triaging them changes alert_precision', async () => {
    await runDataTool('evidently_snapshots.py', [`${origin}/v1/webhooks/evidently`, TOKENS.evidently, 'ranking', 'ranker']);
    // Drift report (no tests): a (K-S p-value far below 0.05) and c (Wasserstein far above 0.1) drifted, b and d did not.
    // Test suite: the missing values of d fail their test, b's pass.
    const awaiting = await eventually(async () => {
      const alerts = (await pipeline.client.read.get('/v1/triage', { query: { team: 'ranking', triaged: 'false' } })).alerts;
      return alerts.length === 3 ? alerts : undefined;
    }, 60_000, 'three ranking alerts awaiting triage');
    expect(awaiting.map((alert) => alert.name).sort()).toEqual(["Column 'd' missing values: Less or Equal 0.000", 'drift:a', 'drift:c']);
    expect(awaiting.every((alert) => alert.model_id === 'ranker')).toBe(true);
    expect(awaiting.filter((alert) => alert.name.startsWith('drift:')).map((alert) => alert.alert_id).sort()).toEqual(['evidently:drift-1:a', 'evidently:drift-1:c']);
    // Drift of a and c was real (actionable), the missing values noise: alert_precision = 2 / 3, this month.
    expect((await value('alert_precision', 'month', monthStart(), 'ranking')).value).toBeNull();
    for (const alert of awaiting) {
      await pipeline.client.ingest.post('/v1/triage/:alert_id', { params: { alert_id: alert.alert_id }, body: { actionable: alert.name.startsWith('drift:') } });
    }
    const precision = await once(() => value('alert_precision', 'month', monthStart(), 'ranking'), (row) => row.denominator === 3, 'three triages');
    expect(precision).toMatchObject({ numerator: 2, denominator: 3, target: 0.7, status: 'breached' });
    expect(precision.value).toBeCloseTo(2 / 3, 12);
  });

  it('needs the team in the query (422) and the token (401)', async () => {
    const post = (query: string, token = TOKENS.evidently) => fetch(`${origin}/v1/webhooks/evidently${query}`, { method: 'POST', body: JSON.stringify({ metrics: [], tests: [{ name: 'Row count', status: 'FAIL' }] }), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    expect((await post('?model_id=ranker')).status).toBe(422);
    expect((await post('?team=ranking', 'wrong-token')).status).toBe(401);
    expect((await post('?team=ranking&model_id=ranker&run=check-1')).status).toBe(202);
  });
});
