import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { countEvents, eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import type { Granularity, KpiValue } from '@kpi/api-contract';
import { count, kpiReader, ratio, round, type Expected } from './support/kpi-values.ts';

// The blueprint KPIs of SPEC section 5 (fairness_gap, segment_parity_rate, inference_latency_p99_ms,
// tech_debt_closed, cross_team_reuse, mentorship_contributions) and the yearly count targets, from
// hand-built events of 2024-12 .. 2025-12 (closed periods: "now" does not matter). Every expected
// number below is worked out by hand from SPEC sections 3 and 5.
//
// Teams: `vision` and `speech`; `platform` only reuses assets (it owns none).
// Calendar: 2024-12-30 is a Monday, so the ISO week of 2024-12-30 spans the year edge (its
// Monday and Tuesday are in 2024, the rest in 2025). 2025-01-05 is a Sunday; 2025-01-06,
// 03-17, 03-24, 03-31 and 12-29 are Mondays (the week of 2025-12-29 spans into 2026).
// The periods checked for every KPI: week 2024-12-30, month 2025-01, quarter 2025-Q1, year 2025;
// team vision or speech and all teams; tier 1 where the KPI is tiered.

type Group = [name: string, value: number, n?: number];
const evaluation = (id: string, at: string, team: string, tier: 1 | 2 | 3, model: string, metric: string, higherIsBetter: boolean, attribute: string, isProtected: boolean, groups: Group[]) =>
  makeEvent(
    'model.evaluated',
    {
      evaluation_id: id,
      model_id: model,
      team,
      tier,
      metric,
      higher_is_better: higherIsBetter,
      attribute,
      protected: isProtected,
      groups: groups.map(([name, value, n]) => ({ name, value, ...(n === undefined ? {} : { n }) })),
    },
    { source: 'eval-harness', id: `${id}-evaluated`, time: at },
  );
const serving = (n: number, at: string, team: string, model: string, tier: 1 | 2 | 3, requests: number, p95: number, p99?: number) =>
  makeEvent('serving.window', { team, model_id: model, tier, requests, latency_p95_ms: p95, ...(p99 === undefined ? {} : { latency_p99_ms: p99 }), cost_usd: 1 }, { source: 'prometheus', id: `window-${n}`, time: at });
const closed = (id: string, at: string, team: string, kind: 'ml_debt' | 'other') => makeEvent('workitem.closed', { item_id: id, team, kind }, { source: 'jira', id: `${id}-closed`, time: at });
const mentorship = (id: string, at: string, team: string, kind: 'review' | 'talk' | 'mentoring') =>
  makeEvent('mentorship.recorded', { record_id: id, team, kind }, { source: 'people-ops', id, time: at });
const reused = (n: number, at: string, asset: string, owner: string, team: string) =>
  makeEvent('asset.reused', { asset_id: asset, owner_team: owner, team }, { source: 'backstage', id: `reuse-${n}`, time: at });
const deployed = (id: string, at: string, team: string, environment: 'production' | 'staging' = 'production') =>
  makeEvent('release.deployed', { release_id: id, model_id: `${team}-model`, model_version: '1', team, tier: 2, environment }, { source: 'deployer', id: `${id}-deployed`, time: at });

// ---- model.evaluated (fairness_gap <= 0.05 over protected; segment_parity_rate >= 0.95 over the rest) --
// gap = max group value - min group value.
//   id  team    tier model      attribute    protected  time (UTC)                 gap
//   f1  vision  1    detector   gender       yes        2024-12-31 23:30           0.12 - 0.08 = 0.04
//   f2  vision  1    detector   age_band     yes        2025-01-01 00:00           0.16 - 0.07 = 0.09
//   f3  speech  2    asr        language     yes        2025-01-03 10:00           0.32 - 0.20 = 0.12
//   f4  speech  1    kws        gender       yes        2025-02-10 09:00           0.95 - 0.91 = 0.04
//   f5  vision  1    detector   gender       yes        2026-01-01 01:00+02:00     0.55 - 0.50 = 0.05
//                                                       (= 2025-12-31 23:00Z: 2025)
//   u1  vision  1    detector   region       no         2025-01-02 12:00           0.35 - 0.05 = 0.30
//   u2  vision  1    detector   device       no         2025-01-05 23:59:59.999    0.55 - 0.50 = 0.05 (parity: <= is inclusive)
//   u3  vision  2    segmenter  camera       no         2025-01-06 00:00           0.26 - 0.20 = 0.06
//   u4  speech  1    kws        noise_level  no         2024-12-31 12:00           0.96 - 0.93 = 0.03
//   u5  speech  2    asr        region       no         2025-03-31 23:59:59        0.14 - 0.10 = 0.04
//   u6  vision  1    detector   region       no         2025-07-15 10:00           0.31 - 0.30 = 0.01
// u1's gap (0.30) is larger than any protected one: fairness_gap must ignore it. 0.55 - 0.50 is
// 0.050000000000000044 in binary floating point; a gap is a difference of two reported metric
// values, and a science lead reads 0.55 vs 0.50 as a gap of exactly 0.05, so it meets "<= 0.05".
const f3 = evaluation('f3', '2025-01-03T10:00:00Z', 'speech', 2, 'asr', 'word_error_rate', false, 'language', true, [['en', 0.2, 5000], ['es', 0.32, 1200]]);
const f2 = evaluation('f2', '2025-01-01T00:00:00Z', 'vision', 1, 'detector', 'false_positive_rate', false, 'age_band', true, [['18-29', 0.1], ['30-49', 0.07], ['50-plus', 0.16]]);
const f5 = evaluation('f5', '2026-01-01T01:00:00+02:00', 'vision', 1, 'detector', 'precision', true, 'gender', true, [['female', 0.55], ['male', 0.5]]);
const evaluations: CloudEvent[] = [
  evaluation('f1', '2024-12-31T23:30:00Z', 'vision', 1, 'detector', 'false_positive_rate', false, 'gender', true, [['female', 0.12], ['male', 0.08]]),
  f2,
  f2, // a duplicate copy: counts once
  f3,
  evaluation('f4', '2025-02-10T09:00:00Z', 'speech', 1, 'kws', 'recall', true, 'gender', true, [['female', 0.91], ['male', 0.95]]),
  f5,
  evaluation('u1', '2025-01-02T12:00:00Z', 'vision', 1, 'detector', 'false_positive_rate', false, 'region', false, [['emea', 0.05], ['apac', 0.35]]),
  evaluation('u2', '2025-01-05T23:59:59.999Z', 'vision', 1, 'detector', 'false_positive_rate', false, 'device', false, [['mobile', 0.55], ['desktop', 0.5]]),
  evaluation('u3', '2025-01-06T00:00:00Z', 'vision', 2, 'segmenter', 'iou', true, 'camera', false, [['front', 0.26], ['rear', 0.2]]),
  evaluation('u4', '2024-12-31T12:00:00Z', 'speech', 1, 'kws', 'recall', true, 'noise_level', false, [['quiet', 0.96], ['street', 0.93], ['car', 0.95]]),
  evaluation('u5', '2025-03-31T23:59:59Z', 'speech', 2, 'asr', 'word_error_rate', false, 'region', false, [['us', 0.1], ['uk', 0.14]]),
  evaluation('u6', '2025-07-15T10:00:00Z', 'vision', 1, 'detector', 'false_positive_rate', false, 'region', false, [['emea', 0.3], ['apac', 0.31]]),
];

// ---- serving.window (inference_latency_p99_ms: request-weighted mean of latency_p99_ms over the windows that report it; no default target)
//   window  team    model     tier  end (UTC)                  requests  p95  p99
//   s1      vision  detector  1     2024-12-31 23:00           1000      80   200
//   s2      vision  detector  1     2025-01-01 00:00           3000      90   300
//   s3      vision  detector  1     2025-01-02 00:00           5000      70   -     (does not report p99)
//   s4      speech  asr       2     2025-01-04 00:00           2000      60   150
//   s5      speech  kws       1     2025-01-06 01:00+02:00     1000      100  500   (= 01-05 23:00Z: week of 2024-12-30)
//   s6      vision  detector  1     2025-03-10 12:00           1000      95   250
//   s7      speech  kws       1     2025-06-30 23:59:59.999    4000      50   100
//   s8      vision  detector  1     2025-04-15 12:00           2000      85   -     (does not report p99)
const s1 = serving(1, '2024-12-31T23:00:00Z', 'vision', 'detector', 1, 1000, 80, 200);
const windows: CloudEvent[] = [
  s1,
  s1, // duplicate
  serving(2, '2025-01-01T00:00:00Z', 'vision', 'detector', 1, 3000, 90, 300),
  serving(3, '2025-01-02T00:00:00Z', 'vision', 'detector', 1, 5000, 70),
  serving(4, '2025-01-04T00:00:00Z', 'speech', 'asr', 2, 2000, 60, 150),
  serving(5, '2025-01-06T01:00:00+02:00', 'speech', 'kws', 1, 1000, 100, 500),
  serving(6, '2025-03-10T12:00:00Z', 'vision', 'detector', 1, 1000, 95, 250),
  serving(7, '2025-06-30T23:59:59.999Z', 'speech', 'kws', 1, 4000, 50, 100),
  serving(8, '2025-04-15T12:00:00Z', 'vision', 'detector', 1, 2000, 85),
];

// ---- workitem.closed (tech_debt_closed: count of kind ml_debt; >= 3 per quarter, >= 12 per year) ---------
//   w1 vision ml_debt 2024-12-31 22:00 | w2 vision ml_debt 2025-01-01 00:00 (sent twice) | w3 vision other 01-02
//   w4 speech ml_debt 01-03 | w5 vision ml_debt 02-14 | w6 vision ml_debt 2025-03-31 23:59:59.999 (Q1)
//   w7 speech other 03-15 | w8 vision ml_debt 2025-04-01 00:00 (Q2) | w9..w16 vision ml_debt on the 15th of May..December
const w2 = closed('w2', '2025-01-01T00:00:00Z', 'vision', 'ml_debt');
const workItems: CloudEvent[] = [
  closed('w1', '2024-12-31T22:00:00Z', 'vision', 'ml_debt'),
  w2,
  w2, // duplicate
  closed('w3', '2025-01-02T09:00:00Z', 'vision', 'other'),
  closed('w4', '2025-01-03T09:00:00Z', 'speech', 'ml_debt'),
  closed('w5', '2025-02-14T09:00:00Z', 'vision', 'ml_debt'),
  closed('w6', '2025-03-31T23:59:59.999Z', 'vision', 'ml_debt'),
  closed('w7', '2025-03-15T09:00:00Z', 'speech', 'other'),
  closed('w8', '2025-04-01T00:00:00Z', 'vision', 'ml_debt'),
  ...[5, 6, 7, 8, 9, 10, 11, 12].map((month, i) => closed(`w${9 + i}`, `2025-${String(month).padStart(2, '0')}-15T09:00:00Z`, 'vision', 'ml_debt')),
];

// ---- mentorship.recorded (mentorship_contributions: count; >= 1 per quarter, >= 4 per year) ---------------
//   m1 vision review 2024-12-31 23:59:59.999 | m2 vision talk 2025-01-01 00:00 | m3 speech mentoring 01-04 (sent twice)
//   m4 vision mentoring 05-20 | m5 vision review 08-01 | m6 vision talk 2025-12-29 08:00 (the week spanning into 2026)
const m3 = mentorship('m3', '2025-01-04T15:00:00Z', 'speech', 'mentoring');
const mentorships: CloudEvent[] = [
  mentorship('m1', '2024-12-31T23:59:59.999Z', 'vision', 'review'),
  mentorship('m2', '2025-01-01T00:00:00.000Z', 'vision', 'talk'),
  m3,
  m3, // duplicate
  mentorship('m4', '2025-05-20T10:00:00Z', 'vision', 'mentoring'),
  mentorship('m5', '2025-08-01T10:00:00Z', 'vision', 'review'),
  mentorship('m6', '2025-12-29T08:00:00Z', 'vision', 'talk'),
];

// ---- asset.reused (cross_team_reuse: distinct assets reused by a team other than the owner; scoped by
// owner_team, assigned to the first such reuse; target >= 1 per year only) -------------------------------
//   asset                           owner   reuses (team @ time)
//   A1 feature-store/image-embeddings vision  vision @ 01-02 (same team: ignored), speech @ 01-10 (first), platform @ 01-20, speech @ 02-05
//   A2 vision/augment-lib           vision  vision @ 01-03, vision @ 03-03 (same team only: never counted)
//   A3 speech/tokenizer             speech  vision @ 04-02; platform @ 03-28 arrives LATE (after A3 was counted in April): moves it to March
//   A4 vision/detector-weights      vision  speech @ 2024-12-31 23:00 (first: 2024), platform @ 2025-01-02
//   A5 speech/vad                   speech  platform @ 2025-01-01 00:00
const A1 = 'feature-store/image-embeddings';
const A3 = 'speech/tokenizer';
const A4 = 'vision/detector-weights';
const A5 = 'speech/vad';
const r2 = reused(2, '2025-01-10T09:00:00Z', A1, 'vision', 'speech');
const reuses: CloudEvent[] = [
  reused(1, '2025-01-02T09:00:00Z', A1, 'vision', 'vision'),
  r2,
  r2, // duplicate
  reused(3, '2025-01-20T09:00:00Z', A1, 'vision', 'platform'),
  reused(4, '2025-02-05T09:00:00Z', A1, 'vision', 'speech'),
  reused(5, '2025-01-03T09:00:00Z', 'vision/augment-lib', 'vision', 'vision'),
  reused(6, '2025-03-03T09:00:00Z', 'vision/augment-lib', 'vision', 'vision'),
  reused(7, '2025-04-02T09:00:00Z', A3, 'speech', 'vision'),
  reused(8, '2024-12-31T23:00:00Z', A4, 'vision', 'speech'),
  reused(9, '2025-01-02T10:00:00Z', A4, 'vision', 'platform'),
  reused(10, '2025-01-01T00:00:00Z', A5, 'speech', 'platform'),
];
const lateReuse = reused(11, '2025-03-28T09:00:00Z', A3, 'speech', 'platform');

// ---- yearly count targets of existing KPIs (year = 4 x the quarterly number) ------------------------------
// releases_delivered (>= 1 per quarter, so >= 4 per year): vision one production release per quarter of
// 2025 (4: met); speech three in Q1 (Q1 met, year 3 < 4 breached) and a staging one that never counts.
const releases: CloudEvent[] = [
  deployed('v-1', '2025-01-15T10:00:00Z', 'vision'),
  deployed('v-2', '2025-04-10T10:00:00Z', 'vision'),
  deployed('v-3', '2025-07-10T10:00:00Z', 'vision'),
  deployed('v-4', '2025-10-10T10:00:00Z', 'vision'),
  deployed('s-1', '2025-01-20T10:00:00Z', 'speech'),
  deployed('s-2', '2025-02-20T10:00:00Z', 'speech'),
  deployed('s-3', '2025-03-20T10:00:00Z', 'speech'),
  deployed('s-stg', '2025-05-01T10:00:00Z', 'speech', 'staging'),
];
// experiment_throughput (>= 4 per month, >= 12 per quarter, so >= 48 per year) and shipped_lift (>= 0.005 per
// quarter, so >= 0.02 per year): one vision experiment, first readout 2025-03-20 (Thursday, week of 03-17),
// decided ship 2025-03-25. Primary ctr, control n=1e6 mean 0.100 var 0.09, treatment n=1e6 mean 0.101 var
// 0.101 x 0.899 = 0.090799:
//   L = (0.101 - 0.100) / 0.100 = 0.01
//   SE = sqrt(0.090799 / (1e6 x 0.01) + 0.101^2 x 0.09 / (1e6 x 0.1^4)) = sqrt(9.0799e-6 + 9.1809e-6) = 0.0042733
//   nu ~ 2e6, t = 1.96: CI = 0.01 +- 0.0083757 = (0.00162, 0.01838): a significant win -> shipped_lift 0.01,
//   which meets the quarterly 0.005 and breaches the yearly 0.02.
const experiments: CloudEvent[] = [
  makeEvent('experiment.started', { experiment_id: 'exp-1', team: 'vision', hypothesis_at: '2025-02-20T00:00:00Z', primary_metric: 'ctr' }, { source: 'growthbook', id: 'exp-1-started', time: '2025-03-01T09:00:00Z' }),
  makeEvent(
    'experiment.readout',
    { experiment_id: 'exp-1', primary: { metric: 'ctr', higher_is_better: true, control: { n: 1_000_000, mean: 0.1, variance: 0.09 }, treatment: { n: 1_000_000, mean: 0.101, variance: 0.090799 } } },
    { source: 'growthbook', id: 'exp-1-readout', time: '2025-03-20T09:00:00Z' },
  ),
  makeEvent('experiment.decided', { experiment_id: 'exp-1', decision: 'ship', actionable: true }, { source: 'growthbook', id: 'exp-1-decided', time: '2025-03-25T09:00:00Z' }),
];

const firstBatch: CloudEvent[] = [...evaluations, ...windows, ...workItems, ...mentorships, ...reuses, ...releases, ...experiments];
const distinct = (events: CloudEvent[]) => new Set(events.map((event) => `${event.source}|${event.id}`)).size;

let pipeline: TestPipeline;
const { values, value, check } = kpiReader(() => pipeline);
/** cross_team_reuse of speech before the late reuse of A3 arrived: Q1, Q2, March, April. */
let speechReuseBeforeLateEvent: (number | null)[] = [];
const speechReusePeriods: [Granularity, string][] = [['quarter', '2025-01-01'], ['quarter', '2025-04-01'], ['month', '2025-03-01'], ['month', '2025-04-01']];
const speechReuse = () => Promise.all(speechReusePeriods.map(async ([granularity, start]) => (await value('cross_team_reuse', granularity, start, 'speech')).value));

beforeAll(async () => {
  pipeline = await startPipeline();
  await pipeline.produce(firstBatch);
  await eventually(async () => ((await countEvents(pipeline.runtime)) === distinct(firstBatch) ? true : undefined), 90_000, 'every first-batch event ingested');
  // A3 is first counted in April (its only cross-team reuse so far).
  await eventually(async () => ((await value('cross_team_reuse', 'month', '2025-04-01', 'speech')).value === 1 ? true : undefined), 90_000, 'A3 counted in April');
  await pipeline.settle();
  speechReuseBeforeLateEvent = await speechReuse();
  // The earlier reuse of A3 arrives late: A3 moves to March.
  await pipeline.produce([lateReuse]);
  await eventually(async () => ((await value('cross_team_reuse', 'month', '2025-03-01', 'speech')).value === 1 ? true : undefined), 90_000, 'A3 moved to March');
  await pipeline.settle();
}, 240_000);
afterAll(() => pipeline?.stop());

// ---- expected values ----------------------------------------------------------------------------------
/** The largest of some values (no numerator/denominator). */
const largest = (value: number | null, sample_size: number, target: number | null, status: Expected['status']): Expected => ({ value, numerator: null, denominator: null, sample_size, target, status });
/** GET /v1/kpis/:id/breakdown through the typed client. */
const breakdown = (kpi: string, query: { granularity: Granularity; period_start: string; team: string }) => pipeline.client.read.get('/v1/kpis/:id/breakdown', { params: { id: kpi }, query });
const worst = (row: Pick<KpiValue, 'details'>) => row.details.worst as { evaluation_id: string; model_id: string; metric: string; attribute: string; groups: { name: string; value: number; n: number | null }[] };

describe('fairness_gap: the largest gap over protected evaluations (<= 0.05)', () => {
  it('values for week, month, quarter and year, one team and all, tier 1', async () => {
    await check('fairness_gap', [
      // Week 2024-12-30 (spans the year edge): protected f1 0.04 (2024-12-31), f2 0.09, f3 0.12. u1 (0.30)
      // is unprotected and ignored, else it would be the value.
      ['week', '2024-12-30', 'all', 'all', largest(0.12, 3, 0.05, 'breached')],
      ['week', '2024-12-30', 'vision', 'all', largest(0.09, 2, 0.05, 'breached')], // f1, f2
      ['week', '2024-12-30', 'all', '1', largest(0.09, 2, 0.05, 'breached')], // f1, f2 (f3 is tier 2)
      ['week', '2024-12-30', 'speech', '1', largest(null, 0, 0.05, 'no_data')], // f3 is tier 2; u4 unprotected
      // January 2025: f2, f3 (f1 is in December 2024).
      ['month', '2025-01-01', 'all', 'all', largest(0.12, 2, 0.05, 'breached')],
      ['month', '2025-01-01', 'vision', 'all', largest(0.09, 1, 0.05, 'breached')],
      ['month', '2025-01-01', 'all', '1', largest(0.09, 1, 0.05, 'breached')],
      // December 2025: f5 (2026-01-01T01:00+02:00 = 2025-12-31T23:00Z), gap 0.55 - 0.50 = 0.05: met (<=).
      ['month', '2025-12-01', 'all', 'all', largest(0.05, 1, 0.05, 'met')],
      // 2025-Q1: f2, f3, f4.
      ['quarter', '2025-01-01', 'all', 'all', largest(0.12, 3, 0.05, 'breached')],
      ['quarter', '2025-01-01', 'vision', 'all', largest(0.09, 1, 0.05, 'breached')],
      ['quarter', '2025-01-01', 'speech', 'all', largest(0.12, 2, 0.05, 'breached')], // f3, f4
      ['quarter', '2025-01-01', 'all', '1', largest(0.09, 2, 0.05, 'breached')], // f2, f4
      ['quarter', '2025-01-01', 'speech', '1', largest(0.04, 1, 0.05, 'met')], // f4
      // 2025-Q3 holds only u6 (unprotected): no protected evaluation, no value.
      ['quarter', '2025-07-01', 'all', 'all', largest(null, 0, 0.05, 'no_data')],
      ['quarter', '2025-10-01', 'vision', '1', largest(0.05, 1, 0.05, 'met')], // f5
      // Year 2025: f2, f3, f4, f5; 2024: f1 only (the year edge splits the week of 2024-12-30).
      ['year', '2025-01-01', 'all', 'all', largest(0.12, 4, 0.05, 'breached')],
      ['year', '2025-01-01', 'vision', 'all', largest(0.09, 2, 0.05, 'breached')], // f2, f5
      ['year', '2025-01-01', 'all', '1', largest(0.09, 3, 0.05, 'breached')], // f2, f4, f5
      ['year', '2024-01-01', 'all', 'all', largest(0.04, 1, 0.05, 'met')],
      ['year', '2024-01-01', 'vision', '1', largest(0.04, 1, 0.05, 'met')],
    ]);
  });

  it('details name the evaluation, attribute and groups behind the worst gap', async () => {
    const [week] = await values('fairness_gap', 'week', '2024-12-30', '2025-01-06');
    expect(worst(week!)).toEqual({
      evaluation_id: 'f3',
      model_id: 'asr',
      metric: 'word_error_rate',
      attribute: 'language',
      groups: [{ name: 'en', value: 0.2, n: 5000 }, { name: 'es', value: 0.32, n: 1200 }],
    });
    const [visionYear] = await values('fairness_gap', 'year', '2025-01-01', '2026-01-01', 'vision');
    expect(worst(visionYear!)).toEqual({
      evaluation_id: 'f2',
      model_id: 'detector',
      metric: 'false_positive_rate',
      attribute: 'age_band',
      groups: [{ name: '18-29', value: 0.1, n: null }, { name: '30-49', value: 0.07, n: null }, { name: '50-plus', value: 0.16, n: null }],
    });
    const [q4] = await values('fairness_gap', 'quarter', '2025-10-01', '2026-01-01', 'vision', '1');
    expect(worst(q4!)).toMatchObject({ evaluation_id: 'f5', attribute: 'gender' });
    // 0.55 - 0.50 is shown as the gap a reader computes, exactly 0.05 (not 0.050000000000000044), and meets <= 0.05.
    expect(q4).toMatchObject({ value: 0.05, target: 0.05, status: 'met' });
  });

  it('the breakdown lists the evaluations: the protected ones in the value, the others not', async () => {
    const week = await breakdown('fairness_gap', { granularity: 'week', period_start: '2024-12-30', team: 'all' });
    expect(week).toMatchObject({ value: expect.closeTo(0.12, 9), sample_size: 3, target: 0.05, status: 'breached' });
    expect((week.details.worst as { evaluation_id: string }).evaluation_id).toBe('f3');
    // Every evaluation of the week, by evaluation time; only the protected ones are in the value.
    expect(week.entities.map((entity) => [entity.entity, entity.team, entity.tier, round(entity.value), entity.in_numerator])).toEqual([
      ['u4', 'speech', 1, 0.03, false],
      ['f1', 'vision', 1, 0.04, true],
      ['f2', 'vision', 1, 0.09, true],
      ['u1', 'vision', 1, 0.3, false],
      ['f3', 'speech', 2, 0.12, true],
      ['u2', 'vision', 1, 0.05, false],
    ]);
  });
});

describe('segment_parity_rate: share of unprotected evaluations with gap <= 0.05 (>= 0.95)', () => {
  it('values for week, month, quarter and year, one team and all, tier 1', async () => {
    await check('segment_parity_rate', [
      // Week 2024-12-30: u4 (0.03, yes), u1 (0.30, no), u2 (0.05, yes: inclusive). Protected f1, f2, f3 are left out.
      ['week', '2024-12-30', 'all', 'all', ratio(2, 3, 0.95, 'breached')],
      ['week', '2024-12-30', 'vision', 'all', ratio(1, 2, 0.95, 'breached')], // u1, u2
      ['week', '2024-12-30', 'speech', 'all', ratio(1, 1, 0.95, 'met')], // u4
      ['week', '2024-12-30', 'all', '1', ratio(2, 3, 0.95, 'breached')], // all three are tier 1
      ['week', '2025-01-06', 'all', 'all', ratio(0, 1, 0.95, 'breached')], // u3 (0.06) at Monday 00:00
      // January 2025: u1, u2, u3 (u4 is in 2024).
      ['month', '2025-01-01', 'all', 'all', ratio(1, 3, 0.95, 'breached')],
      ['month', '2025-01-01', 'vision', 'all', ratio(1, 3, 0.95, 'breached')],
      ['month', '2025-01-01', 'speech', 'all', ratio(0, 0, 0.95, 'no_data')], // f3 is protected
      ['month', '2025-01-01', 'all', '1', ratio(1, 2, 0.95, 'breached')], // u1, u2 (u3 is tier 2)
      // 2025-Q1: u1, u2, u3, u5 (03-31 23:59:59).
      ['quarter', '2025-01-01', 'all', 'all', ratio(2, 4, 0.95, 'breached')],
      ['quarter', '2025-01-01', 'vision', 'all', ratio(1, 3, 0.95, 'breached')],
      ['quarter', '2025-01-01', 'speech', 'all', ratio(1, 1, 0.95, 'met')], // u5
      ['quarter', '2025-01-01', 'all', '1', ratio(1, 2, 0.95, 'breached')],
      ['quarter', '2025-07-01', 'vision', '1', ratio(1, 1, 0.95, 'met')], // u6
      // Year 2025: u1, u2, u3, u5, u6; 2024: u4 (f1, protected, left out).
      ['year', '2025-01-01', 'all', 'all', ratio(3, 5, 0.95, 'breached')],
      ['year', '2025-01-01', 'vision', 'all', ratio(2, 4, 0.95, 'breached')], // u1, u2, u3, u6
      ['year', '2025-01-01', 'speech', 'all', ratio(1, 1, 0.95, 'met')],
      ['year', '2025-01-01', 'all', '1', ratio(2, 3, 0.95, 'breached')], // u1, u2, u6
      ['year', '2024-01-01', 'all', 'all', ratio(1, 1, 0.95, 'met')],
    ]);
  });

  it('the breakdown leaves protected evaluations out of the denominator', async () => {
    const week = await breakdown('segment_parity_rate', { granularity: 'week', period_start: '2024-12-30', team: 'all' });
    const inDenominator = week.entities.filter((entity) => entity.in_denominator);
    expect(inDenominator.map((entity) => [entity.entity, entity.in_numerator]).sort()).toEqual([['u1', false], ['u2', true], ['u4', true]]);
    for (const entity of week.entities.filter((entity) => !entity.in_denominator)) {
      expect(entity.entity.startsWith('f'), entity.entity).toBe(true);
      expect(entity.in_numerator, entity.entity).toBe(false);
    }
  });
});

describe('inference_latency_p99_ms: request-weighted mean over the windows that report latency_p99_ms (no default target)', () => {
  it('values for week, month, quarter and year, one team and all, tier 1', async () => {
    // Every value has no target (none set per team): no_target, or no_data when null.
    await check('inference_latency_p99_ms', [
      // Week 2024-12-30: s1 200 x 1000 + s2 300 x 3000 + s4 150 x 2000 + s5 500 x 1000 = 1,900,000 over 7000
      // requests = 271.43; s3 (5000 requests, no p99) is left out.
      ['week', '2024-12-30', 'all', 'all', ratio(1_900_000, 7000, null, 'no_target', 4)],
      ['week', '2024-12-30', 'vision', 'all', ratio(1_100_000, 4000, null, 'no_target', 2)], // s1, s2: 275
      ['week', '2024-12-30', 'all', '1', ratio(1_600_000, 5000, null, 'no_target', 3)], // s1, s2, s5: 320
      // January 2025: s2, s4, s5 = 1,700,000 / 6000 = 283.33. Vision: s2 alone = 300 (with s3 as 0 it would be 112.5).
      ['month', '2025-01-01', 'all', 'all', ratio(1_700_000, 6000, null, 'no_target', 3)],
      ['month', '2025-01-01', 'vision', 'all', ratio(900_000, 3000, null, 'no_target', 1)],
      ['month', '2025-01-01', 'all', '1', ratio(1_400_000, 4000, null, 'no_target', 2)], // s2, s5: 350
      // April 2025, vision: only s8, which does not report p99: nothing to average.
      ['month', '2025-04-01', 'vision', 'all', ratio(0, 0, null, 'no_data', 0)],
      // 2025-Q1: s2, s4, s5, s6 = 1,950,000 / 7000 = 278.57.
      ['quarter', '2025-01-01', 'all', 'all', ratio(1_950_000, 7000, null, 'no_target', 4)],
      ['quarter', '2025-01-01', 'vision', 'all', ratio(1_150_000, 4000, null, 'no_target', 2)], // s2, s6: 287.5
      ['quarter', '2025-01-01', 'all', '1', ratio(1_650_000, 5000, null, 'no_target', 3)], // s2, s5, s6: 330
      // Year 2025: + s7 (100 x 4000) = 2,350,000 / 11,000 = 213.64; 2024: s1 = 200.
      ['year', '2025-01-01', 'all', 'all', ratio(2_350_000, 11_000, null, 'no_target', 5)],
      ['year', '2025-01-01', 'vision', 'all', ratio(1_150_000, 4000, null, 'no_target', 2)], // s8 left out
      ['year', '2025-01-01', 'speech', 'all', ratio(1_200_000, 7000, null, 'no_target', 3)], // s4, s5, s7
      ['year', '2025-01-01', 'all', '1', ratio(2_050_000, 9000, null, 'no_target', 4)], // s2, s5, s6, s7: 227.78
      ['year', '2024-01-01', 'all', 'all', ratio(200_000, 1000, null, 'no_target', 1)],
    ]);
    // The windows left out are there: p95 counts s8 (85 ms) in April, and s3 in January.
    await check('inference_latency_p95_ms', [
      ['month', '2025-04-01', 'vision', 'all', ratio(85 * 2000, 2000, 100, 'met', 1)],
      ['month', '2025-01-01', 'vision', 'all', ratio(90 * 3000 + 70 * 5000, 8000, 100, 'met', 2)],
    ]);
  });

  it('the breakdown marks the windows that do not report p99 as not reported', async () => {
    const month = await breakdown('inference_latency_p99_ms', { granularity: 'month', period_start: '2025-01-01', team: 'vision' });
    expect(month.entities.map((entity) => [entity.entity, entity.in_denominator, entity.value, entity.note?.startsWith('not reported') ?? false])).toEqual([
      ['prometheus/window-2', true, 300, false],
      ['prometheus/window-3', false, null, true],
    ]);
  });
});

describe('tech_debt_closed: count of ml_debt work items (>= 3 per quarter, >= 12 per year, none per week/month)', () => {
  it('values for week, month, quarter and year, one team and all', async () => {
    // sample_size: the work items closed in the period (of any kind), the entities the count is taken over,
    // as for the catalog's other filtered counts (sev0_incidents).
    await check('tech_debt_closed', [
      // Week 2024-12-30: w1 (2024-12-31), w2 (sent twice), w4; w3 is `other`.
      ['week', '2024-12-30', 'all', 'all', count(3, 4, null, 'no_target')],
      ['week', '2024-12-30', 'vision', 'all', count(2, 3, null, 'no_target')],
      // January 2025: w2, w4 (w3 other).
      ['month', '2025-01-01', 'all', 'all', count(2, 3, null, 'no_target')],
      ['month', '2025-01-01', 'vision', 'all', count(1, 2, null, 'no_target')],
      ['month', '2025-06-01', 'speech', 'all', count(0, 0, null, 'no_target')],
      // 2025-Q1: w2, w4, w5, w6 (03-31 23:59:59.999); w3, w7 other. Vision: w2, w5, w6 = 3 (>= 3 met).
      ['quarter', '2025-01-01', 'all', 'all', count(4, 6, 3, 'met')],
      ['quarter', '2025-01-01', 'vision', 'all', count(3, 4, 3, 'met')],
      ['quarter', '2025-01-01', 'speech', 'all', count(1, 2, 3, 'breached')],
      ['quarter', '2025-04-01', 'vision', 'all', count(3, 3, 3, 'met')], // w8 (04-01 00:00), w9, w10
      ['quarter', '2024-10-01', 'all', 'all', count(1, 1, 3, 'breached')], // w1
      // Year 2025: Q1's 4 + w8 + w9..w16 = 13 of 15 items. Vision: 3 + 1 + 8 = 12 (>= 12 met).
      ['year', '2025-01-01', 'all', 'all', count(13, 15, 12, 'met')],
      ['year', '2025-01-01', 'vision', 'all', count(12, 13, 12, 'met')],
      ['year', '2025-01-01', 'speech', 'all', count(1, 2, 12, 'breached')],
      ['year', '2024-01-01', 'all', 'all', count(1, 1, 12, 'breached')],
    ]);
  });
});

describe('mentorship_contributions: count of records (>= 1 per quarter, >= 4 per year)', () => {
  it('values for week, month, quarter and year, one team and all', async () => {
    await check('mentorship_contributions', [
      // Week 2024-12-30: m1 (2024-12-31 23:59:59.999), m2 (2025-01-01 00:00), m3 (sent twice).
      ['week', '2024-12-30', 'all', 'all', count(3, 3, null, 'no_target')],
      ['week', '2024-12-30', 'vision', 'all', count(2, 2, null, 'no_target')],
      ['week', '2025-12-29', 'vision', 'all', count(1, 1, null, 'no_target')], // m6
      ['month', '2025-01-01', 'all', 'all', count(2, 2, null, 'no_target')],
      ['month', '2025-01-01', 'speech', 'all', count(1, 1, null, 'no_target')],
      ['quarter', '2025-01-01', 'all', 'all', count(2, 2, 1, 'met')],
      ['quarter', '2025-01-01', 'vision', 'all', count(1, 1, 1, 'met')],
      ['quarter', '2025-04-01', 'speech', 'all', count(0, 0, 1, 'breached')],
      ['quarter', '2024-10-01', 'vision', 'all', count(1, 1, 1, 'met')], // m1
      // Year 2025: m2..m6 = 5; vision m2, m4, m5, m6 = 4 (>= 4 met); speech m3.
      ['year', '2025-01-01', 'all', 'all', count(5, 5, 4, 'met')],
      ['year', '2025-01-01', 'vision', 'all', count(4, 4, 4, 'met')],
      ['year', '2025-01-01', 'speech', 'all', count(1, 1, 4, 'breached')],
      ['year', '2024-01-01', 'all', 'all', count(1, 1, 4, 'breached')],
    ]);
  });
});

describe('cross_team_reuse: distinct assets reused by another team, by owner team, at the first such reuse (>= 1 per year)', () => {
  it('values for week, month, quarter and year, one team and all', async () => {
    await check('cross_team_reuse', [
      // Week 2024-12-30: A4 (first cross-team reuse 2024-12-31, owner vision), A5 (2025-01-01, owner speech).
      ['week', '2024-12-30', 'all', 'all', count(2, 2, null, 'no_target')],
      ['week', '2024-12-30', 'vision', 'all', count(1, 1, null, 'no_target')],
      ['week', '2025-01-06', 'vision', 'all', count(1, 1, null, 'no_target')], // A1 at 01-10, not at its same-team reuse 01-02
      // January 2025: A1 (vision: reused by speech, platform, speech again: once), A5 (speech). A2 (same team
      // only) never counts; A4 counts in 2024, not again at its 2025 reuse.
      ['month', '2025-01-01', 'all', 'all', count(2, 2, null, 'no_target')],
      ['month', '2025-01-01', 'vision', 'all', count(1, 1, null, 'no_target')],
      ['month', '2025-02-01', 'all', 'all', count(0, 0, null, 'no_target')], // A1 again, A2 own
      // 2025-Q1: A1, A5 and A3 (moved to 03-28 by the late reuse).
      ['quarter', '2025-01-01', 'all', 'all', count(3, 3, null, 'no_target')],
      ['quarter', '2025-01-01', 'vision', 'all', count(1, 1, null, 'no_target')],
      ['quarter', '2025-01-01', 'speech', 'all', count(2, 2, null, 'no_target')],
      ['quarter', '2025-04-01', 'all', 'all', count(0, 0, null, 'no_target')],
      // Year 2025: A1, A3, A5; the reuser `platform` owns nothing: 0. 2024: A4.
      ['year', '2025-01-01', 'all', 'all', count(3, 3, 1, 'met')],
      ['year', '2025-01-01', 'vision', 'all', count(1, 1, 1, 'met')],
      ['year', '2025-01-01', 'speech', 'all', count(2, 2, 1, 'met')],
      ['year', '2025-01-01', 'platform', 'all', count(0, 0, 1, 'breached')],
      ['year', '2024-01-01', 'vision', 'all', count(1, 1, 1, 'met')],
      ['year', '2024-01-01', 'speech', 'all', count(0, 0, 1, 'breached')],
    ]);
  });

  it('a late-arriving earlier reuse moves the asset to its period', async () => {
    // Before: A3 in April (Q2); speech Q1 had only A5. After: A3 in March (Q1), April empty.
    expect(speechReuseBeforeLateEvent).toEqual([1, 1, 0, 1]);
    expect(await speechReuse()).toEqual([2, 0, 1, 0]);
  });

  it('the breakdown lists each asset once, at its first cross-team reuse', async () => {
    const quarter = await breakdown('cross_team_reuse', { granularity: 'quarter', period_start: '2025-01-01', team: 'all' });
    expect(quarter.entities.map((entity) => [entity.entity, entity.team, entity.anchor, entity.note])).toEqual([
      [A5, 'speech', '2025-01-01T00:00:00.000Z', 'reused by platform'],
      [A1, 'vision', '2025-01-10T09:00:00.000Z', 'reused by platform, speech'],
      [A3, 'speech', '2025-03-28T09:00:00.000Z', 'reused by platform, vision'],
    ]);
    expect(quarter.entities.every((entity) => entity.in_numerator)).toBe(true);
  });
});

describe('the new tierless KPIs answer only tier=all', () => {
  it('a tier is a 400 naming tier', async () => {
    for (const kpi of ['tech_debt_closed', 'cross_team_reuse', 'mentorship_contributions']) {
      const response = await pipeline.get(`/v1/kpis/${kpi}/values?granularity=year&from=2025-01-01&to=2026-01-01&tier=1`);
      expect(response.status, kpi).toBe(400);
      expect(response.bodyAt(400).message, kpi).toMatch(/\btier\b/);
    }
  });
});

describe('yearly count targets: 4 x the quarterly number where none is given', () => {
  it('releases_delivered >= 4 per year (>= 1 per quarter, none per week or month)', async () => {
    await check('releases_delivered', [
      ['year', '2025-01-01', 'vision', 'all', count(4, 4, 4, 'met')], // one per quarter
      ['year', '2025-01-01', 'speech', 'all', count(3, 3, 4, 'breached')], // s-1..s-3; s-stg is staging
      ['year', '2025-01-01', 'all', 'all', count(7, 7, 4, 'met')],
      ['quarter', '2025-01-01', 'speech', 'all', count(3, 3, 1, 'met')],
      ['month', '2025-01-01', 'vision', 'all', count(1, 1, null, 'no_target')],
      ['week', '2025-01-13', 'vision', 'all', count(1, 1, null, 'no_target')],
    ]);
  });

  it('experiment_throughput >= 48 per year and shipped_lift >= 0.02 per year', async () => {
    const at = async (kpi: string, granularity: Granularity, start: string, team: string) => {
      const row = await value(kpi, granularity, start, team);
      return [round(row.value), round(row.target), row.status];
    };
    // exp-1: first readout 2025-03-20 -> 1 experiment (month >= 4, quarter >= 12, year >= 48: all breached).
    expect(await at('experiment_throughput', 'year', '2025-01-01', 'vision')).toEqual([1, 48, 'breached']);
    expect(await at('experiment_throughput', 'quarter', '2025-01-01', 'vision')).toEqual([1, 12, 'breached']);
    expect(await at('experiment_throughput', 'month', '2025-03-01', 'vision')).toEqual([1, 4, 'breached']);
    expect(await at('experiment_throughput', 'week', '2025-03-17', 'vision')).toEqual([1, null, 'no_target']);
    // exp-1 shipped 2025-03-25 with a significant lift of 0.01: quarter (>= 0.005) met, year (>= 0.02) breached.
    expect(await at('shipped_lift', 'quarter', '2025-01-01', 'vision')).toEqual([0.01, 0.005, 'met']);
    expect(await at('shipped_lift', 'year', '2025-01-01', 'vision')).toEqual([0.01, 0.02, 'breached']);
    expect(await at('shipped_lift', 'year', '2025-01-01', 'speech')).toEqual([0, 0.02, 'breached']);
    expect(await at('shipped_lift', 'month', '2025-03-01', 'vision')).toEqual([0.01, null, 'no_target']);
  });

  it('the catalog lists the yearly targets', async () => {
    const catalog = await pipeline.client.read.get('/v1/kpis');
    const yearly = (id: string) =>
      catalog.find((kpi) => kpi.id === id)!.targets.flatMap((rule) => (rule.kind === 'threshold' && rule.granularities?.includes('year') ? [[rule.op, rule.value]] : []));
    expect(yearly('releases_delivered')).toEqual([['>=', 4]]);
    expect(yearly('experiment_throughput')).toEqual([['>=', 48]]);
    expect(yearly('shipped_lift')).toEqual([['>=', 0.02]]);
    expect(yearly('tech_debt_closed')).toEqual([['>=', 12]]);
    expect(yearly('mentorship_contributions')).toEqual([['>=', 4]]);
    expect(yearly('cross_team_reuse')).toEqual([['>=', 1]]);
    expect(catalog.find((kpi) => kpi.id === 'inference_latency_p99_ms')!.targets).toEqual([]);
  });
});
