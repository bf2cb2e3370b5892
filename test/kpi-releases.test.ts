import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { countEvents, eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import { count, kpiReader, ratio, type Expected } from './support/kpi-values.ts';

// Releases of 2025-12 .. 2026-11, hand-built; every expected number below is worked out from
// SPEC section 5 (release KPIs anchored at deploy time, drift KPIs over the models live at the
// period end, or now for the open period).
//
// ISO weeks used (Mondays): 2026-01-05, 01-12, 01-19, 02-09, 02-16, 04-06, 05-11, 06-22, 06-29, 11-02.

type Comparison = { value: number; baseline: number; higher_is_better: boolean };
interface ReleaseSpec {
  id: string;
  at: string;
  team: string;
  tier: 1 | 2 | 3;
  model: string;
  environment?: 'production' | 'staging' | 'shadow';
  readiness: boolean;
  reproducible: boolean;
  /** model_card, runbook, readout */
  docs: [boolean, boolean, boolean];
  /** drift_enabled, drift_alerting */
  drift: [boolean, boolean];
  /** name, critical, drift_monitored */
  features: [string, boolean, boolean][];
  offline?: Comparison & { name: string };
  ece?: number;
  /** segment, value, baseline, higher_is_better */
  slices?: [string, number, number, boolean][];
}

const SOURCE = 'github-actions/deployer';
const deployed = (r: ReleaseSpec) =>
  makeEvent(
    'release.deployed',
    {
      release_id: r.id,
      model_id: r.model,
      model_version: `${r.id}.0`,
      team: r.team,
      tier: r.tier,
      environment: r.environment ?? 'production',
      readiness_first_pass: r.readiness,
      reproducible: r.reproducible,
      docs: { model_card: r.docs[0], runbook: r.docs[1], readout: r.docs[2] },
      monitoring: {
        drift_enabled: r.drift[0],
        drift_alerting: r.drift[1],
        features: r.features.map(([name, critical, drift_monitored]) => ({ name, critical, drift_monitored })),
      },
      ...(r.offline ? { offline_metric: r.offline } : {}),
      ...(r.ece !== undefined ? { calibration_ece: r.ece } : {}),
      ...(r.slices ? { slices: r.slices.map(([segment, value, baseline, higher_is_better]) => ({ segment, value, baseline, higher_is_better })) } : {}),
    },
    { source: SOURCE, id: `${r.id}-deployed`, time: r.at },
  );
const rolledBack = (releaseId: string, model: string, team: string, at: string) =>
  makeEvent('release.rolled_back', { release_id: releaseId, model_id: model, team, reason: 'regression' }, { source: SOURCE, id: `${releaseId}-rolled-back`, time: at });

// ---- production releases ------------------------------------------------------------------------
// rel-0: December 2025 (outside 2026; the model `ranker`'s fallback release). Critical features 1/2 monitored.
const r0: ReleaseSpec = {
  id: 'rel-0', at: '2025-12-15T10:00:00Z', team: 'ranking', tier: 1, model: 'ranker', readiness: true, reproducible: true, docs: [true, true, true], drift: [true, true],
  features: [['query_len', true, true], ['user_age', true, false], ['session_len', false, false]],
};
// rel-1: rolled back exactly 7 days after deploy (a change failure). Offline win; ECE 0.125;
// slices: mobile better, desktop 36 vs 40 (higher better): worse by 4 > 5 % x 40 = 2 -> 1 regression.
// Drift enabled but not alerting; critical features 3/3 (the non-critical one is ignored).
const r1: ReleaseSpec = {
  id: 'rel-1', at: '2026-01-06T10:00:00Z', team: 'ranking', tier: 1, model: 'ranker', readiness: true, reproducible: true, docs: [true, true, true], drift: [true, false],
  features: [['a', true, true], ['b', true, true], ['c', true, true], ['d', false, true]],
  offline: { name: 'ndcg@10', value: 0.42, baseline: 0.4, higher_is_better: true }, ece: 0.125,
  slices: [['mobile', 0.41, 0.4, true], ['desktop', 36, 40, true]],
};
// rel-2: rolled back 7 days + 1 minute after deploy (not a change failure). Readiness failed,
// runbook missing. Offline logloss 0.30 vs 0.32, lower is better: a win. ECE 0.0625.
// Slices (lower is better, baseline 200, 5 % = 10): 230 worse by 30 -> regression; 210 worse by
// exactly 10 -> not "more than"; 190 better. -> 1 regression. Critical features 2/2.
const r2: ReleaseSpec = {
  id: 'rel-2', at: '2026-01-08T12:00:00Z', team: 'ranking', tier: 2, model: 'ctr', readiness: false, reproducible: true, docs: [true, false, true], drift: [true, true],
  features: [['x', true, true], ['y', true, true]],
  offline: { name: 'logloss', value: 0.3, baseline: 0.32, higher_is_better: false }, ece: 0.0625,
  slices: [['new_users', 230, 200, false], ['tablet', 210, 200, false], ['desktop', 190, 200, false]],
};
// rel-3: its rollback (2 days later) arrives before its deploy event. Not reproducible.
// Offline metric ties its baseline: no win. No ECE. Slices: zero baseline (never counts),
// emea 0.9 vs 1.0 (higher better): worse by 0.1 > 0.05 -> 1 regression. Drift off; 0/1 critical.
const r3: ReleaseSpec = {
  id: 'rel-3', at: '2026-01-20T09:00:00Z', team: 'search', tier: 1, model: 'query-intent', readiness: true, reproducible: false, docs: [true, true, true], drift: [false, false],
  features: [['q', true, false]],
  offline: { name: 'recall', value: 0.5, baseline: 0.5, higher_is_better: true },
  slices: [['cold_start', -5, 0, true], ['emea', 0.9, 1.0, true]],
};
// rel-4: no offline metric, no slices, no critical features. ECE 0.0625. Deployed on Sunday 02-08 local
// time, which is Monday 2026-02-09T01:00Z: week 02-09 (periods are UTC).
const r4: ReleaseSpec = {
  id: 'rel-4', at: '2026-02-08T22:00:00-03:00', team: 'search', tier: 2, model: 'spell', readiness: true, reproducible: true, docs: [true, true, true], drift: [true, true],
  features: [], ece: 0.0625,
};
// rel-5: deploy event sent twice. Readout missing. Offline latency tie with lower-is-better: no win.
// ECE 0.125. Slices: android 38 vs 40 worse by exactly 5 % (2) -> no; margin -11 vs -10 (higher
// better): worse by 1 > 5 % x |-10| = 0.5 -> 1 regression. Critical features 2/3.
const r5: ReleaseSpec = {
  id: 'rel-5', at: '2026-02-16T08:00:00Z', team: 'ranking', tier: 1, model: 'ranker', readiness: true, reproducible: true, docs: [true, true, false], drift: [true, true],
  features: [['a', true, true], ['b', true, true], ['c', true, false], ['e', false, false]],
  offline: { name: 'latency', value: 0.3, baseline: 0.3, higher_is_better: false }, ece: 0.125,
  slices: [['android', 38, 40, true], ['margin', -11, -10, true]],
};
// rel-6: rolled back 2 days later. Offline win. ECE 0.25. No slices. Critical features 1/1.
const r6: ReleaseSpec = {
  id: 'rel-6', at: '2026-04-07T10:00:00Z', team: 'ranking', tier: 1, model: 'ctr', readiness: true, reproducible: true, docs: [true, true, true], drift: [true, true],
  features: [['x', true, true]],
  offline: { name: 'auc', value: 0.8, baseline: 0.7, higher_is_better: true }, ece: 0.25,
};
// rel-7: readiness failed, not reproducible, no docs. Offline error 0.35 vs 0.30 (lower better): a loss.
// ECE 0.125. Slices (lower better): 110 vs 100 worse by 10 > 5 -> regression; zero baseline -> never.
// Critical features 2/2.
const r7: ReleaseSpec = {
  id: 'rel-7', at: '2026-05-12T10:00:00Z', team: 'search', tier: 1, model: 'query-intent', readiness: false, reproducible: false, docs: [false, false, false], drift: [true, true],
  features: [['q', true, true], ['r', true, true], ['s', false, false]],
  offline: { name: 'error', value: 0.35, baseline: 0.3, higher_is_better: false }, ece: 0.125,
  slices: [['us', 110, 100, false], ['new_market', 3, 0, false]],
};
// rel-8: 2026-06-30T23:59:59.999Z, the last millisecond of Q2 in UTC (July in its local time). Tier 3. Drift detection off (alerting on); critical features 1/2.
const r8: ReleaseSpec = {
  id: 'rel-8', at: '2026-07-01T01:59:59.999+02:00', team: 'ranking', tier: 3, model: 'ranker', readiness: true, reproducible: true, docs: [true, true, true], drift: [false, true],
  features: [['a', true, true], ['b', true, false]], slices: [],
};
// rel-9: November 2026 (the open month); replaces rel-4 as `spell`'s live release. Critical features 1/2.
const r9: ReleaseSpec = {
  id: 'rel-9', at: '2026-11-02T09:00:00Z', team: 'search', tier: 1, model: 'spell', readiness: true, reproducible: true, docs: [true, true, true], drift: [true, true],
  features: [['w', true, true], ['z', true, false]],
};
// rel-future: deployed a few hours from now: not live yet, so never in the "now" drift values.
const rFuture: ReleaseSpec = {
  id: 'rel-future', at: new Date(Date.now() + 6 * 3_600_000).toISOString(), team: 'ranking', tier: 1, model: 'ctr', readiness: true, reproducible: true, docs: [true, true, true], drift: [false, false],
  features: [['x', true, false]],
};

// ---- staging / shadow releases: never count, anywhere (all bad on purpose) ------------------------
const bad = { readiness: false, reproducible: false, offline: { name: 'm', value: 0.1, baseline: 0.9, higher_is_better: true }, ece: 0.9 };
const s1: ReleaseSpec = { ...bad, docs: [false, false, false], drift: [false, false], id: 'rel-stg-1', environment: 'staging', at: '2026-01-07T10:00:00Z', team: 'ranking', tier: 1, model: 'ranker', features: [['a', true, false]], slices: [['all', 1, 100, true]] };
const s2: ReleaseSpec = { ...bad, docs: [false, false, false], drift: [false, false], id: 'rel-shadow-2', environment: 'shadow', at: '2026-01-21T10:00:00Z', team: 'search', tier: 1, model: 'query-intent', features: [['q', true, false], ['r', true, false]], slices: [['all', 1, 100, true]] };
const s3: ReleaseSpec = { ...bad, docs: [false, false, false], drift: [false, false], id: 'rel-stg-3', environment: 'staging', at: '2026-05-20T10:00:00Z', team: 'search', tier: 1, model: 'spell', features: [['w', true, false]], slices: [['all', 1, 100, true]] };

// Sent first, and ingested before anything else: rel-3's rollback (before its deploy) and a
// rollback of a release that is never deployed.
const firstBatch: CloudEvent[] = [rolledBack('rel-3', 'query-intent', 'search', '2026-01-22T09:00:00Z'), rolledBack('rel-ghost', 'ghost', 'search', '2026-01-25T00:00:00Z')];
const secondBatch: CloudEvent[] = [
  deployed(r0),
  deployed(r1),
  deployed(r1), // duplicate copy
  rolledBack('rel-1', 'ranker', 'ranking', '2026-01-13T12:00:00+02:00'), // 10:00Z: deploy + exactly 7 days
  deployed(r2),
  rolledBack('rel-2', 'ctr', 'ranking', '2026-01-15T12:01:00Z'), // deploy + 7 days + 1 minute
  deployed(r3),
  rolledBack('rel-3', 'query-intent', 'search', '2026-01-22T09:00:00Z'), // duplicate of the early rollback
  deployed(r4),
  deployed(r5),
  deployed(r5), // duplicate copy
  deployed(r6),
  rolledBack('rel-6', 'ctr', 'ranking', '2026-04-09T10:00:00Z'),
  deployed(r7),
  deployed(r8),
  deployed(r9),
  deployed(rFuture),
  deployed(s1),
  rolledBack('rel-stg-1', 'ranker', 'ranking', '2026-01-07T12:00:00Z'),
  deployed(s2),
  deployed(s3),
];
const distinctEvents = new Set([...firstBatch, ...secondBatch].map((event) => `${event.source}|${event.id}`)).size;

// The open periods, whatever the day the suite runs (today: 2026-11-24, so week 11-23, November, Q4).
const now = new Date();
const day = (instant: number) => new Date(instant).toISOString().slice(0, 10);
const current = {
  week: day(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - ((now.getUTCDay() + 6) % 7) * 86_400_000),
  month: day(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
  quarter: day(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (now.getUTCMonth() % 3), 1)),
};

let pipeline: TestPipeline;
beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.produce(firstBatch);
  await eventually(async () => ((await countEvents(pipeline.runtime)) === 2 ? true : undefined), 60_000, 'the early rollbacks ingested');
  await pipeline.produce(secondBatch);
  await eventually(async () => ((await countEvents(pipeline.runtime)) === distinctEvents ? true : undefined), 60_000, 'every release event ingested');
  await eventually(async () => ((await value('releases_delivered', 'quarter', '2026-04-01')).value === 3 ? true : undefined), 60_000, 'Q2 releases');
  await pipeline.settle();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await pipeline.settle();
}, 180_000);
afterAll(() => pipeline?.stop());

