import { expect } from 'vitest';
import type { Granularity, KpiValue, Tier } from '@kpi/api-contract';
import type { TestPipeline } from './pipeline.ts';

/** GET /v1/kpis/:id/values through the typed client, for a test file's pipeline (created in its beforeAll). */
export function kpiReader(pipeline: () => TestPipeline) {
  async function values(kpi: string, granularity: Granularity, from: string, to: string, team = 'all', tier: Tier = 'all'): Promise<KpiValue[]> {
    return (await pipeline().client.read.get('/v1/kpis/:id/values', { params: { id: kpi }, query: { granularity, from, to, team, tier } })).values;
  }
  /** The value of the one period starting at `start` (YYYY-MM-DD). */
  async function value(kpi: string, granularity: Granularity, start: string, team = 'all', tier: Tier = 'all'): Promise<KpiValue> {
    const days = { week: 7, month: 28, quarter: 85 }[granularity];
    const to = new Date(Date.parse(`${start}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
    const [first] = await values(kpi, granularity, start, to, team, tier);
    expect(first!.period_start).toBe(`${start}T00:00:00Z`);
    return first!;
  }
  return { values, value };
}
