import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { pearson, relativeLift, srmTest } from '@kpi/stats';
import { countEvents, eventually, startPipeline, type TestPipeline } from './support/pipeline.ts';
import type { KpiValue } from '@kpi/api-contract';
import { kpiReader } from './support/kpi-values.ts';

// Experiments of 2026-Q1/Q2, hand-built; every expected number below is worked out from SPEC sections 4 and 5.
// Teams: ranking and search. Q1 and Q2 are closed periods (today is after 2026-Q3).
//
// ISO weeks used (Monday starts): 2026-01-12, 01-19, 02-02, 02-09, 02-16, 02-23, 03-02, 03-09, 03-16, 03-30.

const SOURCE = 'growthbook';
type Arm = { n: number; mean: number; variance: number };
type Metric = { metric: string; higher_is_better?: boolean; control: Arm; treatment: Arm };
const arm = (n: number, mean: number, variance: number): Arm => ({ n, mean, variance });

const started = (id: string, team: string, at: string, hypothesis_at: string, extra: { offline_delta?: number; allocation?: { control: number; treatment: number } } = {}) =>
  makeEvent('experiment.started', { experiment_id: id, team, hypothesis_at, primary_metric: 'primary', ...extra }, { source: SOURCE, id: `${id}-started`, time: at });
const readout = (id: string, at: string, primary: Metric, guardrails?: Required<Metric>[], n = 1) =>
  makeEvent('experiment.readout', { experiment_id: id, primary, ...(guardrails ? { guardrails } : {}) }, { source: SOURCE, id: `${id}-readout-${n}`, time: at });
const decided = (id: string, at: string, decision: 'ship' | 'iterate' | 'rollback' | 'abandon', actionable: boolean, n = 1) =>
  makeEvent('experiment.decided', { experiment_id: id, decision, actionable }, { source: SOURCE, id: `${id}-decided-${n}`, time: at });

// ---- readouts (primary and guardrail arms) -----------------------------------------------------
// exp-1, readout A (earlier time, arrives last): SRM-failing split and a significant regression with a significant
// guardrail regression. It is exp-1's FIRST readout (throughput, time to experiment) but not its result.
const E1_A_PRIMARY: Metric = { metric: 'revenue_per_user', control: arm(1000, 10, 4), treatment: arm(1200, 9.5, 4) };
const E1_A_GUARDRAIL: Required<Metric> = { metric: 'latency_ms', higher_is_better: false, control: arm(1000, 100, 100), treatment: arm(1200, 110, 100) };
// exp-1, readout B (latest time): the result. A significant win, a non-significant guardrail.
const E1_B_PRIMARY: Metric = { metric: 'revenue_per_user', higher_is_better: true, control: arm(1000, 10, 4), treatment: arm(1000, 10.5, 4) };
const E1_B_GUARDRAIL: Required<Metric> = { metric: 'latency_ms', higher_is_better: false, control: arm(1000, 100, 100), treatment: arm(1000, 100.1, 100) };
// exp-2: shipped, not significant.
const E2_PRIMARY: Metric = { metric: 'revenue_per_user', control: arm(1000, 10, 100), treatment: arm(1000, 10.2, 100) };
// exp-3: lower-is-better primary (latency), a significant win, shipped, with a significant guardrail regression (ctr).
const E3_PRIMARY: Metric = { metric: 'latency_ms', higher_is_better: false, control: arm(10000, 200, 400), treatment: arm(10000, 190, 400) };
const E3_GUARDRAIL: Required<Metric> = { metric: 'ctr', higher_is_better: true, control: arm(10000, 0.1, 0.09), treatment: arm(10000, 0.08, 0.0736) };
// exp-4: rolled back (not shipped) with a significant guardrail regression; primary ctr, higher_is_better absent (default true).
const E4_PRIMARY: Metric = { metric: 'ctr', control: arm(5000, 0.1, 0.09), treatment: arm(5000, 0.101, 0.09) };
const E4_GUARDRAIL: Required<Metric> = { metric: 'latency_ms', higher_is_better: false, control: arm(5000, 100, 100), treatment: arm(5000, 105, 100) };
// exp-5: SRM failure, the SPEC example (1000, 1200) at 0.5/0.5.
const E5_PRIMARY: Metric = { metric: 'ctr', control: arm(1000, 0.5, 0.25), treatment: arm(1200, 0.5, 0.25) };
// exp-6: SRM pass, the SPEC example (310, 98) at 0.75/0.25.
const E6_PRIMARY: Metric = { metric: 'ctr', control: arm(310, 0.2, 0.16), treatment: arm(98, 0.25, 0.1875) };
// exp-7: a readout that arrives before its start.
const E7_PRIMARY: Metric = { metric: 'sessions', control: arm(1000, 5, 1), treatment: arm(1000, 5.2, 1) };
// exp-8: shipped with no primary result (m_c = 0).
const E8_PRIMARY: Metric = { metric: 'ctr', control: arm(1000, 0, 0), treatment: arm(1000, 0.01, 0.0099) };
// exp-9 (Q2): shipped, a small significant win.
const E9_PRIMARY: Metric = { metric: 'revenue_per_user', control: arm(100000, 10, 1), treatment: arm(100000, 10.04, 1) };
// Fillers f-1..f-4: balanced, no effect, no offline delta, never decided.
const FILLER: Metric = { metric: 'ctr', control: arm(500, 1, 1), treatment: arm(500, 1, 1) };

