import { betaBinomial, negativeBinomial, type DiscreteDistribution } from './discrete.ts';

/**
 * Where a period will end (SPEC §5c), from what it holds so far and the fraction f of it that has
 * elapsed: the final value F's posterior mean, its 10th and 90th percentiles, and the probability
 * that F meets a target.
 */
export interface Forecast {
  value: number;
  low: number;
  high: number;
  probability_met: number;
  outlook: 'on_track' | 'at_risk';
  elapsed: number;
}

export interface Goal {
  op: '>=' | '<=';
  value: number;
}

/** No forecast before this fraction of a period has elapsed. */
export const FORECAST_MIN_ELAPSED = 0.1;
const LOW = 0.1;
const HIGH = 0.9;

/** Whether a final value is at or past the goal's value, in the direction that makes `op` hold (>=), or fail (<=). */
const reaches = (final: number, goal: Goal) => (goal.op === '>=' ? final >= goal.value : final > goal.value);

/**
 * The forecast of a final value F = at(X) for X of `distribution`, where `at` increases with X:
 * percentiles are at(percentile of X), and P(F meets the goal) sums the masses of the X whose
 * F does, found from the first X past the goal (the goal compared as the status compares it).
 */
function forecastOf(distribution: DiscreteDistribution, at: (x: number) => number, near: number, value: number, goal: Goal, elapsed: number): Forecast {
  // The smallest x with at(x) >= goal (or > goal, for <=), from an estimate corrected both ways.
  let first = Math.max(0, Math.ceil(near));
  while (first > 0 && reaches(at(first - 1), goal)) first--;
  while (!reaches(at(first), goal)) first++;
  const probability = goal.op === '>=' ? distribution.sf(first) : distribution.cdf(first - 1);
  return {
    value,
    low: at(distribution.quantile(LOW)),
    high: at(distribution.quantile(HIGH)),
    probability_met: probability,
    outlook: probability >= 0.5 ? 'on_track' : 'at_risk',
    elapsed,
  };
}

/**
 * A count c so far, at elapsed f: the period's rate has the posterior Gamma(c + 0.5, f) (the
 * whole period as unit), the rest adds R ~ NB(c + 0.5, f), F = c + R.
 */
export function forecastCount(c: number, f: number, goal: Goal): Forecast {
  const r = c + 0.5;
  return forecastOf(negativeBinomial(r, f), (x) => c + x, goal.value - c, c + (r * (1 - f)) / f, goal, f);
}

/**
 * A share k of n (n >= 1) so far, at elapsed f: m = round(n (1 - f) / f) more trials with
 * S ~ BetaBinomial(m, k + 0.5, n - k + 0.5) successes, F = (k + S) / (n + m).
 */
export function forecastShare(k: number, n: number, f: number, goal: Goal): Forecast {
  const m = Math.round((n * (1 - f)) / f);
  const at = (s: number) => (k + s) / (n + m);
  return forecastOf(betaBinomial(m, k + 0.5, n - k + 0.5), at, goal.value * (n + m) - k, (k + (m * (k + 0.5)) / (n + 1)) / (n + m), goal, f);
}
