import { describe, expect, it } from 'vitest';
import { CATALOG } from '../src/catalog.ts';
import { customKpi, parseCustomKpi } from '../src/custom/definition.ts';
import { granularitiesOf } from '../src/definition.ts';
import { forecastFor, forecastModelOf } from '../src/forecast.ts';

const byId = (id: string) => CATALOG.find((kpi) => kpi.id === id)!;
const quarter = { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z') };
/** The instant a fraction of the quarter has elapsed. */
const at = (fraction: number) => new Date(quarter.start.getTime() + fraction * (quarter.end.getTime() - quarter.start.getTime()));
const custom = (value: object) => customKpi(parseCustomKpi({ id: 'my_kpi', name: 'Mine', unit: 'count', direction: 'higher', source: 'release.deployed', value }));

describe('which KPIs have a forecast (SPEC 5c)', () => {
  it('counts and shares of counts, built-in and custom, but not live coverage', () => {
    const modelled = Object.fromEntries(CATALOG.map((kpi) => [kpi.id, forecastModelOf(kpi) ?? null]));
    expect(modelled).toMatchObject({
      releases_delivered: 'count', experiment_throughput: 'count', guardrail_breaches: 'count', sev0_incidents: 'count', model_incidents: 'count',
      slice_regressions: 'count', tech_debt_closed: 'count', cross_team_reuse: 'count', mentorship_contributions: 'count',
      change_failure_rate: 'share', readiness_first_pass_rate: 'share', srm_failure_rate: 'share', alert_precision: 'share', data_freshness_sla: 'share', data_validation_pass_rate: 'share',
    });
    for (const none of ['time_to_experiment_days', 'time_to_detect_hours', 'calibration_ece', 'shipped_lift', 'offline_online_alignment', 'drift_feature_coverage', 'drift_model_coverage', 'inference_latency_p95_ms', 'inference_cost_per_1k', 'stakeholder_satisfaction', 'fairness_gap']) {
      expect(modelled[none], none).toBeNull();
    }
    expect(forecastModelOf(custom({ agg: 'count' }))).toBe('count');
    expect(forecastModelOf(custom({ agg: 'count_distinct', field: 'data.model_id' }))).toBe('count');
    expect(forecastModelOf(custom({ agg: 'share', match: { 'data.environment': 'production' } }))).toBe('share');
    expect(forecastModelOf(custom({ agg: 'mean', field: 'data.latency' }))).toBeUndefined();
  });

  it('day only for the KPIs that measure daily, and every custom KPI', () => {
    expect(CATALOG.filter((kpi) => granularitiesOf(kpi).includes('day')).map((kpi) => kpi.id).sort()).toEqual(
      ['data_freshness_sla', 'data_validation_pass_rate', 'inference_cost_per_1k', 'inference_latency_p95_ms', 'inference_latency_p99_ms'],
    );
    expect(granularitiesOf(custom({ agg: 'count' }))).toEqual(['day', 'week', 'month', 'quarter', 'year']);
  });
});

describe('forecastFor', () => {
  const releases = byId('releases_delivered');
  const count = { value: 2, numerator: null, denominator: null };
  const goal = { op: '>=' as const, value: 4 };

  it('SPEC: a count of 2 at 40 % of the quarter, target >= 4', () => {
    expect(forecastFor(releases, count, quarter, goal, at(0.4))).toMatchObject({ value: 5.75, low: 2, high: 10, outlook: 'on_track' });
  });

  it('none before a tenth of the period, outside it, without a goal, for a share without trials, or for a median', () => {
    expect(forecastFor(releases, count, quarter, goal, at(0.099))).toBeNull();
    expect(forecastFor(releases, count, quarter, goal, at(0.1))).not.toBeNull();
    expect(forecastFor(releases, count, quarter, goal, quarter.end)).toBeNull();
    expect(forecastFor(releases, count, quarter, undefined, at(0.4))).toBeNull();
    expect(forecastFor(byId('change_failure_rate'), { value: null, numerator: 0, denominator: 0 }, quarter, { op: '<=', value: 0.15 }, at(0.4))).toBeNull();
    expect(forecastFor(byId('time_to_detect_hours'), { value: 3, numerator: null, denominator: null }, quarter, { op: '<=', value: 24 }, at(0.4))).toBeNull();
  });

  it('a share k of n: SPEC value (k + m (k + 0.5) / (n + 1)) / (n + m)', () => {
    // n = 4, f = 0.4: m = round(4 x 0.6 / 0.4) = 6; value = (3 + 6 x 3.5 / 5) / 10 = 0.72.
    const forecast = forecastFor(byId('readiness_first_pass_rate'), { value: 0.75, numerator: 3, denominator: 4 }, quarter, { op: '>=', value: 0.8 }, at(0.4))!;
    expect(forecast.value).toBeCloseTo(0.72, 12);
    expect(forecast.elapsed).toBeCloseTo(0.4, 12);
  });
});