// Phase 1 arrives first: lifecycle events whose experiment.started has not arrived yet.
const early: CloudEvent[] = [
  decided('exp-3', '2026-03-05T00:00:00Z', 'ship', true), // a decision before its start
  readout('exp-7', '2026-03-09T00:00:00Z', E7_PRIMARY), // a readout before its start
  readout('exp-99', '2026-03-11T00:00:00Z', E1_B_PRIMARY), // never started: counts nowhere
];
// Phase 2: the bulk.
const exp1Started = started('exp-1', 'ranking', '2026-01-02T09:00:00Z', '2025-12-22T00:00:00Z', { offline_delta: 0.04 });
const main: CloudEvent[] = [
  exp1Started,
  exp1Started, // a duplicate copy in the same batch
  readout('exp-1', '2026-02-03T00:00:00Z', E1_B_PRIMARY, [E1_B_GUARDRAIL], 2),
  decided('exp-1', '2026-02-10T12:00:00Z', 'ship', true, 2), // the latest decision; an earlier one arrives later
  started('exp-2', 'ranking', '2026-01-05T09:00:00Z', '2026-01-01T00:00:00Z', { offline_delta: 0.01 }),
  readout('exp-2', '2026-01-15T00:00:00Z', E2_PRIMARY),
  decided('exp-2', '2026-02-20T00:00:00Z', 'ship', true),
  started('exp-3', 'search', '2026-02-02T09:00:00Z', '2026-02-01T00:00:00Z', { offline_delta: 0.03 }),
  readout('exp-3', '2026-02-25T00:00:00Z', E3_PRIMARY, [E3_GUARDRAIL]),
  started('exp-4', 'search', '2026-02-03T09:00:00Z', '2026-02-02T00:00:00Z', { offline_delta: -0.01 }),
  readout('exp-4', '2026-02-16T00:00:00Z', E4_PRIMARY, [E4_GUARDRAIL]),
  decided('exp-4', '2026-03-10T00:00:00Z', 'rollback', true),
  started('exp-5', 'ranking', '2026-01-06T09:00:00Z', '2026-01-05T00:00:00Z'),
  readout('exp-5', '2026-01-20T00:00:00Z', E5_PRIMARY),
  decided('exp-5', '2026-01-27T00:00:00Z', 'abandon', false),
  started('exp-6', 'search', '2026-01-07T09:00:00Z', '2026-01-02T00:00:00Z', { offline_delta: 0.02, allocation: { control: 0.75, treatment: 0.25 } }),
  readout('exp-6', '2026-01-22T00:00:00Z', E6_PRIMARY),
  decided('exp-6', '2026-02-12T00:00:00Z', 'iterate', true),
  started('exp-7', 'search', '2026-03-02T09:00:00Z', '2026-02-20T00:00:00Z', { offline_delta: 0.05 }),
  started('exp-8', 'ranking', '2026-03-01T09:00:00Z', '2026-03-01T00:00:00Z', { offline_delta: 0.02 }),
  readout('exp-8', '2026-03-16T00:00:00Z', E8_PRIMARY),
  decided('exp-8', '2026-03-20T00:00:00Z', 'ship', false),
  started('exp-9', 'ranking', '2026-04-01T09:00:00Z', '2026-04-01T00:00:00Z', { offline_delta: 0.01 }),
  readout('exp-9', '2026-04-15T00:00:00Z', E9_PRIMARY),
  decided('exp-9', '2026-04-20T00:00:00Z', 'iterate', false, 1), // in order: the later ship wins
  decided('exp-9', '2026-05-05T00:00:00Z', 'ship', true, 2),
  started('f-1', 'ranking', '2026-02-26T09:00:00Z', '2026-02-24T00:00:00Z'),
  readout('f-1', '2026-03-03T12:00:00Z', FILLER),
  started('f-2', 'ranking', '2026-03-02T09:00:00Z', '2026-03-01T00:00:00Z'),
  readout('f-2', '2026-03-24T00:00:00Z', FILLER),
  started('f-3', 'search', '2026-03-03T09:00:00Z', '2026-03-02T00:00:00Z'),
  readout('f-3', '2026-03-12T00:00:00Z', FILLER),
  started('f-4', 'search', '2026-03-06T09:00:00Z', '2026-03-05T00:00:00Z'),
  readout('f-4', '2026-04-01T01:00:00+02:00', FILLER), // = 2026-03-31T23:00Z: March, not April
];
// Phase 3 arrives last: out-of-order readout and decision with EARLIER times, and late duplicates.
const late: CloudEvent[] = [
  readout('exp-1', '2026-01-13T00:00:00Z', E1_A_PRIMARY, [E1_A_GUARDRAIL], 1),
  decided('exp-1', '2026-02-05T00:00:00Z', 'iterate', false, 1),
  readout('exp-3', '2026-02-25T00:00:00Z', E3_PRIMARY, [E3_GUARDRAIL]), // duplicate (same source + id)
  decided('exp-2', '2026-02-20T00:00:00Z', 'ship', true), // duplicate
];
const distinct = (events: CloudEvent[]) => new Set(events.map((event) => `${event.source}/${event.id}`)).size;

// ---- SPEC section 4 by hand --------------------------------------------------------------------
/** L = (m_t - m_c)/|m_c|; SE by the delta method; nu by Welch-Satterthwaite on the raw variances. */
function handLift(control: Arm, treatment: Arm) {
  const { n: nc, mean: mc, variance: vc } = control;
  const { n: nt, mean: mt, variance: vt } = treatment;
  const L = (mt - mc) / Math.abs(mc);
  const se = Math.sqrt(vt / (nt * mc ** 2) + (mt ** 2 * vc) / (nc * mc ** 4));
  const nu = (vt / nt + vc / nc) ** 2 / (vt ** 2 / (nt ** 2 * (nt - 1)) + vc ** 2 / (nc ** 2 * (nc - 1)));
  return { L, se, nu, t: L / se };
}
// For nu >= 60, t_{0.975, nu} lies in [1.960, 2.000]: |L|/SE > 2.1 is clearly significant, < 1.9 clearly not.
/** Chi-square of (n_c, n_t) against the allocation, 1 df; failure when p < 0.001, i.e. X^2 > chi2_{0.999, 1} = 10.8276. */
function handSrm(nc: number, nt: number, allocation = { control: 0.5, treatment: 0.5 }) {
  const total = nc + nt;
  const ec = total * allocation.control;
  const et = total * allocation.treatment;
  return (nc - ec) ** 2 / ec + (nt - et) ** 2 / et;
}
const CHI2_1_999 = 10.8276;

