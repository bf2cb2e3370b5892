import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Gauge, Registry } from 'prom-client';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, effectiveOverrides, type KpiDefinition, GRANULARITIES, periodOf, readValuesOf, tierScopes, type Status, type TargetOverride } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import { eventQueries, type Storage } from '@kpi/storage';
import { createValuesCache } from '../cache.ts';
import type { Serve } from '../serve.ts';

const LABELS = ['kpi', 'team', 'tier', 'granularity'] as const;
/** Every status, each a kpi_status series (1 for the current one, 0 for the others); the compiler keeps it complete. */
const STATUSES = Object.keys({ met: 0, breached: 0, no_target: 0, no_data: 0 } satisfies Record<Status, 0>) as Status[];
/** Scopes read at once (one ClickHouse query each). */
const CONCURRENCY = 4;

/**
 * The current period's KPI values as Prometheus metrics, for every granularity, KPI, team scope
 * (the organisation as team="all", and each team seen) and tier: kpi_value, kpi_target,
 * kpi_sample_size and kpi_status{status}. A null value or target is an absent series, never NaN
 * or 0. One query per scope (granularity, team, tier) reads all its KPIs; the rendered text is
 * cached until KPI values or targets change.
 */
export async function kpiExposition(storage: Storage, catalog: readonly KpiDefinition[], overrides: TargetOverride[], now: Date): Promise<string> {
  const registry = new Registry();
  const gauge = (name: string, help: string, extra: string[] = []) => new Gauge({ name, help, labelNames: [...LABELS, ...extra], registers: [registry] });
  const value = gauge('kpi_value', 'KPI value in the current period of its granularity (SPEC section 5 units: ratios as fractions, durations in hours or days)');
  const target = gauge('kpi_target', 'The target the current value is judged against (for "previous period" targets, the previous value)');
  const sampleSize = gauge('kpi_sample_size', 'How many entities the current value was computed over');
  const status = gauge('kpi_status', 'KPI status in the current period: 1 for the current status (met, breached, no_target, no_data), 0 for the others', ['status']);

  const teams = [ALL_TEAMS, ...(await eventQueries.knownTeams(storage))];
  const tiers = [...new Set(catalog.flatMap(tierScopes))];
  const scopes = GRANULARITIES.flatMap((granularity) => teams.flatMap((team) => tiers.map((tier) => ({ granularity, team, tier }))));
  await inBatches(scopes, CONCURRENCY, async (scope) => {
    const kpis = catalog.filter((kpi) => tierScopes(kpi).includes(scope.tier));
    const values = await readValuesOf(storage, kpis, scope, [periodOf(scope.granularity, now)], overrides);
    for (const [kpi, [current]] of values) {
      if (!current) continue;
      const labels = { kpi, team: scope.team === ALL_TEAMS ? 'all' : scope.team, tier: scope.tier, granularity: scope.granularity };
      if (current.value !== null) value.set(labels, current.value);
      if (current.target !== null) target.set(labels, current.target);
      sampleSize.set(labels, current.sample_size);
      for (const candidate of STATUSES) status.set({ ...labels, status: candidate }, candidate === current.status ? 1 : 0);
    }
  });
  return registry.metrics();
}

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let index = 0; index < items.length; index += size) await Promise.all(items.slice(index, index + size).map(work));
}

export const kpiMetricsRoutes = (runtime: Runtime, serve: Serve, fileOverrides: TargetOverride[]): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  const cached = createValuesCache(runtime.queues, 16);
  app.route({
    ...serve(routes.getKpiMetrics),
    handler: async (_request, reply) => {
      const now = new Date();
      // The current periods are part of the key: a new week, month or quarter is a new exposition.
      const key = GRANULARITIES.map((granularity) => periodOf(granularity, now).start.toISOString()).join('|');
      const text = await cached(key, async () => kpiExposition(storage, runtime.catalog.list(), await effectiveOverrides(storage, fileOverrides), now));
      return reply.header('content-type', Registry.PROMETHEUS_CONTENT_TYPE).send(text);
    },
  });
};
