import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { countEvents, eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import type { KpiValue } from '@kpi/api-contract';
import { kpiReader } from './support/kpi-values.ts';

// Signal events of 2026-Q1/Q2 (closed periods), hand-built; every expected number below is
// worked out by hand from SPEC section 5. Teams: `search` and `ranking`.
// Calendar reminders: 2026-01-05, 01-12, 01-19, 01-26, 02-02, 02-09 are Mondays; 2026-02-01
// and 2026-03-01 are Sundays.

const alert = (n: number, at: string, team: string, actionable: boolean, model?: string) =>
  makeEvent('alert.triaged', { alert_id: `alert-${n}`, team, actionable, ...(model ? { model_id: model } : {}) }, { source: 'pagerduty', id: `alert-${n}-triaged`, time: at });
const arrival = (n: number, at: string, data: { team: string; dataset: string; expected_at: string; sla_minutes?: number }) =>
  makeEvent('dataset.arrived', data, { source: 'airflow', id: `arrival-${n}`, time: at });
const serving = (n: number, at: string, data: { team: string; model_id: string; tier: 1 | 2 | 3; requests: number; latency_p95_ms: number; cost_usd: number }) =>
  makeEvent('serving.window', data, { source: 'prometheus', id: `window-${n}`, time: at });
const run = (n: number, at: string, team: string, model: string, cost: number) =>
  makeEvent('training.run_completed', { run_id: `run-${n}`, model_id: model, team, cost_usd: cost, reproducible: true }, { source: 'mlflow', id: `run-${n}-completed`, time: at });
const validation = (n: number, at: string, team: string, dataset: string, success: boolean) =>
  makeEvent('data.validated', { validation_id: `gx:run-${n}:suite:${dataset}`, dataset, team, suite: `${dataset}_suite`, success, evaluated: 10, failed: success ? 0 : 2 }, { source: 'great_expectations', id: `validation-${n}`, time: at });
const survey = (n: number, at: string, team: string, score: number) => makeEvent('survey.response', { team, score }, { source: 'surveys', id: `response-${n}`, time: at });

// --- alert.triaged (alert_precision, >= 0.70) ---
const a1 = alert(1, '2026-01-06T10:00:00Z', 'search', true, 'ranker');
const alerts = [
  a1,
  a1, // duplicate (same source + id): counts once
  alert(2, '2026-01-07T10:00:00Z', 'search', false, 'ranker'),
  alert(3, '2026-01-08T10:00:00Z', 'ranking', true, 'reco'),
  alert(4, '2026-01-20T10:00:00Z', 'ranking', true, 'reco'),
  alert(5, '2026-02-01T01:30:00+02:00', 'search', true, 'ranker'), // = 2026-01-31T23:30Z: January, week of 01-26
  alert(6, '2026-02-10T09:00:00Z', 'search', false, 'ranker'),
  alert(7, '2026-02-11T09:00:00Z', 'ranking', false),
  alert(8, '2026-03-03T09:00:00Z', 'search', true, 'query-expander'),
  alert(9, '2026-05-05T09:00:00Z', 'search', true, 'ranker'),
];

// --- dataset.arrived (data_freshness_sla, >= 0.99; on time when arrived - expected_at <= sla_minutes, default 120) ---
const d1 = arrival(1, '2026-01-06T07:00:00Z', { team: 'search', dataset: 'clicks_daily', expected_at: '2026-01-06T06:00:00Z' }); // 60 min: on time
const arrivals = [
  d1,
  d1, // duplicate
  arrival(2, '2026-01-07T08:00:00Z', { team: 'search', dataset: 'clicks_daily', expected_at: '2026-01-07T06:00:00Z' }), // exactly 120 min (default SLA): on time
  arrival(3, '2026-01-08T08:00:01Z', { team: 'search', dataset: 'clicks_daily', expected_at: '2026-01-08T06:00:00Z' }), // 120 min 1 s: late
  arrival(4, '2026-01-08T06:30:00Z', { team: 'ranking', dataset: 'impressions', expected_at: '2026-01-08T08:00:00+02:00', sla_minutes: 30 }), // 06:00Z -> 06:30Z = 30 min: on time
  arrival(5, '2026-01-09T08:31:00+02:00', { team: 'ranking', dataset: 'impressions', expected_at: '2026-01-09T06:00:00Z', sla_minutes: 30 }), // 06:31Z: 31 min: late
  arrival(6, '2026-01-21T05:00:00Z', { team: 'ranking', dataset: 'impressions', expected_at: '2026-01-21T06:00:00Z', sla_minutes: 30 }), // early: on time
  arrival(7, '2026-02-03T06:10:00Z', { team: 'search', dataset: 'clicks_daily', expected_at: '2026-02-03T06:00:00Z' }), // 10 min: on time
  arrival(8, '2026-02-04T03:00:00Z', { team: 'ranking', dataset: 'impressions', expected_at: '2026-02-04T00:00:00Z' }), // 180 min > 120: late
  arrival(9, '2026-03-01T01:00:00+02:00', { team: 'search', dataset: 'clicks_daily', expected_at: '2026-02-28T22:30:00Z' }), // = 02-28T23:00Z, 30 min: on time, February
  arrival(10, '2026-05-12T05:00:00Z', { team: 'search', dataset: 'clicks_daily', expected_at: '2026-05-12T05:00:00Z' }), // 0 min: on time
];

// --- serving.window (inference_latency_p95_ms <= 100; inference_cost_per_1k <= previous period) ---
//   window  team     model      tier  end (UTC)              requests  p95   cost
//   w1      search   ranker     1     2026-01-06 01:00       1000      80    2.0
//   w2      search   ranker     1     2026-01-07 01:00       3000      120   3.0
//   w3      ranking  reco       2     2026-01-08 01:00       1000      200   4.0
//   w4      search   ranker     1     2026-01-09 01:00       0         500   0.5
//   w5      ranking  reco       2     2026-02-01 23:00 (+02) 2000      50    1.0   (week of 01-26, February)
//   w6      search   ranker     1     2026-01-20 01:00       0         90    0.2   (alone in the week of 01-19)
//   w7      search   ranker     1     2026-02-10 00:00       1000      60    1.5
//   w8      ranking  reco       2     2026-03-10 12:00       4000      90    2.0
//   w9      search   ranker     1     2026-04-07 00:00       2000      90    3.0
//   w10     ranking  reco       3     2026-04-08 00:00       2000      110   1.6
//   w11     ranking  reco-fast  1     2026-03-11 12:00       1000      40    0.8
const w1 = serving(1, '2026-01-06T01:00:00Z', { team: 'search', model_id: 'ranker', tier: 1, requests: 1000, latency_p95_ms: 80, cost_usd: 2.0 });
const windows = [
  w1,
  w1, // duplicate
  serving(2, '2026-01-07T01:00:00Z', { team: 'search', model_id: 'ranker', tier: 1, requests: 3000, latency_p95_ms: 120, cost_usd: 3.0 }),
  serving(3, '2026-01-08T01:00:00Z', { team: 'ranking', model_id: 'reco', tier: 2, requests: 1000, latency_p95_ms: 200, cost_usd: 4.0 }),
  serving(4, '2026-01-09T01:00:00Z', { team: 'search', model_id: 'ranker', tier: 1, requests: 0, latency_p95_ms: 500, cost_usd: 0.5 }),
  serving(5, '2026-02-02T01:00:00+02:00', { team: 'ranking', model_id: 'reco', tier: 2, requests: 2000, latency_p95_ms: 50, cost_usd: 1.0 }),
  serving(6, '2026-01-20T01:00:00Z', { team: 'search', model_id: 'ranker', tier: 1, requests: 0, latency_p95_ms: 90, cost_usd: 0.2 }),
  serving(7, '2026-02-10T00:00:00Z', { team: 'search', model_id: 'ranker', tier: 1, requests: 1000, latency_p95_ms: 60, cost_usd: 1.5 }),
  serving(8, '2026-03-10T12:00:00Z', { team: 'ranking', model_id: 'reco', tier: 2, requests: 4000, latency_p95_ms: 90, cost_usd: 2.0 }),
  serving(9, '2026-04-07T00:00:00Z', { team: 'search', model_id: 'ranker', tier: 1, requests: 2000, latency_p95_ms: 90, cost_usd: 3.0 }),
  serving(10, '2026-04-08T00:00:00Z', { team: 'ranking', model_id: 'reco', tier: 3, requests: 2000, latency_p95_ms: 110, cost_usd: 1.6 }),
  serving(11, '2026-03-11T12:00:00Z', { team: 'ranking', model_id: 'reco-fast', tier: 1, requests: 1000, latency_p95_ms: 40, cost_usd: 0.8 }),
];

// --- training.run_completed (training_cost_per_run: mean cost, <= previous period) ---
const r1 = run(1, '2026-01-05T10:00:00Z', 'search', 'ranker', 100);
const runs = [
  r1,
  r1, // duplicate
  run(2, '2026-01-15T10:00:00Z', 'search', 'ranker', 300),
  run(3, '2026-01-20T10:00:00Z', 'ranking', 'reco', 50),
  run(4, '2026-02-01T00:30:00+02:00', 'ranking', 'reco', 70), // = 2026-01-31T22:30Z: January, week of 01-26
  run(5, '2026-02-10T10:00:00Z', 'search', 'ranker', 120),
  run(6, '2026-02-12T10:00:00Z', 'ranking', 'reco', 80),
  run(7, '2026-03-05T10:00:00Z', 'search', 'ranker', 400),
  run(8, '2026-04-15T10:00:00Z', 'search', 'ranker', 150),
  run(9, '2026-05-20T10:00:00Z', 'ranking', 'reco', 90),
];

// --- survey.response (stakeholder_satisfaction: mean score, >= 4.2) ---
const s1 = survey(1, '2026-01-10T12:00:00Z', 'search', 5);
const surveys = [
  s1,
  s1, // duplicate
  survey(2, '2026-01-11T12:00:00Z', 'search', 4),
  survey(3, '2026-01-12T12:00:00Z', 'ranking', 3),
  survey(4, '2026-01-12T01:00:00+02:00', 'ranking', 4), // = 2026-01-11T23:00Z: week of 01-05, not 01-12
  survey(5, '2026-02-15T12:00:00Z', 'search', 4.5),
  survey(6, '2026-03-20T12:00:00Z', 'search', 5),
  survey(7, '2026-05-05T12:00:00Z', 'ranking', 2),
];

// --- data.validated (data_validation_pass_rate: share with success, >= 0.95, by validation time) ---
const v1 = validation(1, '2026-01-06T10:00:00Z', 'search', 'clicks_daily', true);
const validations = [
  v1,
  v1, // duplicate
  validation(2, '2026-01-07T10:00:00Z', 'search', 'clicks_daily', false),
  validation(3, '2026-01-08T10:00:00Z', 'ranking', 'impressions', true),
  validation(4, '2026-02-01T00:30:00+02:00', 'ranking', 'impressions', true), // = 2026-01-31T22:30Z: January, week of 01-26
  validation(5, '2026-02-10T10:00:00Z', 'search', 'clicks_daily', false),
  validation(6, '2026-03-03T10:00:00Z', 'ranking', 'impressions', true),
  validation(7, '2026-05-05T10:00:00Z', 'search', 'clicks_daily', true),
];

const events: CloudEvent[] = [...alerts, ...arrivals, ...windows, ...runs, ...surveys, ...validations];

// The catalog, in the order of the SPEC section 5 table.
const SPEC_ORDER = [
  'releases_delivered', 'change_failure_rate', 'readiness_first_pass_rate', 'documentation_completeness', 'reproducibility_rate',
  'experiment_throughput', 'experiment_actionable_rate', 'time_to_experiment_days', 'shipped_lift', 'guardrail_breaches',
  'srm_failure_rate', 'offline_online_alignment', 'sev0_incidents', 'model_incidents', 'data_quality_incidents',
  'time_to_detect_hours', 'time_to_mitigate_hours', 'drift_feature_coverage', 'drift_model_coverage', 'alert_precision',
  'data_freshness_sla', 'offline_win_rate', 'calibration_ece', 'slice_regressions', 'inference_latency_p95_ms',
  'inference_cost_per_1k', 'training_cost_per_run', 'stakeholder_satisfaction', 'fairness_gap', 'segment_parity_rate',
  'inference_latency_p99_ms', 'tech_debt_closed', 'cross_team_reuse', 'mentorship_contributions', 'data_validation_pass_rate',
];


let pipeline: TestPipeline;

const { values, value } = kpiReader(() => pipeline);

const near = (x: number | null) => (x === null ? null : expect.closeTo(x, 9));
/** The expected value of one period: value, numerator, denominator, sample_size, target, status. */
const V = (value: number | null, numerator: number | null, denominator: number | null, sample_size: number, target: number | null, status: string) => ({
  value: near(value),
  numerator: near(numerator),
  denominator: near(denominator),
  sample_size,
  target: near(target),
  status,
});
/** A mean: numerator and denominator are null. */
const M = (value: number | null, sample_size: number, target: number | null, status: string) => V(value, null, null, sample_size, target, status);

// Quarter sample sizes (all teams) once every event is in: Q1 and Q2.
const expectedQuarterSizes: [string, number, number][] = [
  ['alert_precision', 8, 1],
  ['data_freshness_sla', 9, 1],
  ['inference_latency_p95_ms', 9, 2],
  ['inference_cost_per_1k', 9, 2],
  ['training_cost_per_run', 7, 2],
  ['stakeholder_satisfaction', 6, 1],
  ['data_validation_pass_rate', 6, 1],
];

beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.produce(events);
  // Every distinct event is in ClickHouse: 9 alerts + 10 arrivals + 11 windows + 9 runs + 7 answers + 7 validations (duplicates once).
  await eventually(async () => ((await countEvents(pipeline.runtime)) === 53 ? true : undefined), 60_000, '53 distinct events in ClickHouse');
  // Then every KPI counts them in its quarters. When one never does, say so and go on: the tests below show which.
  await eventually(
    async () => {
      const seen: string[] = [];
      for (const [kpi, q1, q2] of expectedQuarterSizes) {
        const [first, second] = await values(kpi, 'quarter', '2026-01-01', '2026-07-01');
        if (first!.sample_size !== q1 || second!.sample_size !== q2) seen.push(`${kpi}: ${first!.sample_size}/${q1}, ${second!.sample_size}/${q2}`);
      }
      // Thrown, so that a timeout says which KPI is short of which events.
      if (seen.length > 0) throw new Error(`quarter sample sizes (seen/expected): ${seen.join('; ')}`);
      return true;
    },
    30_000,
    'all signal events counted in their quarters',
  ).catch((error: unknown) => console.warn(String(error)));
  // Let every recompute job run, failing ones included (they retry with backoff).
  for (let attempt = 0; ; attempt++) {
    try {
      await pipeline.settle();
      break;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
  await sleep(500);
  await pipeline.settle();
});
afterAll(() => pipeline?.stop());

describe('signal KPIs through Kafka -> ingest -> ClickHouse -> worker -> API', () => {
  it('alert_precision: share of triaged alerts that were actionable, by triage time', async () => {
    // January: a1 T, a2 F, a3 T, a4 T, a5 T (01-31T23:30Z; a1's duplicate counts once) -> 4/5 = 0.8 >= 0.7 met.
    // February: a6 F, a7 F -> 0/2 breached. March: a8 T -> 1/1. April: nothing -> null, 0/0, no_data. May: a9 -> 1/1.
    expect(await values('alert_precision', 'month', '2026-01-01', '2026-06-01')).toMatchObject([
      V(0.8, 4, 5, 5, 0.7, 'met'),
      V(0, 0, 2, 2, 0.7, 'breached'),
      V(1, 1, 1, 1, 0.7, 'met'),
      V(null, 0, 0, 0, 0.7, 'no_data'),
      V(1, 1, 1, 1, 0.7, 'met'),
    ]);
    // January per team: search a1 T, a2 F, a5 T -> 2/3 breached; ranking a3 T, a4 T -> 2/2 met.
    expect(await value('alert_precision', 'month', '2026-01-01', 'search')).toMatchObject(V(2 / 3, 2, 3, 3, 0.7, 'breached'));
    expect(await value('alert_precision', 'month', '2026-01-01', 'ranking')).toMatchObject(V(1, 2, 2, 2, 0.7, 'met'));
    // Weeks: 01-05 a1 T, a2 F, a3 T -> 2/3; 01-12 nothing; 01-19 a4 -> 1/1; 01-26 a5 (UTC Saturday 01-31) -> 1/1;
    // 02-02 nothing; 02-09 a6 F, a7 F -> 0/2.
    const weeks = await values('alert_precision', 'week', '2026-01-05', '2026-02-16');
    expect(weeks.map((v) => v.period_start)).toEqual(['2026-01-05', '2026-01-12', '2026-01-19', '2026-01-26', '2026-02-02', '2026-02-09'].map((d) => `${d}T00:00:00Z`));
    expect(weeks).toMatchObject([
      V(2 / 3, 2, 3, 3, 0.7, 'breached'),
      V(null, 0, 0, 0, 0.7, 'no_data'),
      V(1, 1, 1, 1, 0.7, 'met'),
      V(1, 1, 1, 1, 0.7, 'met'),
      V(null, 0, 0, 0, 0.7, 'no_data'),
      V(0, 0, 2, 2, 0.7, 'breached'),
    ]);
    expect(await value('alert_precision', 'week', '2026-02-09', 'ranking')).toMatchObject(V(0, 0, 1, 1, 0.7, 'breached'));
    // Q1: actionable a1, a3, a4, a5, a8 = 5 of 8 -> 0.625 breached; search a1 T, a2 F, a5 T, a6 F, a8 T -> 3/5;
    // ranking a3 T, a4 T, a7 F -> 2/3. Q2: a9 -> 1/1 met; ranking has none -> null.
    expect(await value('alert_precision', 'quarter', '2026-01-01')).toMatchObject(V(0.625, 5, 8, 8, 0.7, 'breached'));
    expect(await value('alert_precision', 'quarter', '2026-01-01', 'search')).toMatchObject(V(0.6, 3, 5, 5, 0.7, 'breached'));
    expect(await value('alert_precision', 'quarter', '2026-01-01', 'ranking')).toMatchObject(V(2 / 3, 2, 3, 3, 0.7, 'breached'));
    expect(await value('alert_precision', 'quarter', '2026-04-01')).toMatchObject(V(1, 1, 1, 1, 0.7, 'met'));
    expect(await value('alert_precision', 'quarter', '2026-04-01', 'ranking')).toMatchObject(V(null, 0, 0, 0, 0.7, 'no_data'));
  });

  it('data_freshness_sla: arrivals within sla_minutes (default 120, "<=") of expected_at, by arrival', async () => {
    // January: d1 60m on, d2 120m on (exactly the default SLA), d3 120m1s late, d4 30m on (SLA 30, expected_at
    // in +02:00), d5 31m late (arrival in +02:00), d6 early on -> 4/6 breached (< 0.99).
    // February: d7 on, d8 180m late, d9 (03-01T01:00+02:00 = 02-28T23:00Z) 30m on -> 2/3. March: nothing -> null.
    // April: nothing. May: d10 on -> 1/1 met.
    expect(await values('data_freshness_sla', 'month', '2026-01-01', '2026-06-01')).toMatchObject([
      V(4 / 6, 4, 6, 6, 0.99, 'breached'),
      V(2 / 3, 2, 3, 3, 0.99, 'breached'),
      V(null, 0, 0, 0, 0.99, 'no_data'),
      V(null, 0, 0, 0, 0.99, 'no_data'),
      V(1, 1, 1, 1, 0.99, 'met'),
    ]);
    // Teams: January search d1, d2 on, d3 late -> 2/3; ranking d4 on, d5 late, d6 on -> 2/3.
    // February search d7, d9 -> 2/2 met; ranking d8 -> 0/1.
    expect(await value('data_freshness_sla', 'month', '2026-01-01', 'search')).toMatchObject(V(2 / 3, 2, 3, 3, 0.99, 'breached'));
    expect(await value('data_freshness_sla', 'month', '2026-01-01', 'ranking')).toMatchObject(V(2 / 3, 2, 3, 3, 0.99, 'breached'));
    expect(await value('data_freshness_sla', 'month', '2026-02-01', 'search')).toMatchObject(V(1, 2, 2, 2, 0.99, 'met'));
    expect(await value('data_freshness_sla', 'month', '2026-02-01', 'ranking')).toMatchObject(V(0, 0, 1, 1, 0.99, 'breached'));
    // Weeks: 01-05 d1..d5 -> 3/5; 01-12 nothing; 01-19 d6 -> 1/1 met; 02-23 d9 -> 1/1 met.
    expect(await values('data_freshness_sla', 'week', '2026-01-05', '2026-01-26')).toMatchObject([
      V(0.6, 3, 5, 5, 0.99, 'breached'),
      V(null, 0, 0, 0, 0.99, 'no_data'),
      V(1, 1, 1, 1, 0.99, 'met'),
    ]);
    expect(await value('data_freshness_sla', 'week', '2026-02-23')).toMatchObject(V(1, 1, 1, 1, 0.99, 'met'));
    expect(await value('data_freshness_sla', 'week', '2026-01-05', 'ranking')).toMatchObject(V(0.5, 1, 2, 2, 0.99, 'breached'));
    // Q1: on time d1, d2, d4, d6, d7, d9 = 6 of 9; search d1, d2, d7, d9 of 5 -> 0.8; ranking d4, d6 of 4 -> 0.5.
    // Q2: d10 -> 1/1; ranking none -> null.
    expect(await value('data_freshness_sla', 'quarter', '2026-01-01')).toMatchObject(V(6 / 9, 6, 9, 9, 0.99, 'breached'));
    expect(await value('data_freshness_sla', 'quarter', '2026-01-01', 'search')).toMatchObject(V(0.8, 4, 5, 5, 0.99, 'breached'));
    expect(await value('data_freshness_sla', 'quarter', '2026-01-01', 'ranking')).toMatchObject(V(0.5, 2, 4, 4, 0.99, 'breached'));
    expect(await value('data_freshness_sla', 'quarter', '2026-04-01')).toMatchObject(V(1, 1, 1, 1, 0.99, 'met'));
    expect(await value('data_freshness_sla', 'quarter', '2026-04-01', 'ranking')).toMatchObject(V(null, 0, 0, 0, 0.99, 'no_data'));
  });

  it('data_validation_pass_rate: share of data validations that succeeded, by validation time', async () => {
    // January: v1 pass (its duplicate counts once), v2 fail, v3 pass, v4 pass (01-31T22:30Z) -> 3/4 = 0.75 breached (< 0.95).
    // February: v5 fail -> 0/1. March: v6 pass -> 1/1 met. April: nothing -> null. May: v7 pass -> 1/1 met.
    expect(await values('data_validation_pass_rate', 'month', '2026-01-01', '2026-06-01')).toMatchObject([
      V(0.75, 3, 4, 4, 0.95, 'breached'),
      V(0, 0, 1, 1, 0.95, 'breached'),
      V(1, 1, 1, 1, 0.95, 'met'),
      V(null, 0, 0, 0, 0.95, 'no_data'),
      V(1, 1, 1, 1, 0.95, 'met'),
    ]);
    // January per team: search v1 pass, v2 fail -> 1/2; ranking v3, v4 pass -> 2/2 met.
    expect(await value('data_validation_pass_rate', 'month', '2026-01-01', 'search')).toMatchObject(V(0.5, 1, 2, 2, 0.95, 'breached'));
    expect(await value('data_validation_pass_rate', 'month', '2026-01-01', 'ranking')).toMatchObject(V(1, 2, 2, 2, 0.95, 'met'));
    // Weeks: 01-05 v1, v2, v3 -> 2/3; 01-12 and 01-19 nothing; 01-26 v4 -> 1/1.
    expect(await values('data_validation_pass_rate', 'week', '2026-01-05', '2026-02-02')).toMatchObject([
      V(2 / 3, 2, 3, 3, 0.95, 'breached'),
      V(null, 0, 0, 0, 0.95, 'no_data'),
      V(null, 0, 0, 0, 0.95, 'no_data'),
      V(1, 1, 1, 1, 0.95, 'met'),
    ]);
    // Q1: v1..v6 pass, fail, pass, pass, fail, pass -> 4/6; search v1, v2, v5 -> 1/3; ranking v3, v4, v6 -> 3/3. Q2: v7 -> 1/1.
    expect(await value('data_validation_pass_rate', 'quarter', '2026-01-01')).toMatchObject(V(4 / 6, 4, 6, 6, 0.95, 'breached'));
    expect(await value('data_validation_pass_rate', 'quarter', '2026-01-01', 'search')).toMatchObject(V(1 / 3, 1, 3, 3, 0.95, 'breached'));
    expect(await value('data_validation_pass_rate', 'quarter', '2026-01-01', 'ranking')).toMatchObject(V(1, 3, 3, 3, 0.95, 'met'));
    expect(await value('data_validation_pass_rate', 'quarter', '2026-04-01')).toMatchObject(V(1, 1, 1, 1, 0.95, 'met'));
    expect(await value('data_validation_pass_rate', 'quarter', '2026-04-01', 'ranking')).toMatchObject(V(null, 0, 0, 0, 0.95, 'no_data'));
    // 2026: 5 of 7; the breakdown lists the validations behind January with what failed.
    expect(await value('data_validation_pass_rate', 'year', '2026-01-01')).toMatchObject(V(5 / 7, 5, 7, 7, 0.95, 'breached'));
    const breakdown = await pipeline.client.read.get('/v1/kpis/:id/breakdown', { params: { id: 'data_validation_pass_rate' }, query: { granularity: 'month', period_start: '2026-01-01', team: 'search' } });
    expect(breakdown.entities.map((row) => [row.in_numerator, row.note])).toEqual(
      expect.arrayContaining([
        [true, 'clicks_daily / clicks_daily_suite: 0 of 10 checks failed'],
        [false, 'clicks_daily / clicks_daily_suite: 2 of 10 checks failed'],
      ]),
    );
  });

  it('inference_latency_p95_ms: request-weighted mean of latency_p95_ms by window end, tier 1 and all tiers', async () => {
    // numerator = sum(p95 x requests), denominator = sum(requests), sample_size = windows.
    // January (w1 w2 w3 w4 w6): 80*1000 + 120*3000 + 200*1000 + 500*0 + 90*0 = 640000 / 5000 = 128 > 100 breached.
    // February (w5 w7): 50*2000 + 60*1000 = 160000 / 3000 = 53.33 met. March (w8 w11): 90*4000 + 40*1000 = 400000 / 5000 = 80.
    // April (w9 w10): 90*2000 + 110*2000 = 400000 / 4000 = 100 (met: <= 100).
    expect(await values('inference_latency_p95_ms', 'month', '2026-01-01', '2026-05-01')).toMatchObject([
      V(128, 640_000, 5000, 5, 100, 'breached'),
      V(160_000 / 3000, 160_000, 3000, 2, 100, 'met'),
      V(80, 400_000, 5000, 2, 100, 'met'),
      V(100, 400_000, 4000, 2, 100, 'met'),
    ]);
    // Tier 1, January (w1 w2 w4 w6): 80000 + 360000 = 440000 / 4000 = 110 breached; February w7: 60; March w11: 40.
    expect(await values('inference_latency_p95_ms', 'month', '2026-01-01', '2026-04-01', 'all', '1')).toMatchObject([
      V(110, 440_000, 4000, 4, 100, 'breached'),
      V(60, 60_000, 1000, 1, 100, 'met'),
      V(40, 40_000, 1000, 1, 100, 'met'),
    ]);
    // Teams, January: search (w1 w2 w4 w6) 110; ranking (w3) 200. March search: nothing -> null.
    expect(await value('inference_latency_p95_ms', 'month', '2026-01-01', 'search')).toMatchObject(V(110, 440_000, 4000, 4, 100, 'breached'));
    expect(await value('inference_latency_p95_ms', 'month', '2026-01-01', 'ranking')).toMatchObject(V(200, 200_000, 1000, 1, 100, 'breached'));
    // Weeks: 01-05 (w1 w2 w3 w4) 640000 / 5000 = 128; 01-19 only w6 with 0 requests -> 0 / 0: null, no_data, 1 window;
    // 01-26 w5 (02-01T23:00Z) 50 met; 02-09 w7 60.
    const weeks = await values('inference_latency_p95_ms', 'week', '2026-01-05', '2026-02-16');
    expect(weeks.map((v) => v.period_start)).toEqual(['2026-01-05', '2026-01-12', '2026-01-19', '2026-01-26', '2026-02-02', '2026-02-09'].map((d) => `${d}T00:00:00Z`));
    expect(weeks[0]).toMatchObject(V(128, 640_000, 5000, 4, 100, 'breached'));
    expect(weeks[2]).toMatchObject(V(null, 0, 0, 1, 100, 'no_data'));
    expect(weeks[3]).toMatchObject(V(50, 100_000, 2000, 1, 100, 'met'));
    expect(weeks[5]).toMatchObject(V(60, 60_000, 1000, 1, 100, 'met'));
    for (const empty of [weeks[1], weeks[4]]) expect(empty).toMatchObject({ value: null, sample_size: 0, status: 'no_data' });
    // Week 01-05, tier 1 (w1 w2 w4): 440000 / 4000 = 110; tier 2 (w3): 200.
    expect(await value('inference_latency_p95_ms', 'week', '2026-01-05', 'all', '1')).toMatchObject(V(110, 440_000, 4000, 3, 100, 'breached'));
    expect(await value('inference_latency_p95_ms', 'week', '2026-01-05', 'all', '2')).toMatchObject(V(200, 200_000, 1000, 1, 100, 'breached'));
    // Q1 (w1..w8, w11): 640000 + 160000 + 400000 = 1200000 / (5000 + 3000 + 5000) = 13000 -> 92.31 met, 9 windows.
    // Tier 1 (w1 w2 w4 w6 w7 w11): 440000 + 60000 + 40000 = 540000 / 6000 = 90. Tier 2 (w3 w5 w8): 660000 / 7000.
    // search (w1 w2 w4 w6 w7): 500000 / 5000 = 100 (met, <=); ranking (w3 w5 w8 w11): 700000 / 8000 = 87.5;
    // ranking tier 1 (w11): 40.
    expect(await value('inference_latency_p95_ms', 'quarter', '2026-01-01')).toMatchObject(V(1_200_000 / 13_000, 1_200_000, 13_000, 9, 100, 'met'));
    expect(await value('inference_latency_p95_ms', 'quarter', '2026-01-01', 'all', '1')).toMatchObject(V(90, 540_000, 6000, 6, 100, 'met'));
    expect(await value('inference_latency_p95_ms', 'quarter', '2026-01-01', 'all', '2')).toMatchObject(V(660_000 / 7000, 660_000, 7000, 3, 100, 'met'));
    expect(await value('inference_latency_p95_ms', 'quarter', '2026-01-01', 'search')).toMatchObject(V(100, 500_000, 5000, 5, 100, 'met'));
    expect(await value('inference_latency_p95_ms', 'quarter', '2026-01-01', 'ranking')).toMatchObject(V(87.5, 700_000, 8000, 4, 100, 'met'));
    expect(await value('inference_latency_p95_ms', 'quarter', '2026-01-01', 'ranking', '1')).toMatchObject(V(40, 40_000, 1000, 1, 100, 'met'));
    // Q2: all (w9 w10) 100 met; tier 1 (w9) 90; tier 3 (w10) 110 breached.
    expect(await value('inference_latency_p95_ms', 'quarter', '2026-04-01')).toMatchObject(V(100, 400_000, 4000, 2, 100, 'met'));
    expect(await value('inference_latency_p95_ms', 'quarter', '2026-04-01', 'all', '1')).toMatchObject(V(90, 180_000, 2000, 1, 100, 'met'));
    expect(await value('inference_latency_p95_ms', 'quarter', '2026-04-01', 'all', '3')).toMatchObject(V(110, 220_000, 2000, 1, 100, 'breached'));
  });

  it('inference_cost_per_1k: 1000 x sum(cost) / sum(requests), judged against the previous period', async () => {
    // numerator = 1000 x sum(cost_usd), denominator = sum(requests).
    // December 2025: nothing -> null. January (w1 w2 w3 w4 w6): 1000 x (2 + 3 + 4 + 0.5 + 0.2) = 9700 / 5000 = 1.94,
    // no_target (previous null). February (w5 w7): 2500 / 3000 = 0.8333 <= 1.94 met. March (w8 w11): 2800 / 5000 = 0.56
    // <= 0.8333 met. April (w9 w10): 4600 / 4000 = 1.15 > 0.56 breached.
    expect(await values('inference_cost_per_1k', 'month', '2026-01-01', '2026-05-01')).toMatchObject([
      V(1.94, 9700, 5000, 5, null, 'no_target'),
      V(2500 / 3000, 2500, 3000, 2, 1.94, 'met'),
      V(0.56, 2800, 5000, 2, 2500 / 3000, 'met'),
      V(1.15, 4600, 4000, 2, 0.56, 'breached'),
    ]);
    // Tier 1: January (w1 w2 w4 w6) 5700 / 4000 = 1.425 no_target; February (w7) 1500 / 1000 = 1.5 > 1.425 breached;
    // March (w11) 800 / 1000 = 0.8 <= 1.5 met.
    expect(await values('inference_cost_per_1k', 'month', '2026-01-01', '2026-04-01', 'all', '1')).toMatchObject([
      V(1.425, 5700, 4000, 4, null, 'no_target'),
      V(1.5, 1500, 1000, 1, 1.425, 'breached'),
      V(0.8, 800, 1000, 1, 1.5, 'met'),
    ]);
    // Teams: February ranking (w5) 1000 / 2000 = 0.5 <= January ranking (w3) 4000 / 1000 = 4 met;
    // March search: nothing -> null, no_data (target February search (w7) 1.5).
    expect(await value('inference_cost_per_1k', 'month', '2026-02-01', 'ranking')).toMatchObject(V(0.5, 1000, 2000, 1, 4, 'met'));
    expect(await value('inference_cost_per_1k', 'month', '2026-03-01', 'search')).toMatchObject({ value: null, sample_size: 0, target: 1.5, status: 'no_data' });
    // Weeks: 01-05 (w1 w2 w3 w4) 9500 / 5000 = 1.9, no_target; 01-12 nothing (null, target 1.9);
    // 01-19 only w6: 200 / 0 -> null, no_data; 01-26 (w5) 0.5, no_target because the previous week is null.
    const weeks = await values('inference_cost_per_1k', 'week', '2026-01-05', '2026-02-02');
    expect(weeks[0]).toMatchObject(V(1.9, 9500, 5000, 4, null, 'no_target'));
    expect(weeks[1]).toMatchObject({ value: null, sample_size: 0, target: 1.9, status: 'no_data' });
    expect(weeks[2]).toMatchObject(V(null, 200, 0, 1, null, 'no_data'));
    expect(weeks[3]).toMatchObject(V(0.5, 1000, 2000, 1, null, 'no_target'));
    // Q1 (9 windows): 1000 x (9.7 + 2.5 + 2.8) = 15000 / 13000 = 1.1538, no_target (2025-Q4 null).
    // Q2 (w9 w10): 4600 / 4000 = 1.15 <= 1.1538 met.
    expect(await value('inference_cost_per_1k', 'quarter', '2026-01-01')).toMatchObject(V(15_000 / 13_000, 15_000, 13_000, 9, null, 'no_target'));
    expect(await value('inference_cost_per_1k', 'quarter', '2026-04-01')).toMatchObject(V(1.15, 4600, 4000, 2, 15_000 / 13_000, 'met'));
    // Tier 1: Q1 (w1 w2 w4 w6 w7 w11) 8000 / 6000 = 1.3333; Q2 (w9) 3000 / 2000 = 1.5 > 1.3333 breached.
    // Tier 3: Q2 (w10) 1600 / 2000 = 0.8, previous quarter has no tier-3 window -> no_target.
    expect(await value('inference_cost_per_1k', 'quarter', '2026-01-01', 'all', '1')).toMatchObject(V(8000 / 6000, 8000, 6000, 6, null, 'no_target'));
    expect(await value('inference_cost_per_1k', 'quarter', '2026-04-01', 'all', '1')).toMatchObject(V(1.5, 3000, 2000, 1, 8000 / 6000, 'breached'));
    expect(await value('inference_cost_per_1k', 'quarter', '2026-04-01', 'all', '3')).toMatchObject(V(0.8, 1600, 2000, 1, null, 'no_target'));
    // Teams: search Q1 (w1 w2 w4 w6 w7) 7200 / 5000 = 1.44, Q2 (w9) 1.5 breached;
    // ranking Q1 (w3 w5 w8 w11) 7800 / 8000 = 0.975, Q2 (w10) 0.8 met.
    expect(await value('inference_cost_per_1k', 'quarter', '2026-01-01', 'search')).toMatchObject(V(1.44, 7200, 5000, 5, null, 'no_target'));
    expect(await value('inference_cost_per_1k', 'quarter', '2026-04-01', 'search')).toMatchObject(V(1.5, 3000, 2000, 1, 1.44, 'breached'));
    expect(await value('inference_cost_per_1k', 'quarter', '2026-01-01', 'ranking')).toMatchObject(V(0.975, 7800, 8000, 4, null, 'no_target'));
    expect(await value('inference_cost_per_1k', 'quarter', '2026-04-01', 'ranking')).toMatchObject(V(0.8, 1600, 2000, 1, 0.975, 'met'));
    expect(await value('inference_cost_per_1k', 'quarter', '2026-04-01', 'ranking', '3')).toMatchObject(V(0.8, 1600, 2000, 1, null, 'no_target'));
  });

  it('training_cost_per_run: mean cost_usd by finish time, judged against the previous period', async () => {
    // January: r1 100 (its duplicate once), r2 300, r3 50, r4 70 (01-31T22:30Z) -> 520 / 4 = 130, no_target (December null).
    // February: r5 120, r6 80 -> 100 <= 130 met. March: r7 400 > 100 breached. April: r8 150 <= 400 met.
    // May: r9 90 <= 150 met. June: nothing -> null, no_data (target 90).
    expect(await values('training_cost_per_run', 'month', '2026-01-01', '2026-07-01')).toMatchObject([
      M(130, 4, null, 'no_target'),
      M(100, 2, 130, 'met'),
      M(400, 1, 100, 'breached'),
      M(150, 1, 400, 'met'),
      M(90, 1, 150, 'met'),
      M(null, 0, 90, 'no_data'),
    ]);
    // search: January (r1 r2) 200, February (r5) 120 met, March (r7) 400 breached.
    // ranking: January (r3 r4) 60, February (r6) 80 > 60 breached, March nothing -> null (target 80).
    expect(await values('training_cost_per_run', 'month', '2026-01-01', '2026-04-01', 'search')).toMatchObject([
      M(200, 2, null, 'no_target'),
      M(120, 1, 200, 'met'),
      M(400, 1, 120, 'breached'),
    ]);
    expect(await values('training_cost_per_run', 'month', '2026-01-01', '2026-04-01', 'ranking')).toMatchObject([
      M(60, 2, null, 'no_target'),
      M(80, 1, 60, 'breached'),
      M(null, 0, 80, 'no_data'),
    ]);
    // Weeks: 01-05 r1 100 (previous week null: no_target); 01-12 r2 300 > 100 breached; 01-19 r3 50 met;
    // 01-26 r4 70 > 50 breached; 02-02 nothing (null, target 70); 02-09 r5 r6 100, no_target (previous week null).
    expect(await values('training_cost_per_run', 'week', '2026-01-05', '2026-02-16')).toMatchObject([
      M(100, 1, null, 'no_target'),
      M(300, 1, 100, 'breached'),
      M(50, 1, 300, 'met'),
      M(70, 1, 50, 'breached'),
      M(null, 0, 70, 'no_data'),
      M(100, 2, null, 'no_target'),
    ]);
    // Quarters: Q1 (100 + 300 + 50 + 70 + 120 + 80 + 400) / 7 = 160, no_target (2025-Q4 null);
    // Q2 (150 + 90) / 2 = 120 <= 160 met; Q3 nothing -> null (target 120).
    expect(await values('training_cost_per_run', 'quarter', '2026-01-01', '2026-10-01')).toMatchObject([
      M(160, 7, null, 'no_target'),
      M(120, 2, 160, 'met'),
      M(null, 0, 120, 'no_data'),
    ]);
    // search Q1 (100 + 300 + 120 + 400) / 4 = 230, Q2 150 met; ranking Q1 (50 + 70 + 80) / 3 = 66.67, Q2 90 breached.
    expect(await values('training_cost_per_run', 'quarter', '2026-01-01', '2026-07-01', 'search')).toMatchObject([M(230, 4, null, 'no_target'), M(150, 1, 230, 'met')]);
    expect(await values('training_cost_per_run', 'quarter', '2026-01-01', '2026-07-01', 'ranking')).toMatchObject([M(200 / 3, 3, null, 'no_target'), M(90, 1, 200 / 3, 'breached')]);
  });

  it('stakeholder_satisfaction: mean survey score by answer time, >= 4.2', async () => {
    // January: s1 5 (its duplicate once), s2 4, s3 3, s4 4 -> 16 / 4 = 4.0 breached. February: s5 4.5 met.
    // March: s6 5 met. April: nothing -> null, no_data. May: s7 2 breached.
    expect(await values('stakeholder_satisfaction', 'month', '2026-01-01', '2026-06-01')).toMatchObject([
      M(4, 4, 4.2, 'breached'),
      M(4.5, 1, 4.2, 'met'),
      M(5, 1, 4.2, 'met'),
      M(null, 0, 4.2, 'no_data'),
      M(2, 1, 4.2, 'breached'),
    ]);
    // January per team: search (5 + 4) / 2 = 4.5 met; ranking (3 + 4) / 2 = 3.5 breached.
    expect(await value('stakeholder_satisfaction', 'month', '2026-01-01', 'search')).toMatchObject(M(4.5, 2, 4.2, 'met'));
    expect(await value('stakeholder_satisfaction', 'month', '2026-01-01', 'ranking')).toMatchObject(M(3.5, 2, 4.2, 'breached'));
    // Weeks: s4 (01-12T01:00+02:00 = 01-11T23:00Z) is in the week of 01-05: (5 + 4 + 4) / 3 = 4.333 met; 01-12: s3 3.
    expect(await values('stakeholder_satisfaction', 'week', '2026-01-05', '2026-01-19')).toMatchObject([M(13 / 3, 3, 4.2, 'met'), M(3, 1, 4.2, 'breached')]);
    expect(await value('stakeholder_satisfaction', 'week', '2026-01-05', 'ranking')).toMatchObject(M(4, 1, 4.2, 'breached'));
    // Q1: (5 + 4 + 3 + 4 + 4.5 + 5) / 6 = 25.5 / 6 = 4.25 met; search (5 + 4 + 4.5 + 5) / 4 = 4.625; ranking 3.5.
    // Q2: s7 2 breached; search nothing -> null.
    expect(await value('stakeholder_satisfaction', 'quarter', '2026-01-01')).toMatchObject(M(4.25, 6, 4.2, 'met'));
    expect(await value('stakeholder_satisfaction', 'quarter', '2026-01-01', 'search')).toMatchObject(M(4.625, 4, 4.2, 'met'));
    expect(await value('stakeholder_satisfaction', 'quarter', '2026-01-01', 'ranking')).toMatchObject(M(3.5, 2, 4.2, 'breached'));
    expect(await value('stakeholder_satisfaction', 'quarter', '2026-04-01')).toMatchObject(M(2, 1, 4.2, 'breached'));
    expect(await value('stakeholder_satisfaction', 'quarter', '2026-04-01', 'search')).toMatchObject(M(null, 0, 4.2, 'no_data'));
  });

  it('a period with nothing in it: ratios and means null with no_data, counts and sums 0', async () => {
    // Soft expectations: each KPI is reported on its own.
    // 2026-Q3 holds no signal event at all.
    expect.soft(await value('alert_precision', 'quarter', '2026-07-01')).toMatchObject(V(null, 0, 0, 0, 0.7, 'no_data'));
    expect.soft(await value('data_freshness_sla', 'quarter', '2026-07-01')).toMatchObject(V(null, 0, 0, 0, 0.99, 'no_data'));
    expect.soft(await value('data_validation_pass_rate', 'quarter', '2026-07-01')).toMatchObject(V(null, 0, 0, 0, 0.95, 'no_data'));
    expect.soft(await value('training_cost_per_run', 'quarter', '2026-07-01')).toMatchObject(M(null, 0, 120, 'no_data'));
    expect.soft(await value('stakeholder_satisfaction', 'quarter', '2026-07-01')).toMatchObject(M(null, 0, 4.2, 'no_data'));
    // The serving KPIs are ratios of two sums (sum(p95 x requests) / sum(requests), 1000 x sum(cost) / sum(requests)):
    // the sums are 0 in an empty period (SPEC 5: "Counts and sums are 0 for a period with nothing in it"), as they
    // are for the share KPIs above; the ratio is null.
    expect.soft(await value('inference_latency_p95_ms', 'quarter', '2026-07-01')).toMatchObject(V(null, 0, 0, 0, 100, 'no_data'));
    // Q2 -> Q3: previous 1.15, value null.
    expect.soft(await value('inference_cost_per_1k', 'quarter', '2026-07-01')).toMatchObject(V(null, 0, 0, 0, 1.15, 'no_data'));
    // Tier 3 in 2026-Q1: no window.
    expect.soft(await value('inference_latency_p95_ms', 'quarter', '2026-01-01', 'all', '3')).toMatchObject(V(null, 0, 0, 0, 100, 'no_data'));
    expect.soft(await value('inference_cost_per_1k', 'quarter', '2026-01-01', 'all', '3')).toMatchObject(V(null, 0, 0, 0, null, 'no_data'));
  });

  it('the tierless signal KPIs answer only tier=all: a tier is a 400 naming tier', async () => {
    for (const kpi of ['alert_precision', 'data_freshness_sla', 'data_validation_pass_rate', 'training_cost_per_run', 'stakeholder_satisfaction']) {
      for (const tier of ['1', '2', '3']) {
        const response = await pipeline.get(`/v1/kpis/${kpi}/values?granularity=month&from=2026-01-01&to=2026-02-01&tier=${tier}`);
        expect(response.status, `${kpi} tier ${tier}`).toBe(400);
        expect(response.bodyAt(400).message).toMatch(/\btier\b/);
      }
      expect((await pipeline.get(`/v1/kpis/${kpi}/values?granularity=month&from=2026-01-01&to=2026-02-01&tier=all`)).status).toBe(200);
    }
    // The serving KPIs take a tier.
    for (const kpi of ['inference_latency_p95_ms', 'inference_cost_per_1k']) {
      expect((await pipeline.get(`/v1/kpis/${kpi}/values?granularity=month&from=2026-01-01&to=2026-02-01&tier=1`)).status).toBe(200);
    }
  });
});

describe('API contract (SPEC section 6)', () => {
  it('GET /v1/kpis lists every KPI of the catalog in SPEC order with name, description, unit, direction, targets', async () => {
    const kpis = await pipeline.client.read.get('/v1/kpis');
    expect(kpis.map((kpi) => kpi.id)).toEqual(SPEC_ORDER);
    for (const kpi of kpis) {
      expect(typeof kpi.name, kpi.id).toBe('string');
      expect(kpi.name.length, kpi.id).toBeGreaterThan(0);
      expect(typeof kpi.description, kpi.id).toBe('string');
      expect(kpi.description.length, kpi.id).toBeGreaterThan(0);
      expect(typeof kpi.unit, kpi.id).toBe('string');
      expect(['higher_is_better', 'lower_is_better'], kpi.id).toContain(kpi.direction);
      expect(Array.isArray(kpi.targets), kpi.id).toBe(true);
      // p99 latency has no default target: each team sets its own (SPEC §5).
      if (kpi.id !== 'inference_latency_p99_ms') expect(kpi.targets.length, kpi.id).toBeGreaterThan(0);
    }
    // The signal KPIs' directions and default targets, per SPEC section 5.
    const byId = new Map(kpis.map((kpi) => [kpi.id, kpi]));
    expect(byId.get('alert_precision')).toMatchObject({ unit: 'ratio', direction: 'higher_is_better', targets: [{ kind: 'threshold', op: '>=', value: 0.7 }] });
    expect(byId.get('data_freshness_sla')).toMatchObject({ unit: 'ratio', direction: 'higher_is_better', targets: [{ kind: 'threshold', op: '>=', value: 0.99 }] });
    expect(byId.get('inference_latency_p95_ms')).toMatchObject({ unit: 'ms', direction: 'lower_is_better', targets: [{ kind: 'threshold', op: '<=', value: 100 }] });
    expect(byId.get('inference_cost_per_1k')).toMatchObject({ direction: 'lower_is_better', targets: [{ kind: 'previous_period', op: '<=' }] });
    expect(byId.get('training_cost_per_run')).toMatchObject({ direction: 'lower_is_better', targets: [{ kind: 'previous_period', op: '<=' }] });
    expect(byId.get('stakeholder_satisfaction')).toMatchObject({ direction: 'higher_is_better', targets: [{ kind: 'threshold', op: '>=', value: 4.2 }] });
    expect(byId.get('data_validation_pass_rate')).toMatchObject({ unit: 'ratio', direction: 'higher_is_better', group: 'Monitoring and data', targets: [{ kind: 'threshold', op: '>=', value: 0.95 }] });
  });

  it('GET /v1/scorecard returns every KPI with value, target, status, previous_value, equal to the quarterly values', async () => {
    for (const [quarter, from, to] of [['2026-Q1', '2026-01-01', '2026-04-01'], ['2026-Q2', '2026-04-01', '2026-07-01']] as const) {
      for (const team of ['search', 'all']) {
        const response = await pipeline.get(`/v1/scorecard?quarter=${quarter}&team=${team}`);
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        expect(response.body).toMatchObject({ quarter, team });
        const kpis = response.body.kpis as Record<string, unknown>[];
        expect(kpis.map((kpi) => kpi.id)).toEqual(SPEC_ORDER);
        for (const kpi of kpis) {
          for (const field of ['name', 'unit', 'direction', 'value', 'target', 'status', 'previous_value']) expect(kpi, `${kpi.id}.${field}`).toHaveProperty(field);
          const [expected] = await values(String(kpi.id), 'quarter', from, to, team);
          expect(
            { value: kpi.value, numerator: kpi.numerator, denominator: kpi.denominator, target: kpi.target, status: kpi.status, previous_value: kpi.previous_value },
            `${quarter} ${team} ${kpi.id}`,
          ).toEqual({ value: expected!.value, numerator: expected!.numerator, denominator: expected!.denominator, target: expected!.target, status: expected!.status, previous_value: expected!.previous_value });
        }
      }
    }
    // The signal KPIs of search's scorecards, by hand (see the tests above).
    const q1 = Object.fromEntries(((await pipeline.get('/v1/scorecard?quarter=2026-Q1&team=search')).body.kpis as { id: string }[]).map((kpi) => [kpi.id, kpi]));
    expect.soft(q1.alert_precision).toMatchObject({ value: near(0.6), target: 0.7, status: 'breached', previous_value: null });
    expect.soft(q1.data_freshness_sla).toMatchObject({ value: near(0.8), target: 0.99, status: 'breached', previous_value: null });
    expect.soft(q1.inference_latency_p95_ms).toMatchObject({ value: near(100), target: 100, status: 'met', previous_value: null });
    expect.soft(q1.inference_cost_per_1k).toMatchObject({ value: near(1.44), target: null, status: 'no_target', previous_value: null });
    expect.soft(q1.training_cost_per_run).toMatchObject({ value: near(230), target: null, status: 'no_target', previous_value: null });
    expect.soft(q1.stakeholder_satisfaction).toMatchObject({ value: near(4.625), target: 4.2, status: 'met', previous_value: null });
    expect.soft(q1.data_validation_pass_rate).toMatchObject({ value: near(1 / 3), target: 0.95, status: 'breached', previous_value: null });
    const q2 = Object.fromEntries(((await pipeline.get('/v1/scorecard?quarter=2026-Q2&team=search')).body.kpis as { id: string }[]).map((kpi) => [kpi.id, kpi]));
    expect.soft(q2.alert_precision).toMatchObject({ value: near(1), status: 'met', previous_value: near(0.6) });
    expect.soft(q2.inference_cost_per_1k).toMatchObject({ value: near(1.5), target: near(1.44), status: 'breached', previous_value: near(1.44) });
    expect.soft(q2.training_cost_per_run).toMatchObject({ value: near(150), target: near(230), status: 'met', previous_value: near(230) });
    expect.soft(q2.stakeholder_satisfaction).toMatchObject({ value: null, status: 'no_data', previous_value: near(4.625) });
  });

  it('bad input is a 400 naming the parameter, an unknown KPI a 404', async () => {
    const bad = async (path: string, parameter: string) => {
      const response = await pipeline.get(path);
      expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBe(400);
      expect(response.bodyAt(400).message, path).toMatch(new RegExp(`\\b${parameter}\\b`));
    };
    await bad('/v1/scorecard?quarter=2026-Q5', 'quarter');
    await bad('/v1/scorecard?quarter=2026Q1', 'quarter');
    await bad('/v1/scorecard?quarter=2026-Q1&team=Not%20A%20Team', 'team');
    await bad('/v1/kpis/alert_precision/values?granularity=decade', 'granularity');
    await bad('/v1/kpis/alert_precision/values?granularity=month&team=Search!', 'team');
    await bad('/v1/kpis/alert_precision/values?granularity=month&team=-search', 'team');
    await bad('/v1/kpis/inference_latency_p95_ms/values?granularity=month&tier=4', 'tier');
    await bad('/v1/kpis/alert_precision/values?granularity=month&from=2026-03-01&to=2026-03-01', 'from');
    await bad('/v1/kpis/alert_precision/values?granularity=month&from=2026-04-01&to=2026-01-01', 'from');
    await bad('/v1/kpis/alert_precision/values?granularity=month&from=yesterday&to=2026-03-01', 'from');
    await bad('/v1/kpis/alert_precision/values?granularity=month&from=2026-01-01&to=2026-13-01', 'to');
    const unknown = await pipeline.get('/v1/kpis/no_such_kpi/values?granularity=month');
    expect(unknown.status).toBe(404);
    expect(unknown.bodyAt(404).message).toMatch(/no_such_kpi/);
  });

  it('a missing or unknown token is a 401', async () => {
    for (const path of ['/v1/kpis', '/v1/kpis/alert_precision/values?granularity=month', '/v1/scorecard?quarter=2026-Q1', '/v1/teams']) {
      expect((await pipeline.get(path, '')).status, path).toBe(401);
      expect((await pipeline.get(path, 'not-a-token')).status, path).toBe(401);
    }
  });

  it('GET /v1/teams lists the teams seen with their models', async () => {
    // search: ranker (alerts, windows, runs), query-expander (alert a8); ranking: reco, reco-fast (w11).
    // Datasets and surveys name no model. The list is served as read a few seconds ago at most.
    const expected = [
      { team: 'ranking', models: ['reco', 'reco-fast'] },
      { team: 'search', models: ['query-expander', 'ranker'] },
    ];
    const teams = async () => {
      const response = await pipeline.get('/v1/teams');
      expect(response.status).toBe(200);
      return (response.body.teams as { team: string; models: string[] }[]).map(({ team, models }) => ({ team, models: [...models].sort() }));
    };
    await eventually(async () => (JSON.stringify(await teams()) === JSON.stringify(expected) ? true : undefined), 15_000, 'the teams and their models');
    expect(await teams()).toEqual(expected);
  });

  it('GET /v1/kpis/:id/values without from/to returns the last 12 periods up to the current one, empty ones included', async () => {
    const now = new Date();
    const utc = (y: number, m: number, d = 1) => new Date(Date.UTC(y, m, d));
    const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');
    // Months: the current one and the 11 before it.
    const months = Array.from({ length: 12 }, (_, i) => utc(now.getUTCFullYear(), now.getUTCMonth() - 11 + i));
    const monthly = (await pipeline.get('/v1/kpis/stakeholder_satisfaction/values')).body;
    expect(monthly).toMatchObject({ kpi: 'stakeholder_satisfaction', granularity: 'month', team: 'all', tier: 'all' });
    expect(monthly.values.map((v: KpiValue) => [v.period_start, v.period_end])).toEqual(months.map((start) => [iso(start), iso(utc(start.getUTCFullYear(), start.getUTCMonth() + 1))]));
    // January 4, February 4.5, March 5, May 2 (see above); every other month is empty: null, no_data.
    const byMonth: Record<string, number> = { '2026-01-01T00:00:00Z': 4, '2026-02-01T00:00:00Z': 4.5, '2026-03-01T00:00:00Z': 5, '2026-05-01T00:00:00Z': 2 };
    expect(monthly.values.map((v: KpiValue) => [v.value, v.sample_size === 0])).toEqual(months.map((start) => [byMonth[iso(start)] ?? null, byMonth[iso(start)] === undefined]));
    // Weeks: the 12 ISO weeks ending with the current one (Monday 00:00 UTC).
    const monday = utc(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - ((now.getUTCDay() + 6) % 7));
    const weekly = (await pipeline.get('/v1/kpis/alert_precision/values?granularity=week')).body;
    expect(weekly.values.map((v: KpiValue) => v.period_start)).toEqual(Array.from({ length: 12 }, (_, i) => iso(new Date(monday.getTime() - (11 - i) * 7 * 86_400_000))));
    // Quarters: the current one and the 11 before it; data freshness 2026-Q1 (6/9) and Q2 (1/1) among them when in range.
    const quarterStart = utc(now.getUTCFullYear(), now.getUTCMonth() - (now.getUTCMonth() % 3));
    const quarters = Array.from({ length: 12 }, (_, i) => utc(quarterStart.getUTCFullYear(), quarterStart.getUTCMonth() - 3 * (11 - i)));
    const quarterly = (await pipeline.get('/v1/kpis/data_freshness_sla/values?granularity=quarter')).body;
    expect(quarterly.values.map((v: KpiValue) => v.period_start)).toEqual(quarters.map(iso));
    const byQuarter: Record<string, number> = { '2026-01-01T00:00:00Z': 6 / 9, '2026-04-01T00:00:00Z': 1 };
    expect(quarterly.values.map((v: KpiValue) => v.value)).toEqual(quarters.map((start) => (byQuarter[iso(start)] === undefined ? null : near(byQuarter[iso(start)]!))));
  });

  it('/openapi.json is served and documents /v1/kpis/{id}/values', async () => {
    const response = await pipeline.get('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\./);
    expect(response.body.paths['/v1/kpis/{id}/values']).toHaveProperty('get');
    for (const path of ['/v1/kpis', '/v1/scorecard', '/v1/teams']) expect(response.body.paths, path).toHaveProperty([path]);
  });
});