let pipeline: TestPipeline;
beforeAll(async () => {
  pipeline = await startPipeline();
  const ingested = (n: number, what: string) => eventually(async () => ((await countEvents(pipeline.runtime, SOURCE)) === n ? true : undefined), 60_000, what);
  await pipeline.produce(early);
  await ingested(distinct(early), 'phase 1 ingested');
  await pipeline.produce(main);
  await ingested(distinct([...early, ...main]), 'phase 2 ingested');
  await pipeline.produce(late);
  await ingested(distinct([...early, ...main, ...late]), 'phase 3 ingested');
  // exp-1's late readout A moves its first readout into January: 4 first readouts there. Waited on (but not
  // required here) so that the recomputes it triggers are queued before settling; the tests judge the numbers.
  await eventually(async () => ((await value('experiment_throughput', 'month', '2026-01-01')).value === 4 ? true : undefined), 30_000, 'January throughput').catch(() => undefined);
  await pipeline.settle();
});
afterAll(() => pipeline?.stop());

const { values, value } = kpiReader(() => pipeline);
const close = (x: number) => expect.closeTo(x, 9);
const judged = (rows: KpiValue[]) => rows.map(({ period_start, value, numerator, denominator, sample_size, target, status }) => ({ period_start: period_start.slice(0, 10), value, numerator, denominator, sample_size, target, status }));
/** A count or sum, or a median / correlation: no numerator or denominator. */
const plain = (value: number | null, sample_size: number, target: number | null, status: string) => ({ value: value === null || Number.isInteger(value) ? value : close(value), numerator: null, denominator: null, sample_size, target, status });
/** A share: numerator / denominator, sample_size the denominator. */
const share = (numerator: number, denominator: number, target: number, status: string) => ({ value: denominator === 0 ? null : close(numerator / denominator), numerator, denominator, sample_size: denominator, target, status });
const DAYS = (d: number, h = 0) => d + h / 24;