const { values, value, check } = kpiReader(() => pipeline);

// ---- expected values ----------------------------------------------------------------------------
const meanOf = (xs: number[], target: number | null, status: Expected['status']): Expected => ({
  value: xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length,
  numerator: null,
  denominator: null,
  sample_size: xs.length,
  target,
  status,
});

describe('release KPIs through Kafka -> ingest -> ClickHouse -> worker -> API', () => {
  it('releases_delivered counts production releases by deploy time; staging/shadow never count; target >= 1 per quarter only', async () => {
    // Production: Jan rel-1, rel-2, rel-3 (rel-stg-1, rel-shadow-2 excluded); Feb rel-4, rel-5 (rel-5 sent twice);
    // Mar none; Apr rel-6; May rel-7 (rel-stg-3 excluded); Jun rel-8 (23:59:59.999 on the 30th).
    await check('releases_delivered', [
      ['week', '2026-01-05', 'all', 'all', count(2, 2, null, 'no_target')], // rel-1, rel-2
      ['week', '2026-01-19', 'all', 'all', count(1, 1, null, 'no_target')], // rel-3
      ['week', '2026-01-12', 'all', 'all', count(0, 0, null, 'no_target')],
      ['week', '2026-06-29', 'all', 'all', count(1, 1, null, 'no_target')], // rel-8
      ['week', '2026-01-05', 'all', '1', count(1, 1, null, 'no_target')], // rel-1
      ['month', '2026-01-01', 'all', 'all', count(3, 3, null, 'no_target')],
      ['month', '2026-02-01', 'all', 'all', count(2, 2, null, 'no_target')], // the duplicate counts once
      ['month', '2026-03-01', 'all', 'all', count(0, 0, null, 'no_target')],
      ['month', '2026-05-01', 'all', 'all', count(1, 1, null, 'no_target')],
      ['month', '2026-06-01', 'all', 'all', count(1, 1, null, 'no_target')],
      ['month', '2026-07-01', 'all', 'all', count(0, 0, null, 'no_target')],
      ['month', '2026-01-01', 'ranking', 'all', count(2, 2, null, 'no_target')], // rel-1, rel-2
      ['month', '2026-01-01', 'all', '1', count(2, 2, null, 'no_target')], // rel-1, rel-3
      ['quarter', '2026-01-01', 'all', 'all', count(5, 5, 1, 'met')], // rel-1..rel-5
      ['quarter', '2026-04-01', 'all', 'all', count(3, 3, 1, 'met')], // rel-6, rel-7, rel-8
      ['quarter', '2026-07-01', 'all', 'all', count(0, 0, 1, 'breached')],
      ['quarter', '2026-01-01', 'ranking', 'all', count(3, 3, 1, 'met')], // rel-1, rel-2, rel-5
      ['quarter', '2026-01-01', 'search', 'all', count(2, 2, 1, 'met')], // rel-3, rel-4
      ['quarter', '2026-01-01', 'all', '1', count(3, 3, 1, 'met')], // rel-1, rel-3, rel-5
      ['quarter', '2026-04-01', 'all', '1', count(2, 2, 1, 'met')], // rel-6, rel-7
      ['quarter', '2026-04-01', 'all', '3', count(1, 1, 1, 'met')], // rel-8
      ['quarter', '2026-04-01', 'search', '2', count(0, 0, 1, 'breached')],
      ['quarter', '2025-10-01', 'all', 'all', count(1, 1, 1, 'met')], // rel-0
    ]);
  });

  it('change_failure_rate: rollback within 7 days inclusive, out-of-order rollback, never-deployed release counts nowhere', async () => {
    // Failures: rel-1 (rolled back at deploy + 7 d exactly), rel-3 (rollback arrived first), rel-6.
    // Not failures: rel-2 (deploy + 7 d 1 min), rel-4, rel-5, rel-7, rel-8. rel-stg-1's rollback: staging, ignored.
    await check('change_failure_rate', [
      ['week', '2026-01-05', 'all', 'all', ratio(1, 2, 0.15, 'breached')], // rel-1 of rel-1, rel-2
      ['week', '2026-01-19', 'all', 'all', ratio(1, 1, 0.15, 'breached')], // rel-3
      ['week', '2026-02-09', 'all', 'all', ratio(0, 1, 0.15, 'met')], // rel-4
      ['week', '2026-01-05', 'all', '2', ratio(0, 1, 0.15, 'met')], // rel-2 (7 d + 1 min)
      ['week', '2026-01-12', 'all', 'all', ratio(0, 0, 0.15, 'no_data')],
      ['month', '2026-01-01', 'all', 'all', ratio(2, 3, 0.15, 'breached')], // rel-1, rel-3 of rel-1..3
      ['month', '2026-02-01', 'all', 'all', ratio(0, 2, 0.15, 'met')],
      ['month', '2026-03-01', 'all', 'all', ratio(0, 0, 0.15, 'no_data')],
      ['month', '2026-04-01', 'all', 'all', ratio(1, 1, 0.15, 'breached')], // rel-6
      ['month', '2026-01-01', 'ranking', 'all', ratio(1, 2, 0.15, 'breached')], // rel-1 of rel-1, rel-2
      ['month', '2026-01-01', 'search', 'all', ratio(1, 1, 0.15, 'breached')], // rel-3 (rel-ghost counts nowhere)
      ['month', '2026-01-01', 'all', '1', ratio(2, 2, 0.15, 'breached')], // rel-1, rel-3
      ['quarter', '2026-01-01', 'all', 'all', ratio(2, 5, 0.15, 'breached')],
      ['quarter', '2026-04-01', 'all', 'all', ratio(1, 3, 0.15, 'breached')], // rel-6 of rel-6..8
      ['quarter', '2026-01-01', 'ranking', 'all', ratio(1, 3, 0.15, 'breached')], // rel-1 of rel-1, rel-2, rel-5
      ['quarter', '2026-01-01', 'search', 'all', ratio(1, 2, 0.15, 'breached')], // rel-3 of rel-3, rel-4
      ['quarter', '2026-01-01', 'all', '1', ratio(2, 3, 0.15, 'breached')], // rel-1, rel-3 of rel-1, rel-3, rel-5
      ['quarter', '2026-01-01', 'all', '2', ratio(0, 2, 0.15, 'met')], // rel-2, rel-4
      ['quarter', '2026-04-01', 'all', '1', ratio(1, 2, 0.15, 'breached')], // rel-6 of rel-6, rel-7
      ['quarter', '2026-04-01', 'search', 'all', ratio(0, 1, 0.15, 'met')], // rel-7
    ]);
  });

  it('a change_failure_rate breakdown lists exactly the releases behind the value, and the rollback waiting for its deploy', async () => {
    const response = await pipeline.get('/v1/kpis/change_failure_rate/breakdown?granularity=month&period_start=2026-01-01&team=all');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    // January: rel-1 (failure), rel-2 (rolled back too late), rel-3 (failure) -> 2 / 3. No staging, no ghost.
    expect(response.body).toMatchObject({ value: 2 / 3, numerator: 2, denominator: 3, sample_size: 3, target: 0.15, status: 'breached' });
    const entities = (response.body.entities as { entity: string; in_numerator: boolean; in_denominator: boolean }[])
      .map(({ entity, in_numerator, in_denominator }) => ({ entity, in_numerator, in_denominator }))
      .sort((a, b) => a.entity.localeCompare(b.entity));
    expect(entities).toEqual([
      { entity: 'rel-1', in_numerator: true, in_denominator: true },
      { entity: 'rel-2', in_numerator: false, in_denominator: true },
      { entity: 'rel-3', in_numerator: true, in_denominator: true },
    ]);
    expect(response.body.diagnostics.waiting_for_defining_event.total).toBe(1);
    expect(response.body.diagnostics.waiting_for_defining_event.entities).toEqual([{ entity_id: 'rel-ghost', types: ['release.rolled_back'] }]);

    // Tier 1, team search, same month: rel-3 alone.
    const search = await pipeline.get('/v1/kpis/change_failure_rate/breakdown?granularity=month&period_start=2026-01-01&team=search&tier=1');
    expect(search.status).toBe(200);
    expect(search.body).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    expect(search.body.entities.map((e: { entity: string }) => e.entity)).toEqual(['rel-3']);

    // February's releases: rel-5 was sent twice and appears once.
    const february = await pipeline.get('/v1/kpis/releases_delivered/breakdown?granularity=month&period_start=2026-02-01');
    expect(february.status).toBe(200);
    expect(february.body.value).toBe(2);
    expect(february.body.entities.map((e: { entity: string }) => e.entity).sort()).toEqual(['rel-4', 'rel-5']);
  });

  it('readiness_first_pass_rate, documentation_completeness and reproducibility_rate are shares of production releases by deploy time', async () => {
    // readiness: rel-1 T, rel-2 F, rel-3 T, rel-4 T, rel-5 T | rel-6 T, rel-7 F, rel-8 T.
    await check('readiness_first_pass_rate', [
      ['week', '2026-01-05', 'all', 'all', ratio(1, 2, 0.8, 'breached')],
      ['week', '2026-01-05', 'all', '1', ratio(1, 1, 0.8, 'met')],
      ['month', '2026-01-01', 'all', 'all', ratio(2, 3, 0.8, 'breached')],
      ['month', '2026-02-01', 'all', 'all', ratio(2, 2, 0.8, 'met')],
      ['month', '2026-03-01', 'all', 'all', ratio(0, 0, 0.8, 'no_data')],
      ['quarter', '2026-01-01', 'all', 'all', ratio(4, 5, 0.8, 'met')], // 0.8 >= 0.8
      ['quarter', '2026-04-01', 'all', 'all', ratio(2, 3, 0.8, 'breached')],
      ['quarter', '2026-01-01', 'ranking', 'all', ratio(2, 3, 0.8, 'breached')], // rel-1, rel-2, rel-5
      ['quarter', '2026-01-01', 'search', 'all', ratio(2, 2, 0.8, 'met')], // rel-3, rel-4
      ['quarter', '2026-01-01', 'all', '1', ratio(3, 3, 0.8, 'met')], // rel-1, rel-3, rel-5
      ['quarter', '2026-04-01', 'all', '1', ratio(1, 2, 0.8, 'breached')], // rel-6 T, rel-7 F
    ]);
    // docs all true: rel-1 T, rel-2 F (runbook), rel-3 T, rel-4 T, rel-5 F (readout) | rel-6 T, rel-7 F, rel-8 T.
    await check('documentation_completeness', [
      ['week', '2026-01-05', 'all', 'all', ratio(1, 2, 1, 'breached')],
      ['week', '2026-02-09', 'all', 'all', ratio(1, 1, 1, 'met')], // rel-4
      ['month', '2026-01-01', 'all', 'all', ratio(2, 3, 1, 'breached')],
      ['month', '2026-02-01', 'all', 'all', ratio(1, 2, 1, 'breached')],
      ['month', '2026-01-01', 'all', '1', ratio(2, 2, 1, 'met')], // rel-1, rel-3
      ['quarter', '2026-01-01', 'all', 'all', ratio(3, 5, 1, 'breached')],
      ['quarter', '2026-04-01', 'all', 'all', ratio(2, 3, 1, 'breached')],
      ['quarter', '2026-01-01', 'ranking', 'all', ratio(1, 3, 1, 'breached')],
      ['quarter', '2026-01-01', 'search', 'all', ratio(2, 2, 1, 'met')],
      ['quarter', '2026-01-01', 'all', '1', ratio(2, 3, 1, 'breached')], // rel-1 T, rel-3 T, rel-5 F
      ['quarter', '2026-07-01', 'all', 'all', ratio(0, 0, 1, 'no_data')],
    ]);
    // reproducible: rel-1 T, rel-2 T, rel-3 F, rel-4 T, rel-5 T | rel-6 T, rel-7 F, rel-8 T.
    await check('reproducibility_rate', [
      ['week', '2026-01-05', 'all', 'all', ratio(2, 2, 0.9, 'met')],
      ['week', '2026-01-19', 'all', 'all', ratio(0, 1, 0.9, 'breached')],
      ['month', '2026-01-01', 'all', 'all', ratio(2, 3, 0.9, 'breached')],
      ['month', '2026-02-01', 'all', 'all', ratio(2, 2, 0.9, 'met')],
      ['month', '2026-06-01', 'all', 'all', ratio(1, 1, 0.9, 'met')], // rel-8
      ['quarter', '2026-01-01', 'all', 'all', ratio(4, 5, 0.9, 'breached')],
      ['quarter', '2026-04-01', 'all', 'all', ratio(2, 3, 0.9, 'breached')],
      ['quarter', '2026-01-01', 'ranking', 'all', ratio(3, 3, 0.9, 'met')],
      ['quarter', '2026-01-01', 'search', 'all', ratio(1, 2, 0.9, 'breached')],
      ['quarter', '2026-01-01', 'all', '1', ratio(2, 3, 0.9, 'breached')], // rel-1 T, rel-3 F, rel-5 T
      ['quarter', '2026-04-01', 'search', '1', ratio(0, 1, 0.9, 'breached')], // rel-7
    ]);
  });

  it('offline_win_rate: strictly beats the baseline, direction-aware; a tie is no win; releases without a metric are left out', async () => {
    // With an offline metric: rel-1 win (0.42 > 0.40), rel-2 win (0.30 < 0.32, lower better), rel-3 tie (no),
    // rel-5 tie with lower better (no) | rel-6 win, rel-7 loss (0.35 > 0.30, lower better). rel-4, rel-8: no metric.
    await check('offline_win_rate', [
      ['week', '2026-01-05', 'all', 'all', ratio(2, 2, 0.8, 'met')], // rel-1, rel-2
      ['week', '2026-01-19', 'all', 'all', ratio(0, 1, 0.8, 'breached')], // rel-3 tie
      ['week', '2026-02-09', 'all', 'all', ratio(0, 0, 0.8, 'no_data')], // rel-4 has no metric
      ['week', '2026-02-16', 'all', 'all', ratio(0, 1, 0.8, 'breached')], // rel-5 tie
      ['month', '2026-01-01', 'all', 'all', ratio(2, 3, 0.8, 'breached')],
      ['month', '2026-02-01', 'all', 'all', ratio(0, 1, 0.8, 'breached')],
      ['month', '2026-06-01', 'all', 'all', ratio(0, 0, 0.8, 'no_data')], // rel-8 has no metric
      ['month', '2026-01-01', 'all', '2', ratio(1, 1, 0.8, 'met')], // rel-2
      ['quarter', '2026-01-01', 'all', 'all', ratio(2, 4, 0.8, 'breached')], // rel-1, rel-2 of rel-1, 2, 3, 5
      ['quarter', '2026-04-01', 'all', 'all', ratio(1, 2, 0.8, 'breached')], // rel-6 of rel-6, rel-7
      ['quarter', '2026-01-01', 'ranking', 'all', ratio(2, 3, 0.8, 'breached')], // rel-1, rel-2 of rel-1, 2, 5
      ['quarter', '2026-01-01', 'search', 'all', ratio(0, 1, 0.8, 'breached')], // rel-3
      ['quarter', '2026-01-01', 'all', '1', ratio(1, 3, 0.8, 'breached')], // rel-1 of rel-1, 3, 5
      ['quarter', '2026-04-01', 'ranking', '1', ratio(1, 1, 0.8, 'met')], // rel-6
    ]);
  });

  it('calibration_ece is the mean over releases that report it, judged against the previous period', async () => {
    // ECE: rel-1 0.125, rel-2 0.0625, rel-4 0.0625, rel-5 0.125 | rel-6 0.25, rel-7 0.125. rel-0, rel-3, rel-8 report none.
    // Months: Dec 2025 null; Jan (0.125 + 0.0625) / 2 = 0.09375 (no previous -> no_target);
    // Feb (0.0625 + 0.125) / 2 = 0.09375 <= 0.09375 -> met; Mar null (target 0.09375);
    // Apr 0.25 (previous null -> no_target); May 0.125 <= 0.25 met; Jun null.
    const months = await values('calibration_ece', 'month', '2025-12-01', '2026-07-01');
    expect(months.map((v) => [v.period_start.slice(0, 10), v.value, v.sample_size, v.numerator, v.denominator, v.target, v.status])).toEqual([
      ['2025-12-01', null, 0, null, null, null, 'no_data'],
      ['2026-01-01', 0.09375, 2, null, null, null, 'no_target'],
      ['2026-02-01', 0.09375, 2, null, null, 0.09375, 'met'],
      ['2026-03-01', null, 0, null, null, 0.09375, 'no_data'],
      ['2026-04-01', 0.25, 1, null, null, null, 'no_target'],
      ['2026-05-01', 0.125, 1, null, null, 0.25, 'met'],
      ['2026-06-01', null, 0, null, null, 0.125, 'no_data'],
    ]);
    await check('calibration_ece', [
      // Weeks: 01-05 0.09375 (previous week empty -> no_target); 02-09 rel-4 0.0625 (02-02 empty);
      // 02-16 rel-5 0.125 > 0.0625 -> breached; 01-19 rel-3 reports none -> null.
      ['week', '2026-01-05', 'all', 'all', meanOf([0.125, 0.0625], null, 'no_target')],
      ['week', '2026-01-19', 'all', 'all', meanOf([], null, 'no_data')],
      ['week', '2026-02-09', 'all', 'all', meanOf([0.0625], null, 'no_target')],
      ['week', '2026-02-16', 'all', 'all', meanOf([0.125], 0.0625, 'breached')],
      // Quarters: Q4 2025 null; Q1 (0.125 + 0.0625 + 0.0625 + 0.125) / 4 = 0.09375, no_target;
      // Q2 (0.25 + 0.125) / 2 = 0.1875 > 0.09375 -> breached.
      ['quarter', '2026-01-01', 'all', 'all', meanOf([0.125, 0.0625, 0.0625, 0.125], null, 'no_target')],
      ['quarter', '2026-04-01', 'all', 'all', meanOf([0.25, 0.125], 0.09375, 'breached')],
      // ranking: Q1 (0.125 + 0.0625 + 0.125) / 3 = 0.1041666..; Q2 rel-6 0.25 > that -> breached.
      ['quarter', '2026-01-01', 'ranking', 'all', meanOf([0.125, 0.0625, 0.125], null, 'no_target')],
      ['quarter', '2026-04-01', 'ranking', 'all', meanOf([0.25], 0.3125 / 3, 'breached')],
      // search: Q1 rel-4 0.0625 (rel-3 none); Q2 rel-7 0.125 > 0.0625 -> breached.
      ['quarter', '2026-04-01', 'search', 'all', meanOf([0.125], 0.0625, 'breached')],
      // tier 1: Jan rel-1 0.125 (no previous); Feb rel-5 0.125 <= 0.125 -> met; Q1 0.125; Q2 (0.25 + 0.125) / 2 = 0.1875 > 0.125.
      ['month', '2026-01-01', 'all', '1', meanOf([0.125], null, 'no_target')],
      ['month', '2026-02-01', 'all', '1', meanOf([0.125], 0.125, 'met')],
      ['quarter', '2026-01-01', 'all', '1', meanOf([0.125, 0.125], null, 'no_target')],
      ['quarter', '2026-04-01', 'all', '1', meanOf([0.25, 0.125], 0.125, 'breached')],
      // tier 2: Jan rel-2 0.0625; Feb rel-4 0.0625 <= 0.0625 -> met.
      ['month', '2026-02-01', 'all', '2', meanOf([0.0625], 0.0625, 'met')],
    ]);
  });

  it('slice_regressions counts slices worse than baseline by more than 5 % of |baseline|, direction-aware', async () => {
    // Per release: rel-1 1 (desktop), rel-2 1 (new_users; tablet exactly 5 % no), rel-3 1 (emea; zero baseline no),
    // rel-4 0 (no slices), rel-5 1 (margin, negative baseline; android exactly 5 % no) | rel-6 0, rel-7 1 (us; zero baseline no), rel-8 0.
    // sample_size: the production releases of the period that report slices (rel-4 and rel-6 do not:
    // left out, not guessed; rel-8's empty list is reported). Target <= 0.
    await check('slice_regressions', [
      ['week', '2026-01-05', 'all', 'all', count(2, 2, 0, 'breached')], // rel-1 + rel-2
      ['week', '2026-01-19', 'all', 'all', count(1, 1, 0, 'breached')], // rel-3
      ['week', '2026-02-09', 'all', 'all', count(0, 0, 0, 'met')], // rel-4 reports no slices
      ['week', '2026-02-16', 'all', 'all', count(1, 1, 0, 'breached')], // rel-5
      ['week', '2026-01-05', 'all', '2', count(1, 1, 0, 'breached')], // rel-2
      ['month', '2026-01-01', 'all', 'all', count(3, 3, 0, 'breached')],
      ['month', '2026-02-01', 'all', 'all', count(1, 1, 0, 'breached')], // rel-5
      ['month', '2026-03-01', 'all', 'all', count(0, 0, 0, 'met')],
      ['month', '2026-04-01', 'all', 'all', count(0, 0, 0, 'met')], // rel-6 has no slices
      ['month', '2026-06-01', 'all', 'all', count(0, 1, 0, 'met')], // rel-8: empty slice list
      ['quarter', '2026-01-01', 'all', 'all', count(4, 4, 0, 'breached')],
      ['quarter', '2026-04-01', 'all', 'all', count(1, 2, 0, 'breached')],
      ['quarter', '2026-01-01', 'ranking', 'all', count(3, 3, 0, 'breached')], // rel-1, rel-2, rel-5
      ['quarter', '2026-01-01', 'search', 'all', count(1, 1, 0, 'breached')], // rel-3
      ['quarter', '2026-04-01', 'ranking', 'all', count(0, 1, 0, 'met')], // rel-8
      ['quarter', '2026-01-01', 'all', '1', count(3, 3, 0, 'breached')], // rel-1, rel-3, rel-5
      ['quarter', '2026-04-01', 'all', '1', count(1, 1, 0, 'breached')], // rel-7 1 (rel-6 reports none)
    ]);
  });

  it('drift coverage at the end of closed periods: rollbacks fall back to the previous release, later deploys are not live yet', async () => {
    // Live release per model (production only; latest deployed before the instant, not rolled back before it):
    // 2026-01-12 (end of week 01-05): ranker rel-1 (rolled back only on 01-13), ctr rel-2 (rolled back 01-15).
    //   model: rel-1 (drift on, alerting off) no, rel-2 yes -> 1/2; tier 1: rel-1 -> 0/1.
    //   features: rel-1 3/3 + rel-2 2/2 = 5/5; tier 1 3/3.
    // 2026-01-19 (end of week 01-12) and 2026-02-01 (end of January): ranker falls back to rel-0 (rel-1 rolled back),
    //   ctr none (rel-2 rolled back), query-intent none (rel-3 rolled back 01-22; the shadow rel-shadow-2 never counts).
    //   -> rel-0 alone: model 1/1, features 1/2 (session_len is not critical).
    // 2026-03-01 / 2026-04-01 (end of Feb, Q1) and 2026-05-01 (end of Apr; rel-6 rolled back 04-09): ranker rel-5, spell rel-4.
    //   model 2/2 (tier 1: rel-5 1/1; tier 2: rel-4 1/1); features rel-5 2/3 + rel-4 0/0 = 2/3.
    // 2026-06-01 (end of May) and 2026-06-29 (end of week 06-22): ranker rel-5 (rel-8 deployed later), query-intent rel-7,
    //   spell rel-4 (the staging rel-stg-3 never counts): model 3/3; features 2/3 + 2/2 + 0/0 = 4/5 = 0.8 (met).
    // 2026-07-01 (end of June, Q2; week 06-29 ends 07-06) and 2026-10-01 / 11-01 (end of Q3, October): ranker rel-8
    //   (deployed 1 ms before the end of Q2), query-intent rel-7, spell rel-4 (rel-9 deployed later).
    //   model: rel-8 (drift off) no, rel-7 yes, rel-4 yes -> 2/3; tier 1: rel-7 1/1; tier 2: rel-4 1/1; tier 3: rel-8 0/1.
    //   features: rel-8 1/2 + rel-7 2/2 + rel-4 0/0 = 3/4; tier 1 2/2; tier 2 0/0 (null); tier 3 1/2.
    // drift_model_coverage has a target (>= 1.0) for tier 1 only; drift_feature_coverage >= 0.8 for every tier.
    await check('drift_model_coverage', [
      ['week', '2026-01-05', 'all', 'all', ratio(1, 2, null, 'no_target', 2)],
      ['week', '2026-01-05', 'all', '1', ratio(0, 1, 1, 'breached', 1)],
      ['week', '2026-01-05', 'all', '2', ratio(1, 1, null, 'no_target', 1)],
      ['week', '2026-01-12', 'all', 'all', ratio(1, 1, null, 'no_target', 1)],
      ['month', '2026-01-01', 'all', 'all', ratio(1, 1, null, 'no_target', 1)],
      ['month', '2026-01-01', 'all', '1', ratio(1, 1, 1, 'met', 1)],
      ['month', '2026-01-01', 'ranking', 'all', ratio(1, 1, null, 'no_target', 1)],
      ['month', '2026-01-01', 'search', 'all', ratio(0, 0, null, 'no_data', 0)],
      ['month', '2026-01-01', 'search', '1', ratio(0, 0, 1, 'no_data', 0)],
      ['month', '2026-02-01', 'all', 'all', ratio(2, 2, null, 'no_target', 2)],
      ['month', '2026-04-01', 'all', 'all', ratio(2, 2, null, 'no_target', 2)],
      ['month', '2026-05-01', 'all', 'all', ratio(3, 3, null, 'no_target', 3)],
      ['month', '2026-05-01', 'all', '1', ratio(2, 2, 1, 'met', 2)],
      ['month', '2026-06-01', 'all', 'all', ratio(2, 3, null, 'no_target', 3)],
      ['month', '2026-10-01', 'all', 'all', ratio(2, 3, null, 'no_target', 3)],
      ['week', '2026-06-22', 'all', 'all', ratio(3, 3, null, 'no_target', 3)],
      ['week', '2026-06-29', 'all', 'all', ratio(2, 3, null, 'no_target', 3)],
      ['quarter', '2026-01-01', 'all', 'all', ratio(2, 2, null, 'no_target', 2)],
      ['quarter', '2026-01-01', 'all', '1', ratio(1, 1, 1, 'met', 1)],
      ['quarter', '2026-01-01', 'all', '2', ratio(1, 1, null, 'no_target', 1)],
      ['quarter', '2026-01-01', 'search', 'all', ratio(1, 1, null, 'no_target', 1)],
      ['quarter', '2026-04-01', 'all', 'all', ratio(2, 3, null, 'no_target', 3)],
      ['quarter', '2026-04-01', 'all', '1', ratio(1, 1, 1, 'met', 1)],
      ['quarter', '2026-04-01', 'all', '2', ratio(1, 1, null, 'no_target', 1)],
      ['quarter', '2026-04-01', 'all', '3', ratio(0, 1, null, 'no_target', 1)],
      ['quarter', '2026-04-01', 'ranking', 'all', ratio(0, 1, null, 'no_target', 1)],
      ['quarter', '2026-04-01', 'search', 'all', ratio(2, 2, null, 'no_target', 2)],
      ['quarter', '2026-07-01', 'all', 'all', ratio(2, 3, null, 'no_target', 3)],
    ]);
    await check('drift_feature_coverage', [
      ['week', '2026-01-05', 'all', 'all', ratio(5, 5, 0.8, 'met', 2)],
      ['week', '2026-01-05', 'all', '1', ratio(3, 3, 0.8, 'met', 1)],
      ['week', '2026-01-12', 'all', 'all', ratio(1, 2, 0.8, 'breached', 1)],
      ['month', '2026-01-01', 'all', 'all', ratio(1, 2, 0.8, 'breached', 1)],
      ['month', '2026-01-01', 'all', '1', ratio(1, 2, 0.8, 'breached', 1)],
      ['month', '2026-01-01', 'search', 'all', ratio(0, 0, 0.8, 'no_data', 0)],
      ['month', '2026-02-01', 'all', 'all', ratio(2, 3, 0.8, 'breached', 2)],
      ['month', '2026-02-01', 'search', 'all', ratio(0, 0, 0.8, 'no_data', 1)], // rel-4 declares no critical feature
      ['month', '2026-05-01', 'all', 'all', ratio(4, 5, 0.8, 'met', 3)],
      ['month', '2026-05-01', 'all', '1', ratio(4, 5, 0.8, 'met', 2)], // rel-5 2/3 + rel-7 2/2
      ['month', '2026-06-01', 'all', 'all', ratio(3, 4, 0.8, 'breached', 3)],
      ['month', '2026-10-01', 'all', 'all', ratio(3, 4, 0.8, 'breached', 3)],
      ['week', '2026-06-22', 'all', 'all', ratio(4, 5, 0.8, 'met', 3)],
      ['quarter', '2026-01-01', 'all', 'all', ratio(2, 3, 0.8, 'breached', 2)],
      ['quarter', '2026-01-01', 'ranking', 'all', ratio(2, 3, 0.8, 'breached', 1)],
      ['quarter', '2026-01-01', 'all', '1', ratio(2, 3, 0.8, 'breached', 1)],
      ['quarter', '2026-04-01', 'all', 'all', ratio(3, 4, 0.8, 'breached', 3)],
      ['quarter', '2026-04-01', 'all', '1', ratio(2, 2, 0.8, 'met', 1)],
      ['quarter', '2026-04-01', 'all', '2', ratio(0, 0, 0.8, 'no_data', 1)],
      ['quarter', '2026-04-01', 'all', '3', ratio(1, 2, 0.8, 'breached', 1)],
      ['quarter', '2026-04-01', 'ranking', 'all', ratio(1, 2, 0.8, 'breached', 1)],
      ['quarter', '2026-04-01', 'search', 'all', ratio(2, 2, 0.8, 'met', 2)],
      ['quarter', '2026-07-01', 'all', 'all', ratio(3, 4, 0.8, 'breached', 3)],
    ]);
    // January's value rests on rel-0 alone: the model `ranker` fell back to it after rel-1's rollback.
    const january = await pipeline.get('/v1/kpis/drift_model_coverage/breakdown?granularity=month&period_start=2026-01-01');
    expect(january.status).toBe(200);
    expect(january.body.entities.map((e: { entity: string; in_numerator: boolean; in_denominator: boolean }) => [e.entity, e.in_numerator, e.in_denominator])).toEqual([['rel-0', true, true]]);
  });

  it('drift coverage of the open periods is judged now: the live models as of now, not at the period end', async () => {
    // Now: ranker rel-8 (tier 3), query-intent rel-7 (tier 1), spell rel-9 (tier 1, replaced rel-4 on 11-02).
    // ctr: rel-future is deployed later today, so not live; its earlier releases were rolled back -> no live release.
    // model: rel-8 no, rel-7 yes, rel-9 yes -> 2/3; tier 1: 2/2 (met); ranking: 0/1; search 2/2.
    // features: rel-8 1/2 + rel-7 2/2 + rel-9 1/2 = 4/6; tier 1: 3/4; ranking 1/2; search 3/4.
    for (const granularity of ['week', 'month', 'quarter'] as const) {
      await check('drift_model_coverage', [
        [granularity, current[granularity], 'all', 'all', ratio(2, 3, null, 'no_target', 3)],
        [granularity, current[granularity], 'all', '1', ratio(2, 2, 1, 'met', 2)],
        [granularity, current[granularity], 'all', '2', ratio(0, 0, null, 'no_data', 0)],
        [granularity, current[granularity], 'ranking', 'all', ratio(0, 1, null, 'no_target', 1)],
        [granularity, current[granularity], 'search', '1', ratio(2, 2, 1, 'met', 2)],
      ]);
      await check('drift_feature_coverage', [
        [granularity, current[granularity], 'all', 'all', ratio(4, 6, 0.8, 'breached', 3)],
        [granularity, current[granularity], 'all', '1', ratio(3, 4, 0.8, 'breached', 2)],
        [granularity, current[granularity], 'ranking', 'all', ratio(1, 2, 0.8, 'breached', 1)],
        [granularity, current[granularity], 'search', 'all', ratio(3, 4, 0.8, 'breached', 2)],
      ]);
    }
    // The closed week of 11-02 already has rel-9 live (deployed 11-02 09:00, before the week's end): same as now.
    await check('drift_model_coverage', [['week', '2026-11-02', 'all', 'all', ratio(2, 3, null, 'no_target', 3)]]);
    await check('drift_feature_coverage', [['week', '2026-11-02', 'search', 'all', ratio(3, 4, 0.8, 'breached', 2)]]);
  });
  it('a late rollback updates the old periods of change_failure_rate and the live models of every later period', async () => {
    // rel-5 (deployed 2026-02-16T08:00Z) rolled back at 2026-02-23T00:00Z, long after everything else arrived:
    // within 7 days -> a change failure. It is also exactly the end of week 02-16: not rolled back *before* that
    // instant, so rel-5 stays live for that week; from then on ranker falls back past rel-1 (rolled back) to rel-0.
    await pipeline.produce([rolledBack('rel-5', 'ranker', 'ranking', '2026-02-23T00:00:00Z')]);
    await eventually(async () => ((await value('change_failure_rate', 'month', '2026-02-01')).value === 0.5 ? true : undefined), 30_000, 'February CFR = 1/2');
    await pipeline.settle();
    await check('change_failure_rate', [
      ['week', '2026-02-16', 'all', 'all', ratio(1, 1, 0.15, 'breached')],
      ['month', '2026-02-01', 'all', 'all', ratio(1, 2, 0.15, 'breached')], // rel-5 of rel-4, rel-5
      ['quarter', '2026-01-01', 'all', 'all', ratio(3, 5, 0.15, 'breached')], // rel-1, rel-3, rel-5
      ['quarter', '2026-01-01', 'ranking', 'all', ratio(2, 3, 0.15, 'breached')], // rel-1, rel-5 of rel-1, rel-2, rel-5
      ['quarter', '2026-01-01', 'all', '1', ratio(3, 3, 0.15, 'breached')],
    ]);
    // End of week 02-16 (02-23 00:00): rel-5 still live -> ranker rel-5 2/3 + spell rel-4 0/0 = 2/3; model 2/2.
    // End of week 02-23, of February, of Q1: ranker rel-0 (1/2; drift on and alerting) + spell rel-4 -> features 1/2, model 2/2.
    // End of May: ranker rel-0, query-intent rel-7, spell rel-4 -> features 1/2 + 2/2 + 0/0 = 3/4; model 3/3.
    // End of Q2 and now: ranker rel-8 (unchanged).
    await check('drift_feature_coverage', [
      ['week', '2026-02-16', 'all', 'all', ratio(2, 3, 0.8, 'breached', 2)],
      ['week', '2026-02-23', 'all', 'all', ratio(1, 2, 0.8, 'breached', 2)],
      ['month', '2026-02-01', 'all', 'all', ratio(1, 2, 0.8, 'breached', 2)],
      ['quarter', '2026-01-01', 'all', 'all', ratio(1, 2, 0.8, 'breached', 2)],
      ['quarter', '2026-01-01', 'all', '1', ratio(1, 2, 0.8, 'breached', 1)],
      ['month', '2026-05-01', 'all', 'all', ratio(3, 4, 0.8, 'breached', 3)],
      ['quarter', '2026-04-01', 'all', 'all', ratio(3, 4, 0.8, 'breached', 3)],
      ['month', current.month, 'all', 'all', ratio(4, 6, 0.8, 'breached', 3)],
    ]);
    await check('drift_model_coverage', [
      ['month', '2026-02-01', 'all', '1', ratio(1, 1, 1, 'met', 1)], // rel-0
      ['month', '2026-05-01', 'all', 'all', ratio(3, 3, null, 'no_target', 3)],
    ]);
    const february = await pipeline.get('/v1/kpis/drift_model_coverage/breakdown?granularity=month&period_start=2026-02-01');
    expect(february.body.entities.map((e: { entity: string }) => e.entity).sort()).toEqual(['rel-0', 'rel-4']);
  });
});
