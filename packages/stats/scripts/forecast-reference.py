"""Reference numbers for packages/stats/test/forecast.test.ts, computed independently with scipy.

Run: python3 -m venv /tmp/scipy-venv && /tmp/scipy-venv/bin/pip install scipy
     /tmp/scipy-venv/bin/python packages/stats/scripts/forecast-reference.py
It prints TypeScript literals (17 significant digits) pasted into the test with the scipy version.

- nbinom(r, p) and betabinom(m, a, b): CDF and survival function at a spread of points, and the
  10th / 50th / 90th percentiles (ppf: the smallest x with CDF(x) >= q).
- The forecasts of SPEC section 5c, written out from its text: a count c at elapsed f,
  R ~ NB(c + 0.5, f), F = c + R; a share k of n, m = round(n (1 - f) / f),
  S ~ BetaBinomial(m, k + 0.5, n - k + 0.5), F = (k + S) / (n + m); value, low, high and
  probability_met for a target (op, value).
"""
import math

import scipy
from scipy.stats import betabinom, nbinom

QS = (0.1, 0.5, 0.9)


def points(dist):
    lo, hi = int(dist.ppf(0.001)), int(dist.ppf(0.999))
    return sorted({0, lo, int(dist.ppf(0.1)), int(dist.ppf(0.5)), int(dist.ppf(0.9)), hi, hi + 3})


def num(x):
    return repr(float(x))


def table(dist):
    ks = points(dist)
    cdf = ", ".join(f"[{k}, {num(dist.cdf(k))}]" for k in ks)
    sf = ", ".join(f"[{k}, {num(dist.sf(k - 1))}]" for k in ks)  # P(X >= k)
    ppf = ", ".join(f"[{q}, {int(dist.ppf(q))}]" for q in QS)
    return f"cdf: [{cdf}], sf: [{sf}], quantile: [{ppf}]"


def count_forecast(c, f, op, target):
    dist = nbinom(c + 0.5, f)
    value = c + (c + 0.5) * (1 - f) / f
    low, high = c + dist.ppf(0.1), c + dist.ppf(0.9)
    # F = c + R meets ">= t" when R >= ceil(t - c); "<= t" when R <= floor(t - c).
    if op == ">=":
        need = max(0, math.ceil(target - c))
        p = dist.sf(need - 1)
    else:
        most = math.floor(target - c)
        p = dist.cdf(most) if most >= 0 else 0.0
    return value, low, high, p


def trials(n, f):
    # round half up, as people (and JavaScript's Math.round) round; Python's round() goes to even.
    return math.floor(n * (1 - f) / f + 0.5)


def share_forecast(k, n, f, op, target):
    m = trials(n, f)
    dist = betabinom(m, k + 0.5, n - k + 0.5)
    value = (k + m * (k + 0.5) / (n + 1)) / (n + m)
    low, high = (k + dist.ppf(0.1)) / (n + m), (k + dist.ppf(0.9)) / (n + m)
    # The successes s with (k + s) / (n + m) meeting the target, compared as the status compares it.
    meets = [s for s in range(m + 1) if ((k + s) / (n + m) >= target if op == ">=" else (k + s) / (n + m) <= target)]
    p = float(sum(dist.pmf(s) for s in meets)) if meets else 0.0
    return m, value, low, high, p


print(f"// scipy {scipy.__version__}: packages/stats/scripts/forecast-reference.py")
print("export const NEGATIVE_BINOMIAL = [")
for c in (0, 1, 2, 5, 17, 120, 2000):
    for f in (0.1, 0.25, 0.4, 0.5, 0.73, 0.95):
        r = c + 0.5
        print(f"  {{ r: {r}, p: {f}, {table(nbinom(r, f))} }},")
print("];")
print("export const BETA_BINOMIAL = [")
for n, k in ((1, 0), (1, 1), (3, 1), (10, 9), (10, 0), (57, 41), (400, 396), (3000, 2790)):
    for f in (0.1, 0.4, 0.73, 0.95):
        m = trials(n, f)
        print(f"  {{ m: {m}, alpha: {k + 0.5}, beta: {n - k + 0.5}, {table(betabinom(m, k + 0.5, n - k + 0.5))} }},")
print("];")
print("export const COUNT_FORECASTS = [")
for c, f, op, target in ((2, 0.4, ">=", 4), (0, 0.1, ">=", 1), (0, 0.73, ">=", 1), (3, 0.5, ">=", 12), (9, 0.61, ">=", 12), (1, 0.3, "<=", 0), (0, 0.3, "<=", 0), (4, 0.5, "<=", 6), (2, 0.4, ">=", 2.5), (150, 0.2, ">=", 800)):
    value, low, high, p = count_forecast(c, f, op, target)
    print(f"  {{ c: {c}, f: {f}, op: '{op}', target: {target}, value: {num(value)}, low: {num(low)}, high: {num(high)}, probability_met: {num(p)} }},")
print("];")
print("export const SHARE_FORECASTS = [")
for k, n, f, op, target in ((1, 3, 0.4, ">=", 0.5), (3, 4, 0.4, ">=", 0.8), (4, 4, 0.4, ">=", 0.8), (1, 1, 0.1, ">=", 0.99), (9, 10, 0.5, ">=", 0.9), (0, 5, 0.25, "<=", 0.15), (2, 5, 0.6, "<=", 0.15), (57, 60, 0.8, ">=", 0.95), (990, 1000, 0.3, ">=", 0.99)):
    m, value, low, high, p = share_forecast(k, n, f, op, target)
    print(f"  {{ k: {k}, n: {n}, f: {f}, op: '{op}', target: {target}, m: {m}, value: {num(value)}, low: {num(low)}, high: {num(high)}, probability_met: {num(p)} }},")
print("];")
