import { describe, it, expect } from 'vitest';
import { srmTest } from '../src/index.ts';

const close = (actual: number, expected: number, rel = 5e-6) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * rel);

describe('srmTest', () => {
  it('SPEC: (1000, 1200) at 50/50 fails', () => {
    const r = srmTest(1000, 1200)!;
    close(r.chiSquare, 18.1818);
    close(r.pValue, 2.00787e-5);
    expect(r.failed).toBe(true);
  });
  it('SPEC: (310, 98) at 75/25 passes', () => {
    const r = srmTest(310, 98, { control: 0.75, treatment: 0.25 })!;
    close(r.chiSquare, 0.20915);
    close(r.pValue, 0.647434);
    expect(r.failed).toBe(false);
  });
  it('not evaluated without traffic', () => {
    expect(srmTest(0, 0)).toBeNull();
  });
  it('perfect split: X^2 = 0, p = 1', () => {
    expect(srmTest(500, 500)).toEqual({ chiSquare: 0, pValue: 1, failed: false });
  });
  it('hand check: (60, 40) at 50/50 -> X^2 = 4, p = P(|Z| > 2) = 0.0455003', () => {
    const r = srmTest(60, 40)!;
    close(r.chiSquare, 4, 1e-12);
    close(r.pValue, 0.0455003);
  });
  it('tiny p-values stay positive (upper tail, not 1 - cdf)', () => {
    const r = srmTest(1000, 2000)!; // X^2 = 333.33, p ~ 1.6e-74
    expect(r.pValue).toBeGreaterThan(0);
    expect(r.pValue).toBeLessThan(1e-70);
    expect(r.failed).toBe(true);
  });
  it('rejects a non-positive allocation', () => {
    expect(() => srmTest(10, 10, { control: 1, treatment: 0 })).toThrow(RangeError);
  });
});
