/**
 * Discrete distributions of the forecasts (SPEC §5c), computed exactly from their probability
 * mass functions, never by simulation. Both are unimodal, and each mass P(k + 1) follows from P(k)
 * by a rational factor, so a distribution is tabulated outwards from its mode with those factors,
 * as far as a mass is not below 1e-20 of the mode's (what is left beyond cannot move a CDF by
 * 1e-17), and normalised by the sum: no gamma function of large arguments, no cancellation, and
 * the work grows with the spread of the distribution (a few hundred terms for the counts of a
 * quarter), not with its mean.
 */
export interface DiscreteDistribution {
  /** P(X <= k), for any integer k. */
  cdf(k: number): number;
  /** P(X >= k), for any integer k (summed from the upper tail, so small probabilities keep their digits). */
  sf(k: number): number;
  /** The smallest integer k with P(X <= k) >= q, for q in (0, 1]. */
  quantile(q: number): number;
}

/** Masses below this fraction of the mode's are left out. */
const NEGLIGIBLE = 1e-20;

/**
 * The distribution on 0..max (max may be Infinity) whose masses satisfy P(k + 1) = P(k) ratio(k),
 * tabulated from its mode; `near` is where to start looking for the mode (its mean will do).
 */
function tabulated(ratio: (k: number) => number, max: number, near: number): DiscreteDistribution {
  let mode = Math.min(max, Math.max(0, Math.round(near)));
  while (mode < max && ratio(mode) > 1) mode++;
  while (mode > 0 && ratio(mode - 1) < 1) mode--;
  const right = [1];
  for (let k = mode, mass = 1; k < max; k++) {
    mass *= ratio(k);
    if (!(mass >= NEGLIGIBLE)) break;
    right.push(mass);
  }
  const left: number[] = [];
  for (let k = mode, mass = 1; k > 0; k--) {
    mass /= ratio(k - 1);
    if (!(mass >= NEGLIGIBLE)) break;
    left.push(mass);
  }
  const masses = left.reverse().concat(right);
  const first = mode - left.length;
  // Cumulative sums from each end, the small terms first. (Plain arrays: V8 keeps their doubles
  // unboxed, and a small one costs far less to allocate than a typed array's buffer.)
  const below: number[] = [];
  const above: number[] = new Array<number>(masses.length);
  for (let i = 0, sum = 0; i < masses.length; i++) below.push((sum += masses[i]!));
  for (let i = masses.length - 1, sum = 0; i >= 0; i--) above[i] = sum += masses[i]!;
  const total = below[masses.length - 1]!;
  const last = first + masses.length - 1;
  return {
    cdf: (k) => (k < first ? 0 : k >= last ? 1 : below[k - first]! / total),
    sf: (k) => (k <= first ? 1 : k > last ? 0 : above[k - first]! / total),
    quantile(q) {
      // The first index whose cumulative mass reaches q (binary search; `below` increases).
      let lo = 0;
      let hi = masses.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (below[mid]! / total >= q) hi = mid;
        else lo = mid + 1;
      }
      return first + lo;
    },
  };
}

/**
 * NB(r, p): the failures before the r-th success (r > 0 real, 0 < p <= 1),
 * P(R = k) = Γ(k + r) / (k! Γ(r)) p^r (1 - p)^k; scipy's `nbinom(r, p)`.
 */
export function negativeBinomial(r: number, p: number): DiscreteDistribution {
  if (!(r > 0) || !(p > 0 && p <= 1)) throw new RangeError(`negative binomial needs r > 0 and 0 < p <= 1, got r = ${r}, p = ${p}`);
  return tabulated((k) => ((k + r) / (k + 1)) * (1 - p), p === 1 ? 0 : Infinity, (r * (1 - p)) / p);
}

/**
 * Beta-binomial: successes in m trials whose success probability is Beta(alpha, beta),
 * P(S = s) = C(m, s) B(s + alpha, m - s + beta) / B(alpha, beta); scipy's `betabinom(m, alpha, beta)`.
 */
export function betaBinomial(m: number, alpha: number, beta: number): DiscreteDistribution {
  if (!Number.isInteger(m) || m < 0 || !(alpha > 0) || !(beta > 0)) throw new RangeError(`beta-binomial needs an integer m >= 0 and alpha, beta > 0, got m = ${m}, alpha = ${alpha}, beta = ${beta}`);
  return tabulated((s) => ((m - s) / (s + 1)) * ((s + alpha) / (m - s - 1 + beta)), m, (m * alpha) / (alpha + beta));
}
