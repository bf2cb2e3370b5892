import { expect } from 'vitest';
import type { TestPipeline } from './pipeline.ts';

export type KpiValueRow = {
  period_start: string;
  period_end: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  sample_size: number;
  target: number | null;
  status: string;
  previous_value: number | null;
  details: Record<string, unknown>;
};

/** GET /v1/kpis/:id/values helpers for a test file's pipeline (created in its beforeAll). */
export function kpiReader(pipeline: () => TestPipeline) {
  async function values(kpi: string, granularity: string, from: string, to: string, team = 'all', tier = 'all'): Promise<KpiValueRow[]> {
    const response = await pipeline().get(`/v1/kpis/${kpi}/values?granularity=${granularity}&from=${from}&to=${to}&team=${team}&tier=${tier}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.values;
  }
  /** The value of the one period starting at `start` (YYYY-MM-DD). */
  async function value(kpi: string, granularity: 'week' | 'month' | 'quarter', start: string, team = 'all', tier = 'all'): Promise<KpiValueRow> {
    const days = { week: 7, month: 28, quarter: 85 }[granularity];
    const to = new Date(Date.parse(`${start}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
    const [first] = await values(kpi, granularity, start, to, team, tier);
    expect(first!.period_start).toBe(`${start}T00:00:00Z`);
    return first!;
  }
  return { values, value };
}
