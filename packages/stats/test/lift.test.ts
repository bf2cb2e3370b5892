import { describe, it, expect } from 'vitest';
import { relativeLift, improvement, proportionArm, type Arm, type LiftResult } from '../src/index.ts';

// Relative closeness to ~6 significant digits (the SPEC's printed precision).
const close = (actual: number, expected: number, rel = 5e-6) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * rel);

describe('relativeLift — SPEC worked examples', () => {
  it('means with sample variances', () => {
    const r = relativeLift({ n: 3407, mean: 0.41, variance: 15.21 }, { n: 3461, mean: 0.7, variance: 38.44 })!;
    close(r.lift, 0.707317);
    close(r.se, 0.378794);
    close(r.df, 5841.74);
    close(r.ciLow, -0.0352601);
    close(r.ciHigh, 1.44989);
    close(r.pValue, 0.0619118);
  });

  it('conversion rates with p(1-p) variance', () => {
    const r = relativeLift(proportionArm(14, 28), proportionArm(16, 30))!;
    close(r.lift, 0.0666667);
    close(r.se, 0.271699);
    close(r.df, 55.7074);
    close(r.ciLow, -0.477674);
    close(r.ciHigh, 0.611007);
    close(r.pValue, 0.807072);
  });
});

describe('relativeLift — no result', () => {
  const ok: Arm = { n: 100, mean: 1, variance: 1 };
  it('null when the control mean is 0', () => {
    expect(relativeLift({ ...ok, mean: 0 }, ok)).toBeNull();
  });
  it('null when an arm has n < 2', () => {
    expect(relativeLift({ ...ok, n: 1 }, ok)).toBeNull();
    expect(relativeLift(ok, { ...ok, n: 0 })).toBeNull();
  });
  it('null when a variance is <= 0 (or NaN)', () => {
    expect(relativeLift({ ...ok, variance: 0 }, ok)).toBeNull();
    expect(relativeLift(ok, { ...ok, variance: -1 })).toBeNull();
    expect(relativeLift(ok, { ...ok, variance: Number.NaN })).toBeNull();
    expect(relativeLift(proportionArm(0, 50), proportionArm(3, 50))).toBeNull(); // p=0 => v=0
  });
});

describe('relativeLift — properties', () => {
  it('uses |m_c| so a rise from a negative control is a positive lift', () => {
    const r = relativeLift({ n: 50, mean: -2, variance: 1 }, { n: 50, mean: -1, variance: 1 })!;
    close(r.lift, 0.5);
  });
  it('keeps tiny p-values accurate instead of rounding to 0', () => {
    const r = relativeLift({ n: 10000, mean: 1, variance: 1 }, { n: 10000, mean: 1.2, variance: 1 })!;
    // t = 12.80 on ~20k df: p ~ 2.2e-37, which 1 - F(|t|) would round to exactly 0.
    expect(r.pValue).toBeGreaterThan(1e-37);
    expect(r.pValue).toBeLessThan(1e-36);
  });
  it('identical arms: lift 0, p = 1, symmetric CI', () => {
    const a: Arm = { n: 40, mean: 3, variance: 2 };
    const r = relativeLift(a, a)!;
    expect(r.lift).toBe(0);
    close(r.pValue, 1);
    close(r.ciHigh, -r.ciLow);
  });
});

describe('improvement', () => {
  const win: LiftResult = { lift: 0.1, se: 0.02, df: 100, ciLow: 0.05, ciHigh: 0.15, pValue: 1e-6 };
  const flat: LiftResult = { lift: 0.01, se: 0.02, df: 100, ciLow: -0.03, ciHigh: 0.05, pValue: 0.6 };

  it('higher is better: positive CI is a win', () => {
    expect(improvement(win, true)).toEqual({ improvement: 0.1, ciLow: 0.05, ciHigh: 0.15, significance: 'win' });
  });
  it('lower is better flips the sign and the verdict', () => {
    expect(improvement(win, false)).toEqual({ improvement: -0.1, ciLow: -0.15, ciHigh: -0.05, significance: 'regression' });
    const drop: LiftResult = { ...win, lift: -0.1, ciLow: -0.15, ciHigh: -0.05 };
    expect(improvement(drop, false).significance).toBe('win');
    expect(improvement(drop, true).significance).toBe('regression');
  });
  it('a CI spanning 0 is neither', () => {
    expect(improvement(flat, true).significance).toBe('none');
    expect(improvement(flat, false).significance).toBe('none');
  });
  it('SPEC example 1 (CI spans 0) is not significant either way', () => {
    const r = relativeLift({ n: 3407, mean: 0.41, variance: 15.21 }, { n: 3461, mean: 0.7, variance: 38.44 })!;
    expect(improvement(r, true).significance).toBe('none');
  });
});
