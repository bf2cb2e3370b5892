import { describe, it, expect } from 'vitest';
import { mean, variance, pearson, quantile, median, p90 } from '../src/index.ts';

describe('mean / variance', () => {
  it('computes and handles empty input', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([])).toBeNull();
    expect(variance([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(32 / 7, 12);
    expect(variance([1])).toBeNull();
  });
});

describe('pearson', () => {
  it('perfectly linear sets give ±1', () => {
    expect(pearson([1, 2, 3, 4], [3, 5, 7, 9])).toBe(1);
    expect(pearson([1, 2, 3, 4], [8, 6, 4, 2])).toBe(-1);
  });
  it('hand check: x=[1,2,3], y=[1,3,2] -> 1/(sqrt 2 sqrt 2) = 0.5', () => {
    expect(pearson([1, 2, 3], [1, 3, 2])).toBeCloseTo(0.5, 12);
  });
  it('null with fewer than 3 pairs', () => {
    expect(pearson([1, 2], [2, 4])).toBeNull();
    expect(pearson([], [])).toBeNull();
  });
  it('null when either side has zero variance', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(pearson([1, 2, 3], [5, 5, 5])).toBeNull();
  });
  it('throws on mismatched lengths', () => {
    expect(() => pearson([1, 2, 3], [1, 2])).toThrow(RangeError);
  });
});

describe('quantile (R type 7)', () => {
  it('hand checks', () => {
    expect(quantile([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 12); // h = 2.7 -> 3 + 0.7 * (4 - 3)
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3); // unsorted input
    expect(p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBeCloseTo(9.1, 12); // h = 8.1
    expect(quantile([10, 20], 0)).toBe(10);
    expect(quantile([10, 20], 1)).toBe(20);
  });
  it('single element is every quantile', () => {
    expect(median([7])).toBe(7);
    expect(p90([7])).toBe(7);
  });
  it('null for an empty list', () => {
    expect(median([])).toBeNull();
    expect(p90([])).toBeNull();
  });
  it('does not mutate its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it('rejects q outside [0, 1]', () => {
    expect(() => quantile([1, 2], 1.5)).toThrow(RangeError);
  });
});
