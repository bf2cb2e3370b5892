import { describe, expect, it } from 'vitest';
import { betaBinomial, forecastCount, forecastShare, negativeBinomial, type DiscreteDistribution } from '../src/index.ts';
import { BETA_BINOMIAL, COUNT_FORECASTS, NEGATIVE_BINOMIAL, SHARE_FORECASTS } from './forecast-reference.ts';

// Every expected number comes from scipy (nbinom, betabinom), through
// packages/stats/scripts/forecast-reference.py, pasted in forecast-reference.ts.
const TOLERANCE = 1e-9;
const near = (actual: number, expected: number, what: string) => expect(Math.abs(actual - expected), `${what}: ${actual} vs scipy ${expected}`).toBeLessThanOrEqual(TOLERANCE);

interface Reference {
  cdf: number[][];
  sf: number[][];
  quantile: number[][];
}

function matches(distribution: DiscreteDistribution, reference: Reference, name: string) {
  for (const [k, p] of reference.cdf) near(distribution.cdf(k!), p!, `${name} CDF(${k})`);
  for (const [k, p] of reference.sf) near(distribution.sf(k!), p!, `${name} P(X >= ${k})`);
  for (const [q, k] of reference.quantile) expect(distribution.quantile(q!), `${name} quantile(${q})`).toBe(k);
}

describe('negative binomial NB(r, p) against scipy.stats.nbinom', () => {
  it.each(NEGATIVE_BINOMIAL.map((row) => [`r = ${row.r}, p = ${row.p}`, row] as const))('%s', (name, row) => matches(negativeBinomial(row.r, row.p), row, name));

  it('CDFs of the whole grid below and between the reference points are monotone and end at 1', () => {
    for (const { r, p } of NEGATIVE_BINOMIAL) {
      const distribution = negativeBinomial(r, p);
      expect(distribution.cdf(-1)).toBe(0);
      let previous = 0;
      for (let k = 0; k < 200; k++) {
        const cdf = distribution.cdf(k);
        expect(cdf).toBeGreaterThanOrEqual(previous);
        near(cdf + distribution.sf(k + 1), 1, `CDF(${k}) + P(X > ${k}), r = ${r}, p = ${p}`);
        previous = cdf;
      }
    }
  });

  it('refuses parameters outside its domain', () => {
    expect(() => negativeBinomial(0, 0.5)).toThrow(RangeError);
    expect(() => negativeBinomial(1, 0)).toThrow(RangeError);
  });
});

describe('beta-binomial BB(m, alpha, beta) against scipy.stats.betabinom', () => {
  it.each(BETA_BINOMIAL.map((row) => [`m = ${row.m}, alpha = ${row.alpha}, beta = ${row.beta}`, row] as const))('%s', (name, row) => matches(betaBinomial(row.m, row.alpha, row.beta), row, name));

  it('m = 0 is a point mass at 0', () => {
    const distribution = betaBinomial(0, 1.5, 2.5);
    expect([distribution.cdf(0), distribution.sf(1), distribution.quantile(0.9)]).toEqual([1, 0, 0]);
  });

  it('refuses parameters outside its domain', () => {
    expect(() => betaBinomial(2.5, 1, 1)).toThrow(RangeError);
    expect(() => betaBinomial(3, 0, 1)).toThrow(RangeError);
  });
});

describe('SPEC 5c forecasts against the same definitions written with scipy', () => {
  it('SPEC: a count of 2 at 40 % of the period, target >= 4: 5.75, band [2, 10], P(met) = 0.747', () => {
    const forecast = forecastCount(2, 0.4, { op: '>=', value: 4 });
    // By hand: value = 2 + 2.5 x 0.6 / 0.4; P(R >= 2) = 1 - 0.4^2.5 (1 + 2.5 x 0.6).
    near(forecast.value, 5.75, 'value');
    near(forecast.probability_met, 1 - 0.4 ** 2.5 * (1 + 2.5 * 0.6), 'probability_met');
    expect(forecast).toMatchObject({ low: 2, high: 10, outlook: 'on_track', elapsed: 0.4 });
  });

  it.each(COUNT_FORECASTS.map((row) => [`c = ${row.c}, f = ${row.f}, ${row.op} ${row.target}`, row] as const))('count %s', (_name, row) => {
    const forecast = forecastCount(row.c, row.f, { op: row.op as '>=' | '<=', value: row.target });
    near(forecast.value, row.value, 'value');
    near(forecast.low, row.low, 'low');
    near(forecast.high, row.high, 'high');
    near(forecast.probability_met, row.probability_met, 'probability_met');
    expect(forecast.outlook).toBe(row.probability_met >= 0.5 ? 'on_track' : 'at_risk');
    expect(forecast.elapsed).toBe(row.f);
  });

  it.each(SHARE_FORECASTS.map((row) => [`k = ${row.k} of ${row.n}, f = ${row.f}, ${row.op} ${row.target}`, row] as const))('share %s', (_name, row) => {
    const forecast = forecastShare(row.k, row.n, row.f, { op: row.op as '>=' | '<=', value: row.target });
    near(forecast.value, row.value, 'value');
    near(forecast.low, row.low, 'low');
    near(forecast.high, row.high, 'high');
    near(forecast.probability_met, row.probability_met, 'probability_met');
    expect(forecast.outlook).toBe(row.probability_met >= 0.5 ? 'on_track' : 'at_risk');
  });
});
