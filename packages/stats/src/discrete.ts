/**
 * Discrete distributions of the forecasts (SPEC §5c), computed exactly from their probability
 * mass functions, never by simulation. Both are unimodal, and each mass P(k + 1) follows from P(k)
 * by a rational factor, so a distribution is tabulated outwards from its mode with those factors,
 * as far as a mass is not below 1e-16 of the mode's (what is left beyond cannot move a CDF by
 * 1e-13), and normalised by the sum: no gamma function of large arguments, no cancellation, and
 * the work grows with the spread of the distribution (a few hundred terms for the counts of a
 * quarter), not with its mean.
 */
export interface DiscreteDistribution {
  /** P(X <= k), for any integer k. */
  cdf(k: number): number;
  /** P(X >= k), for any integer k. */
  sf(k: number): number;
  /** The smallest integer k with P(X <= k) >= q, for q in (0, 1]. */
  quantile(q: number): number;
}

/** Masses below this fraction of the mode's are left out (together far below the 1e-9 the forecasts need). */
const NEGLIGIBLE = 1e-16;

/**
 * The distribution on 0..max (max may be Infinity) whose masses satisfy P(k + 1) = P(k) ratio(k),
 * tabulated from its mode; `near` is where to start looking for the mode (its mean will do). A
 * class: its methods are made once, not per distribution (reads compute one per forecast).
 */
class Tabulated implements DiscreteDistribution {
  /** The lowest value tabulated, and the cumulative masses from it (unnormalised). */
  private readonly first: number;
  private readonly below: number[] = [];
  private readonly total: number;

  constructor(ratio: (k: number) => number, max: number, near: number) {
    let mode = Math.min(max, Math.max(0, Math.round(near)));
    while (mode < max && ratio(mode) > 1) mode++;
    while (mode > 0 && ratio(mode - 1) < 1) mode--;
    // Below the mode (walked down), then from the mode up. Plain arrays: V8 keeps their doubles
    // unboxed, and a small one costs far less to allocate than a typed array's buffer.
    const left: number[] = [];
    for (let k = mode, mass = 1; k > 0; k--) {
      mass /= ratio(k - 1);
      if (!(mass >= NEGLIGIBLE)) break;
      left.push(mass);
    }
    this.first = mode - left.length;
    // Summed from the lowest, the small terms first.
    let total = 0;
    for (let i = left.length - 1; i >= 0; i--) this.below.push((total += left[i]!));
    this.below.push((total += 1));
    for (let k = mode, mass = 1; k < max; k++) {
      mass *= ratio(k);
      if (!(mass >= NEGLIGIBLE)) break;
      this.below.push((total += mass));
    }
    this.total = total;
  }

  cdf(k: number): number {
    const index = k - this.first;
    return index < 0 ? 0 : index >= this.below.length - 1 ? 1 : this.below[index]! / this.total;
  }

  sf(k: number): number {
    return 1 - this.cdf(k - 1);
  }

  quantile(q: number): number {
    // The first index whose cumulative mass reaches q (binary search; `below` increases).
    let lo = 0;
    let hi = this.below.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.below[mid]! / this.total >= q) hi = mid;
      else lo = mid + 1;
    }
    return this.first + lo;
  }
}

/**
 * NB(r, p): the failures before the r-th success (r > 0 real, 0 < p <= 1),
 * P(R = k) = Γ(k + r) / (k! Γ(r)) p^r (1 - p)^k; scipy's `nbinom(r, p)`.
 */
export function negativeBinomial(r: number, p: number): DiscreteDistribution {
  if (!(r > 0) || !(p > 0 && p <= 1)) throw new RangeError(`negative binomial needs r > 0 and 0 < p <= 1, got r = ${r}, p = ${p}`);
  return new Tabulated((k) => ((k + r) / (k + 1)) * (1 - p), p === 1 ? 0 : Infinity, (r * (1 - p)) / p);
}

/**
 * Beta-binomial: successes in m trials whose success probability is Beta(alpha, beta),
 * P(S = s) = C(m, s) B(s + alpha, m - s + beta) / B(alpha, beta); scipy's `betabinom(m, alpha, beta)`.
 */
export function betaBinomial(m: number, alpha: number, beta: number): DiscreteDistribution {
  if (!Number.isInteger(m) || m < 0 || !(alpha > 0) || !(beta > 0)) throw new RangeError(`beta-binomial needs an integer m >= 0 and alpha, beta > 0, got m = ${m}, alpha = ${alpha}, beta = ${beta}`);
  return new Tabulated((s) => ((m - s) / (s + 1)) * ((s + alpha) / (m - s - 1 + beta)), m, (m * alpha) / (alpha + beta));
}
