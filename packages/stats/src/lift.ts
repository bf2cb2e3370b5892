import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** Summary statistics of one experiment arm; `variance` is the sample variance. */
export interface Arm {
  n: number;
  mean: number;
  variance: number;
}

/** Relative lift of treatment over control with its 95 % confidence interval and two-sided p-value. */
export interface LiftResult {
  lift: number;
  se: number;
  df: number;
  ciLow: number;
  ciHigh: number;
  pValue: number;
}

export type Significance = 'win' | 'regression' | 'none';

export interface Improvement {
  /** Lift signed so that positive is always good. */
  improvement: number;
  /** CI on the improvement scale (bounds swapped and negated when lower is better). */
  ciLow: number;
  ciHigh: number;
  significance: Significance;
}

/** Arm for a conversion rate: GrowthBook's Bernoulli variance p(1 - p), not the n/(n-1) corrected one. */
export function proportionArm(successes: number, n: number): Arm {
  const p = n > 0 ? successes / n : 0;
  return { n, mean: p, variance: p * (1 - p) };
}

// `!(x > 0)` rather than `x <= 0` so NaN inputs also give "no result" instead of NaN output.
const usable = (a: Arm): boolean => a.n >= 2 && a.variance > 0 && Number.isFinite(a.mean);

/**
 * Frequentist relative lift as in GrowthBook's stats engine: delta-method SE of the ratio of
 * means, Welch–Satterthwaite df, Student-t CI and two-sided p. Null when undefined
 * (zero control mean, an arm with n < 2, or a non-positive variance).
 */
export function relativeLift(control: Arm, treatment: Arm): LiftResult | null {
  if (!usable(control) || !usable(treatment) || control.mean === 0) return null;
  const { n: nc, mean: mc, variance: vc } = control;
  const { n: nt, mean: mt, variance: vt } = treatment;

  const lift = (mt - mc) / Math.abs(mc);
  const mc2 = mc * mc;
  const se = Math.sqrt(vt / (nt * mc2) + (mt * mt * vc) / (nc * mc2 * mc2));

  // Welch–Satterthwaite on the raw (unscaled) variances, per the SPEC.
  const at = vt / nt;
  const ac = vc / nc;
  const df = (at + ac) ** 2 / ((at * at) / (nt - 1) + (ac * ac) / (nc - 1));

  const half = tQuantile(0.975, df) * se;
  // 2 F(-|t|) equals 2 (1 - F(|t|)) but keeps precision for tiny p-values.
  const pValue = 2 * tCdf(-Math.abs(lift / se), df);
  return { lift, se, df, ciLow: lift - half, ciHigh: lift + half, pValue };
}

/** Re-express a lift so positive means "better", and classify it by whether the CI excludes 0. */
export function improvement(result: LiftResult, higherIsBetter: boolean): Improvement {
  const [imp, lo, hi] = higherIsBetter
    ? [result.lift, result.ciLow, result.ciHigh]
    : [-result.lift, -result.ciHigh, -result.ciLow];
  const significance: Significance = lo > 0 ? 'win' : hi < 0 ? 'regression' : 'none';
  return { improvement: imp, ciLow: lo, ciHigh: hi, significance };
}