describe('experiment KPIs through Kafka -> ingest -> ClickHouse -> worker -> API', () => {
  it('the readouts behind the expectations, checked by hand against SPEC section 4', () => {
    // exp-1 B: L = 0.5/10 = 0.05; SE = sqrt(4/(1000*100) + 10.5^2*4/(1000*10^4)) = sqrt(4e-5 + 4.41e-5) = 0.0091706 -> t = 5.45: a win.
    const e1b = handLift(E1_B_PRIMARY.control, E1_B_PRIMARY.treatment);
    expect(e1b.L).toBeCloseTo(0.05, 12);
    expect(e1b.se).toBeCloseTo(Math.sqrt(8.41e-5), 12);
    expect(e1b.t).toBeGreaterThan(2.1);
    // exp-1 B guardrail (lower is better): L = 0.1/100 = 0.001; SE = sqrt(1e-5 + 100.1^2*100/(1000*1e8)) = 0.004474 -> t = 0.22: none.
    expect(Math.abs(handLift(E1_B_GUARDRAIL.control, E1_B_GUARDRAIL.treatment).t)).toBeLessThan(1.9);
    // exp-1 A (superseded): L = -0.05, SE = sqrt(4/(1200*100) + 9.5^2*4/(1000*1e4)) = 0.008332 -> t = -6.0 (regression);
    // guardrail L = +0.1 on a lower-is-better metric, SE = 0.00452 -> t = 22 (regression).
    expect(handLift(E1_A_PRIMARY.control, E1_A_PRIMARY.treatment).t).toBeLessThan(-2.1);
    expect(handLift(E1_A_GUARDRAIL.control, E1_A_GUARDRAIL.treatment).t).toBeGreaterThan(2.1);
    // exp-2: L = 0.02; SE = sqrt(100/(1000*100) + 10.2^2*100/(1000*1e4)) = sqrt(0.001 + 0.0010404) = 0.04517 -> t = 0.44: not significant.
    const e2 = handLift(E2_PRIMARY.control, E2_PRIMARY.treatment);
    expect(e2.L).toBeCloseTo(0.02, 12);
    expect(Math.abs(e2.t)).toBeLessThan(1.9);
    // exp-3 (lower is better): L = -10/200 = -0.05 -> improvement +0.05; SE = sqrt(400/(1e4*4e4) + 190^2*400/(1e4*1.6e9)) = sqrt(1e-6 + 9.025e-7)
    // = 0.0013793 -> t = -36: a win. Guardrail ctr: L = -0.02/0.1 = -0.2; SE = sqrt(0.0736/(1e4*0.01) + 0.0064*0.09/(1e4*1e-4))
    // = sqrt(0.000736 + 0.000576) = 0.03622 -> t = -5.5: a regression (higher is better).
    const e3 = handLift(E3_PRIMARY.control, E3_PRIMARY.treatment);
    expect(e3.L).toBeCloseTo(-0.05, 12);
    expect(e3.se).toBeCloseTo(Math.sqrt(1.9025e-6), 12);
    expect(e3.t).toBeLessThan(-2.1);
    expect(handLift(E3_GUARDRAIL.control, E3_GUARDRAIL.treatment).t).toBeLessThan(-2.1);
    // exp-4: primary L = 0.01, SE = sqrt(0.0018 + 0.00183618) = 0.0603 -> t = 0.17: none. Guardrail latency (lower is better):
    // L = 0.05, SE = sqrt(100/(5000*1e4) + 105^2*100/(5000*1e8)) = sqrt(2e-6 + 2.205e-6) = 0.0020506 -> t = 24: a regression.
    const e4 = handLift(E4_PRIMARY.control, E4_PRIMARY.treatment);
    expect(e4.L).toBeCloseTo(0.01, 12);
    expect(Math.abs(e4.t)).toBeLessThan(1.9);
    expect(handLift(E4_GUARDRAIL.control, E4_GUARDRAIL.treatment).t).toBeGreaterThan(2.1);
    // exp-6: L = 0.05/0.2 = 0.25; SE = sqrt(0.1875/(98*0.04) + 0.0625*0.16/(310*0.0016)) = sqrt(0.047832 + 0.020161) = 0.2608: none.
    const e6 = handLift(E6_PRIMARY.control, E6_PRIMARY.treatment);
    expect(e6.L).toBeCloseTo(0.25, 12);
    expect(Math.abs(e6.t)).toBeLessThan(1.9);
    // exp-7: L = 0.2/5 = 0.04 (a win, but never decided). exp-9: L = 0.04/10 = 0.004, SE = sqrt(1e-7 + 1.008016e-7) = 0.000448 -> t = 8.9: a win.
    expect(handLift(E7_PRIMARY.control, E7_PRIMARY.treatment).L).toBeCloseTo(0.04, 12);
    const e9 = handLift(E9_PRIMARY.control, E9_PRIMARY.treatment);
    expect(e9.L).toBeCloseTo(0.004, 12);
    expect(e9.t).toBeGreaterThan(2.1);
    // Every decided experiment's test has nu > 60 (smallest: exp-6, nu = (0.0019133 + 0.00051613)^2 / (0.0019133^2/97 + 0.00051613^2/309) = 153).
    for (const [c, t] of [E1_B_PRIMARY, E2_PRIMARY, E3_PRIMARY, E3_GUARDRAIL, E4_PRIMARY, E4_GUARDRAIL, E6_PRIMARY, E9_PRIMARY].map((m) => [m.control, m.treatment] as const)) {
      expect(handLift(c, t).nu).toBeGreaterThan(60);
    }
    // SRM: (1000, 1200) at 0.5/0.5: expected 1100 each, X^2 = 2 * 100^2/1100 = 18.1818 > 10.83 -> failure.
    // (310, 98) at 0.75/0.25: expected 306 and 102, X^2 = 16/306 + 16/102 = 0.20915 < 10.83 -> pass (it would fail at 0.5/0.5: X^2 = 110.2).
    expect(handSrm(1000, 1200)).toBeCloseTo(18.1818, 4);
    expect(handSrm(1000, 1200)).toBeGreaterThan(CHI2_1_999);
    expect(handSrm(310, 98, { control: 0.75, treatment: 0.25 })).toBeCloseTo(0.20915, 5);
    expect(handSrm(310, 98, { control: 0.75, treatment: 0.25 })).toBeLessThan(CHI2_1_999);
    expect(handSrm(310, 98)).toBeGreaterThan(CHI2_1_999);

    // Secondary cross-check with @kpi/stats, which must agree with the hand arithmetic.
    for (const m of [E1_B_PRIMARY, E2_PRIMARY, E3_PRIMARY, E4_GUARDRAIL, E6_PRIMARY, E9_PRIMARY]) {
      const lib = relativeLift(m.control, m.treatment)!;
      const hand = handLift(m.control, m.treatment);
      expect(lib.lift).toBeCloseTo(hand.L, 12);
      expect(lib.se).toBeCloseTo(hand.se, 12);
      expect(lib.df).toBeCloseTo(hand.nu, 6);
    }
    expect(relativeLift(E8_PRIMARY.control, E8_PRIMARY.treatment)).toBeNull(); // m_c = 0: no result
    expect(srmTest(1000, 1200)).toMatchObject({ failed: true, chiSquare: expect.closeTo(18.1818, 4), pValue: expect.closeTo(2.00787e-5, 9) });
    expect(srmTest(310, 98, { control: 0.75, treatment: 0.25 })).toMatchObject({ failed: false, chiSquare: expect.closeTo(0.20915, 5), pValue: expect.closeTo(0.647434, 5) });
  });

  it('duplicates (same source + id) are stored once', async () => {
    // 3 + 33 + 2 distinct events; exp-1's start was sent twice, exp-3's readout and exp-2's decision again later.
    expect(distinct([...early, ...main, ...late])).toBe(38);
    expect(await countEvents(pipeline.runtime, SOURCE)).toBe(38);
  });

  it('experiment_throughput counts experiments by first readout; >= 4 per month, >= 12 per quarter, no weekly target', async () => {
    // First readouts: exp-1 01-13 (readout A, arrived last), exp-2 01-15, exp-5 01-20, exp-6 01-22 | exp-4 02-16, exp-3 02-25 |
    // f-1 03-03, exp-7 03-09 (readout before start), f-3 03-12, exp-8 03-16, f-2 03-24, f-4 03-31T23:00Z (sent as 04-01T01:00+02:00) |
    // exp-9 04-15. exp-99 (never started) counts nowhere. Counts: sample_size = the experiments counted.
    expect(judged(await values('experiment_throughput', 'month', '2026-01-01', '2026-07-01'))).toEqual([
      { period_start: '2026-01-01', ...plain(4, 4, 4, 'met') }, // 4 >= 4
      { period_start: '2026-02-01', ...plain(2, 2, 4, 'breached') },
      { period_start: '2026-03-01', ...plain(6, 6, 4, 'met') },
      { period_start: '2026-04-01', ...plain(1, 1, 4, 'breached') },
      { period_start: '2026-05-01', ...plain(0, 0, 4, 'breached') },
      { period_start: '2026-06-01', ...plain(0, 0, 4, 'breached') },
    ]);
    // Q1: 4 + 2 + 6 = 12 >= 12; Q2: 1.
    expect(judged(await values('experiment_throughput', 'quarter', '2026-01-01', '2026-07-01'))).toEqual([
      { period_start: '2026-01-01', ...plain(12, 12, 12, 'met') },
      { period_start: '2026-04-01', ...plain(1, 1, 12, 'breached') },
    ]);
    // ranking Q1: exp-1, exp-2, exp-5, f-1, exp-8, f-2 = 6; search Q1: exp-6, exp-4, exp-3, exp-7, f-3, f-4 = 6.
    expect(await value('experiment_throughput', 'quarter', '2026-01-01', 'ranking')).toMatchObject(plain(6, 6, 12, 'breached'));
    expect(await value('experiment_throughput', 'quarter', '2026-01-01', 'search')).toMatchObject(plain(6, 6, 12, 'breached'));
    expect(await value('experiment_throughput', 'month', '2026-01-01', 'ranking')).toMatchObject(plain(3, 3, 4, 'breached'));
    expect(await value('experiment_throughput', 'month', '2026-03-01', 'search')).toMatchObject(plain(3, 3, 4, 'breached'));
    expect(await value('experiment_throughput', 'quarter', '2026-04-01', 'search')).toMatchObject(plain(0, 0, 12, 'breached'));
    // Weeks: no target. Week of 01-12: exp-1 (01-13) and exp-2 (01-15); week of 02-02: nothing (exp-1's latest readout is not its first).
    expect(await value('experiment_throughput', 'week', '2026-01-12')).toMatchObject(plain(2, 2, null, 'no_target'));
    expect(await value('experiment_throughput', 'week', '2026-02-02')).toMatchObject(plain(0, 0, null, 'no_target'));
    expect(await value('experiment_throughput', 'week', '2026-03-30')).toMatchObject(plain(1, 1, null, 'no_target'));
    expect(await value('experiment_throughput', 'week', '2026-01-19', 'ranking')).toMatchObject(plain(1, 1, null, 'no_target'));
  });

  it('experiment_actionable_rate is by the latest decision, whatever the arrival order; >= 0.60', async () => {
    // Latest decisions: exp-5 abandon (not actionable) 01-27 | exp-1 ship (actionable) 02-10 — its iterate of 02-05, not actionable,
    // arrived last but is earlier —, exp-6 iterate (act.) 02-12, exp-2 ship (act.) 02-20 | exp-3 ship (act.) 03-05 (arrived before
    // its start), exp-4 rollback (act.) 03-10, exp-8 ship (not act.) 03-20 | exp-9 ship (act.) 05-05 (its iterate of 04-20 is superseded).
    expect(judged(await values('experiment_actionable_rate', 'month', '2026-01-01', '2026-06-01'))).toEqual([
      { period_start: '2026-01-01', ...share(0, 1, 0.6, 'breached') }, // 0/1
      { period_start: '2026-02-01', ...share(3, 3, 0.6, 'met') }, // 3/3
      { period_start: '2026-03-01', ...share(2, 3, 0.6, 'met') }, // 2/3 = 0.667 >= 0.6
      { period_start: '2026-04-01', ...share(0, 0, 0.6, 'no_data') }, // exp-9's iterate is not its latest decision
      { period_start: '2026-05-01', ...share(1, 1, 0.6, 'met') },
    ]);
    // Q1: 5 actionable of 7 = 0.714; ranking (exp-5 no, exp-1 yes, exp-2 yes, exp-8 no) 2/4 = 0.5; search (exp-6, exp-3, exp-4) 3/3.
    expect(await value('experiment_actionable_rate', 'quarter', '2026-01-01')).toMatchObject(share(5, 7, 0.6, 'met'));
    expect(await value('experiment_actionable_rate', 'quarter', '2026-01-01', 'ranking')).toMatchObject(share(2, 4, 0.6, 'breached'));
    expect(await value('experiment_actionable_rate', 'quarter', '2026-01-01', 'search')).toMatchObject(share(3, 3, 0.6, 'met'));
    expect(await value('experiment_actionable_rate', 'quarter', '2026-04-01')).toMatchObject(share(1, 1, 0.6, 'met'));
    expect(await value('experiment_actionable_rate', 'month', '2026-02-01', 'ranking')).toMatchObject(share(2, 2, 0.6, 'met'));
    // Weeks: 02-02 held only exp-1's superseded iterate -> nothing; 02-09: exp-1 and exp-6, 2/2; 03-16: exp-8, 0/1.
    expect(await value('experiment_actionable_rate', 'week', '2026-02-02')).toMatchObject(share(0, 0, 0.6, 'no_data'));
    expect(await value('experiment_actionable_rate', 'week', '2026-02-09')).toMatchObject(share(2, 2, 0.6, 'met'));
    expect(await value('experiment_actionable_rate', 'week', '2026-03-16')).toMatchObject(share(0, 1, 0.6, 'breached'));
    expect(await value('experiment_actionable_rate', 'week', '2026-03-02', 'search')).toMatchObject(share(1, 1, 0.6, 'met'));
  });

  it('time_to_experiment_days is the median of first readout - hypothesis_at, by first readout; <= 21', async () => {
    // Days: exp-1 01-13 - 2025-12-22 = 22 (readout A, not B's 43), exp-2 01-15 - 01-01 = 14, exp-5 01-20 - 01-05 = 15, exp-6 01-22 - 01-02 = 20 |
    // exp-4 02-16 - 02-02 = 14, exp-3 02-25 - 02-01 = 24 | f-1 03-03T12 - 02-24 = 7.5, exp-7 03-09 - 02-20 = 17, f-3 03-12 - 03-02 = 10,
    // exp-8 03-16 - 03-01 = 15, f-2 03-24 - 03-01 = 23, f-4 03-31T23 - 03-05 = 26 d 23 h | exp-9 04-15 - 04-01 = 14.
    // January [14, 15, 20, 22] -> (15 + 20)/2 = 17.5; February [14, 24] -> 19; March [7.5, 10, 15, 17, 23, 26.958] -> (15 + 17)/2 = 16.
    expect(judged(await values('time_to_experiment_days', 'month', '2026-01-01', '2026-06-01'))).toEqual([
      { period_start: '2026-01-01', ...plain(17.5, 4, 21, 'met') },
      { period_start: '2026-02-01', ...plain(19, 2, 21, 'met') },
      { period_start: '2026-03-01', ...plain(16, 6, 21, 'met') },
      { period_start: '2026-04-01', ...plain(14, 1, 21, 'met') },
      { period_start: '2026-05-01', ...plain(null, 0, 21, 'no_data') },
    ]);
    // Q1 sorted [7.5, 10, 14, 14, 15, 15, 17, 20, 22, 23, 24, 26.958]: (15 + 17)/2 = 16.
    expect(await value('time_to_experiment_days', 'quarter', '2026-01-01')).toMatchObject(plain(16, 12, 21, 'met'));
    // ranking [7.5, 14, 15, 15, 22, 23] -> 15; search [10, 14, 17, 20, 24, 26.958] -> (17 + 20)/2 = 18.5.
    expect(await value('time_to_experiment_days', 'quarter', '2026-01-01', 'ranking')).toMatchObject(plain(15, 6, 21, 'met'));
    expect(await value('time_to_experiment_days', 'quarter', '2026-01-01', 'search')).toMatchObject(plain(18.5, 6, 21, 'met'));
    expect(await value('time_to_experiment_days', 'quarter', '2026-04-01')).toMatchObject(plain(14, 1, 21, 'met'));
    // January, ranking: [14, 15, 22] -> 15.
    expect(await value('time_to_experiment_days', 'month', '2026-01-01', 'ranking')).toMatchObject(plain(15, 3, 21, 'met'));
    // Weeks: 01-12 [22, 14] -> 18; 02-23 exp-3 24 > 21; 03-30 f-4 26 + 23/24 > 21.
    expect(await value('time_to_experiment_days', 'week', '2026-01-12')).toMatchObject(plain(18, 2, 21, 'met'));
    expect(await value('time_to_experiment_days', 'week', '2026-02-23')).toMatchObject(plain(24, 1, 21, 'breached'));
    expect(await value('time_to_experiment_days', 'week', '2026-03-30', 'search')).toMatchObject(plain(DAYS(26, 23), 1, 21, 'breached'));
  });

  it('shipped_lift sums the improvement of significant wins whose latest decision is ship; >= 0.005 per quarter only', async () => {
    // Shipped (latest decision ship), by decision time: exp-1 02-10 (result = readout B: +0.05, a win; readout A's regression is
    // superseded), exp-2 02-20 (+0.02, not significant -> 0), exp-3 03-05 (lower is better: L = -0.05 -> +0.05, a win), exp-8 03-20
    // (no primary result -> 0), exp-9 05-05 (+0.004, a win). Not shipped: exp-4, exp-5, exp-6. sample_size: the shipped experiments.
    const E1 = 0.5 / 10;
    const E3 = -((190 - 200) / Math.abs(200));
    const E9 = (10.04 - 10) / Math.abs(10);
    expect(judged(await values('shipped_lift', 'month', '2026-01-01', '2026-06-01'))).toEqual([
      { period_start: '2026-01-01', ...plain(0, 0, null, 'no_target') }, // a sum: 0, not null; no monthly target
      { period_start: '2026-02-01', ...plain(E1, 2, null, 'no_target') }, // exp-1 0.05 + exp-2 (not significant) 0
      { period_start: '2026-03-01', ...plain(E3, 2, null, 'no_target') }, // exp-3 0.05 + exp-8 (no result) 0
      { period_start: '2026-04-01', ...plain(0, 0, null, 'no_target') },
      { period_start: '2026-05-01', ...plain(E9, 1, null, 'no_target') },
    ]);
    // Q1: 0.05 + 0.05 = 0.1 >= 0.005; Q2: 0.004 < 0.005; Q3: 0 < 0.005.
    expect(judged(await values('shipped_lift', 'quarter', '2026-01-01', '2026-10-01'))).toEqual([
      { period_start: '2026-01-01', ...plain(E1 + E3, 4, 0.005, 'met') },
      { period_start: '2026-04-01', ...plain(E9, 1, 0.005, 'breached') },
      { period_start: '2026-07-01', ...plain(0, 0, 0.005, 'breached') },
    ]);
    expect(await value('shipped_lift', 'quarter', '2026-01-01', 'ranking')).toMatchObject(plain(E1, 3, 0.005, 'met')); // exp-1, exp-2, exp-8
    expect(await value('shipped_lift', 'quarter', '2026-01-01', 'search')).toMatchObject(plain(E3, 1, 0.005, 'met')); // exp-3
    expect(await value('shipped_lift', 'quarter', '2026-04-01', 'search')).toMatchObject(plain(0, 0, 0.005, 'breached'));
    expect(await value('shipped_lift', 'month', '2026-03-01', 'search')).toMatchObject(plain(E3, 1, null, 'no_target'));
    // Weeks: 02-09 exp-1; 02-16 exp-2 (0); 02-02 exp-1's superseded iterate: nothing.
    expect(await value('shipped_lift', 'week', '2026-02-09')).toMatchObject(plain(E1, 1, null, 'no_target'));
    expect(await value('shipped_lift', 'week', '2026-02-16', 'ranking')).toMatchObject(plain(0, 1, null, 'no_target'));
    expect(await value('shipped_lift', 'week', '2026-02-02')).toMatchObject(plain(0, 0, null, 'no_target'));
  });

  it('guardrail_breaches counts shipped experiments with a significant guardrail regression, by decision; <= 0', async () => {
    // exp-3 (ship, 03-05): ctr guardrail regresses significantly -> 1. exp-4 regresses too but was rolled back -> 0. exp-1's result
    // (readout B) has a non-significant guardrail; its regressing readout A is superseded -> 0. sample_size: experiments decided.
    expect(judged(await values('guardrail_breaches', 'month', '2026-01-01', '2026-06-01'))).toEqual([
      { period_start: '2026-01-01', ...plain(0, 1, 0, 'met') }, // exp-5
      { period_start: '2026-02-01', ...plain(0, 3, 0, 'met') }, // exp-1, exp-6, exp-2
      { period_start: '2026-03-01', ...plain(1, 3, 0, 'breached') }, // exp-3, exp-4, exp-8
      { period_start: '2026-04-01', ...plain(0, 0, 0, 'met') },
      { period_start: '2026-05-01', ...plain(0, 1, 0, 'met') }, // exp-9
    ]);
    expect(await value('guardrail_breaches', 'quarter', '2026-01-01')).toMatchObject(plain(1, 7, 0, 'breached'));
    expect(await value('guardrail_breaches', 'quarter', '2026-01-01', 'ranking')).toMatchObject(plain(0, 4, 0, 'met'));
    expect(await value('guardrail_breaches', 'quarter', '2026-01-01', 'search')).toMatchObject(plain(1, 3, 0, 'breached'));
    expect(await value('guardrail_breaches', 'quarter', '2026-04-01')).toMatchObject(plain(0, 1, 0, 'met'));
    // Weeks: 03-02 exp-3 -> 1; 03-09 exp-4 (rollback) -> 0; 02-09 exp-1 and exp-6 -> 0.
    expect(await value('guardrail_breaches', 'week', '2026-03-02')).toMatchObject(plain(1, 1, 0, 'breached'));
    expect(await value('guardrail_breaches', 'week', '2026-03-09', 'search')).toMatchObject(plain(0, 1, 0, 'met'));
    expect(await value('guardrail_breaches', 'week', '2026-02-09')).toMatchObject(plain(0, 2, 0, 'met'));
  });

  it('srm_failure_rate is the share of experiments failing SRM, by latest readout; <= 0.05', async () => {
    // Latest readouts: exp-2 01-15, exp-5 01-20 (1000/1200 at 0.5/0.5: FAIL), exp-6 01-22 (310/98 at 0.75/0.25: pass) | exp-1 02-03
    // (readout B 1000/1000: pass; readout A's 1000/1200 is not the result), exp-4 02-16, exp-3 02-25 | f-1, exp-7, f-3, exp-8, f-2,
    // f-4 in March | exp-9 04-15. Every other split is balanced.
    expect(judged(await values('srm_failure_rate', 'month', '2026-01-01', '2026-06-01'))).toEqual([
      { period_start: '2026-01-01', ...share(1, 3, 0.05, 'breached') }, // 1/3
      { period_start: '2026-02-01', ...share(0, 3, 0.05, 'met') },
      { period_start: '2026-03-01', ...share(0, 6, 0.05, 'met') },
      { period_start: '2026-04-01', ...share(0, 1, 0.05, 'met') },
      { period_start: '2026-05-01', ...share(0, 0, 0.05, 'no_data') },
    ]);
    // Q1: 1/12 = 0.0833 > 0.05. ranking: exp-2, exp-5, exp-1, f-1, exp-8, f-2 -> 1/6; search: exp-6, exp-4, exp-3, exp-7, f-3, f-4 -> 0/6.
    expect(await value('srm_failure_rate', 'quarter', '2026-01-01')).toMatchObject(share(1, 12, 0.05, 'breached'));
    expect(await value('srm_failure_rate', 'quarter', '2026-01-01', 'ranking')).toMatchObject(share(1, 6, 0.05, 'breached'));
    expect(await value('srm_failure_rate', 'quarter', '2026-01-01', 'search')).toMatchObject(share(0, 6, 0.05, 'met'));
    expect(await value('srm_failure_rate', 'quarter', '2026-04-01')).toMatchObject(share(0, 1, 0.05, 'met'));
    expect(await value('srm_failure_rate', 'month', '2026-01-01', 'ranking')).toMatchObject(share(1, 2, 0.05, 'breached')); // exp-2, exp-5
    // Weeks: 01-12 exp-2 only (exp-1's readout A of 01-13 is not its latest) -> 0/1; 01-19 exp-5 + exp-6 -> 1/2; search: exp-6 passes.
    expect(await value('srm_failure_rate', 'week', '2026-01-12')).toMatchObject(share(0, 1, 0.05, 'met'));
    expect(await value('srm_failure_rate', 'week', '2026-01-19')).toMatchObject(share(1, 2, 0.05, 'breached'));
    expect(await value('srm_failure_rate', 'week', '2026-01-19', 'search')).toMatchObject(share(0, 1, 0.05, 'met'));
  });

  it('offline_online_alignment is Pearson r of offline_delta and the primary improvement, by latest readout; >= 0.5', async () => {
    // Pairs (offline_delta, improvement), in units of 0.01, by latest readout: exp-2 (1, 2) 01-15, exp-6 (2, 25) 01-22 | exp-1 (4, 5) 02-03,
    // exp-4 (-1, 1) 02-16, exp-3 (3, 5) 02-25 (lower is better: -L) | exp-7 (5, 4) 03-09 | exp-9 (1, 0.4) 04-15.
    // exp-8 has an offline_delta but no primary result; exp-5 and the fillers have no offline_delta: none of them pairs.
    // February: x = [4, -1, 3], y = [5, 1, 5]; mean x 2, mean y 11/3; dx = [2, -3, 1], dy = [4/3, -8/3, 4/3];
    // Sxy = 8/3 + 24/3 + 4/3 = 12, Sxx = 14, Syy = 96/9 = 32/3 -> r = 12 / sqrt(14 * 32/3) = 0.98198.
    const february = 12 / Math.sqrt((14 * 32) / 3);
    // Q1 (6 pairs): x = [1, 2, 4, -1, 3, 5], y = [2, 25, 5, 1, 5, 4]; mean x 7/3, mean y 7; dx = [-4/3, -1/3, 5/3, -10/3, 2/3, 8/3],
    // dy = [-5, 18, -2, -6, -2, -3]; Sxy = (20 - 18 - 10 + 60 - 4 - 24)/3 = 8, Sxx = 210/9 = 70/3, Syy = 25 + 324 + 4 + 36 + 4 + 9 = 402
    // -> r = 8 / sqrt(70/3 * 402) = 8 / sqrt(9380) = 0.08260.
    const q1 = 8 / Math.sqrt(9380);
    // Q1 search (4 pairs): x = [2, -1, 3, 5], y = [25, 1, 5, 4]; mean x 2.25, mean y 8.75; dx = [-0.25, -3.25, 0.75, 2.75],
    // dy = [16.25, -7.75, -3.75, -4.75]; Sxy = -4.0625 + 25.1875 - 2.8125 - 13.0625 = 5.25, Sxx = 18.75, Syy = 360.75
    // -> r = 5.25 / sqrt(18.75 * 360.75) = 0.06383.
    const q1Search = 5.25 / Math.sqrt(18.75 * 360.75);
    expect(pearson([4, -1, 3], [5, 1, 5])).toBeCloseTo(february, 12); // secondary check of the arithmetic
    expect(pearson([1, 2, 4, -1, 3, 5], [2, 25, 5, 1, 5, 4])).toBeCloseTo(q1, 12);
    expect(judged(await values('offline_online_alignment', 'month', '2026-01-01', '2026-06-01'))).toEqual([
      { period_start: '2026-01-01', ...plain(null, 2, 0.5, 'no_data') }, // 2 pairs < 3
      { period_start: '2026-02-01', ...plain(february, 3, 0.5, 'met') },
      { period_start: '2026-03-01', ...plain(null, 1, 0.5, 'no_data') },
      { period_start: '2026-04-01', ...plain(null, 1, 0.5, 'no_data') },
      { period_start: '2026-05-01', ...plain(null, 0, 0.5, 'no_data') },
    ]);
    expect(await value('offline_online_alignment', 'quarter', '2026-01-01')).toMatchObject(plain(q1, 6, 0.5, 'breached'));
    expect(await value('offline_online_alignment', 'quarter', '2026-01-01', 'search')).toMatchObject(plain(q1Search, 4, 0.5, 'breached'));
    expect(await value('offline_online_alignment', 'quarter', '2026-01-01', 'ranking')).toMatchObject(plain(null, 2, 0.5, 'no_data')); // exp-2, exp-1
    expect(await value('offline_online_alignment', 'quarter', '2026-04-01')).toMatchObject(plain(null, 1, 0.5, 'no_data'));
    expect(await value('offline_online_alignment', 'month', '2026-02-01', 'search')).toMatchObject(plain(null, 2, 0.5, 'no_data'));
    expect(await value('offline_online_alignment', 'week', '2026-02-02')).toMatchObject(plain(null, 1, 0.5, 'no_data')); // exp-1
    expect(await value('offline_online_alignment', 'week', '2026-01-12')).toMatchObject(plain(null, 1, 0.5, 'no_data')); // exp-2 only
  });

  it('experiment KPIs carry no tier: asking for one is a 400 naming tier', async () => {
    for (const kpi of ['experiment_throughput', 'experiment_actionable_rate', 'time_to_experiment_days', 'shipped_lift', 'guardrail_breaches', 'srm_failure_rate', 'offline_online_alignment']) {
      for (const path of [`/v1/kpis/${kpi}/values?granularity=quarter&from=2026-01-01&to=2026-04-01&tier=1`, `/v1/kpis/${kpi}/breakdown?granularity=quarter&period_start=2026-01-01&tier=1`]) {
        const response = await pipeline.get(path);
        expect(response.status, path).toBe(400);
        expect(response.bodyAt(400).message, path).toMatch(/tier/);
      }
      expect((await pipeline.get(`/v1/kpis/${kpi}/values?granularity=quarter&from=2026-01-01&to=2026-04-01&tier=all`)).status).toBe(200);
    }
  });

  it('a breakdown lists exactly the experiments counted, and the readout waiting for its experiment', async () => {
    const breakdown = await pipeline.client.read.get('/v1/kpis/:id/breakdown', { params: { id: 'shipped_lift' }, query: { granularity: 'quarter', period_start: '2026-01-01' } });
    expect(breakdown).toMatchObject({ value: close(0.1), numerator: null, denominator: null, sample_size: 4, target: 0.005, status: 'met' });
    const { entities } = breakdown;
    // Counted: exp-1 (+0.05) and exp-3 (+0.05); anything else listed is a shipped experiment that did not count.
    expect(Object.fromEntries(entities.filter((e) => e.in_numerator).map((e) => [e.entity, e.value]))).toEqual({ 'exp-1': close(0.05), 'exp-3': close(0.05) });
    for (const other of entities.filter((e) => !e.in_numerator)) {
      expect(['exp-2', 'exp-8']).toContain(other.entity);
      expect(other.value ?? 0).toBe(0);
    }
    expect(entities.find((e) => e.entity === 'exp-3')?.team).toBe('search');
    // exp-99's readout has no experiment.started: it waits, counted nowhere.
    expect(breakdown.diagnostics.waiting_for_defining_event.entities).toEqual([{ entity_id: 'exp-99', types: ['experiment.readout'] }]);
    // SRM in January: exp-5 is the failing one, out of exp-2, exp-5, exp-6.
    const srm = await pipeline.client.read.get('/v1/kpis/:id/breakdown', { params: { id: 'srm_failure_rate' }, query: { granularity: 'month', period_start: '2026-01-01', team: 'all' } });
    expect(srm).toMatchObject({ value: close(1 / 3), numerator: 1, denominator: 3 });
    expect(srm.entities.filter((e) => e.in_numerator).map((e) => e.entity)).toEqual(['exp-5']);
    expect(srm.entities.map((e) => e.entity).sort()).toEqual(['exp-2', 'exp-5', 'exp-6']);
  });
});
