import { expect } from 'vitest';
import type { Granularity, KpiValue, Status, Tier } from '@kpi/api-contract';
import type { TestPipeline } from './pipeline.ts';

/** The expected value of one period, worked out by hand. */
export type Expected = { value: number | null; numerator: number | null; denominator: number | null; sample_size: number; target: number | null; status: Status };
/** A ratio num/den (null when den = 0); sample_size = den unless given. */
export const ratio = (numerator: number, denominator: number, target: number | null, status: Status, sample_size = denominator): Expected => ({
  value: denominator === 0 ? null : numerator / denominator,
  numerator,
  denominator,
  sample_size,
  target,
  status,
});
/** A count: no numerator nor denominator. */
export const count = (n: number, sample_size: number, target: number | null, status: Status): Expected => ({ value: n, numerator: null, denominator: null, sample_size, target, status });
/** Rounded to 12 decimals: expected and actual values computed in different orders compare equal. */
export const round = (x: number | null) => (x === null ? null : Math.round(x * 1e12) / 1e12);
const comparable = (v: Expected) => ({ ...v, value: round(v.value), target: round(v.target) });
/** One expected value: of the period of `granularity` starting at `start` (YYYY-MM-DD), for a team and tier scope. */
export type ExpectedRow = [granularity: Granularity, start: string, team: string, tier: Tier, expected: Expected];

/** GET /v1/kpis/:id/values through the typed client, for a test file's pipeline (created in its beforeAll). */
export function kpiReader(pipeline: () => TestPipeline) {
  async function values(kpi: string, granularity: Granularity, from: string, to: string, team = 'all', tier: Tier = 'all'): Promise<KpiValue[]> {
    return (await pipeline().client.read.get('/v1/kpis/:id/values', { params: { id: kpi }, query: { granularity, from, to, team, tier } })).values;
  }
  /** The value of the one period starting at `start` (YYYY-MM-DD). */
  async function value(kpi: string, granularity: Granularity, start: string, team = 'all', tier: Tier = 'all'): Promise<KpiValue> {
    const days = { day: 1, week: 7, month: 28, quarter: 85, year: 360 }[granularity];
    const to = new Date(Date.parse(`${start}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
    const [first] = await values(kpi, granularity, start, to, team, tier);
    expect(first!.period_start).toBe(`${start}T00:00:00Z`);
    return first!;
  }
  /** Checks every row (soft: each mismatch is reported, the rest still run). */
  async function check(kpi: string, rows: ExpectedRow[]) {
    for (const [granularity, start, team, tier, expected] of rows) {
      const got = await value(kpi, granularity, start, team, tier);
      const actual = { value: got.value, numerator: got.numerator, denominator: got.denominator, sample_size: got.sample_size, target: got.target, status: got.status };
      expect.soft(comparable(actual), `${kpi} ${granularity} ${start} team=${team} tier=${tier}`).toEqual(comparable(expected));
    }
  }
  return { values, value, check };
}
