import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Gauge, Registry } from 'prom-client';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, granularitiesOf, type KpiDefinition, GRANULARITIES, periodOf, readValuesOf, tierScopes, type Status, type TargetOverride, type ValueReader } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import type { Serve } from '../serve.ts';

const LABELS = ['kpi', 'team', 'tier', 'granularity'] as const;
/** Every status, each a kpi_status series (1 for the current one, 0 for the others); the compiler keeps it complete. */
const STATUSES = Object.keys({ met: 0, breached: 0, no_target: 0, no_data: 0 } satisfies Record<Status, 0>) as Status[];

/** How long an exposition is served before it is rendered again: forecasts move with the clock. */
const FORECAST_RENDER_MS = 60_000;

/**
 * The current period's KPI values as Prometheus metrics, for every granularity a KPI offers, KPI,
 * team scope (the organisation as team="all", and each team seen) and tier: kpi_value,
 * kpi_target, kpi_sample_size and kpi_status{status}, and its forecast (SPEC 5c) as
 * kpi_forecast_value and kpi_forecast_probability_met. A null value, target or forecast is an
 * absent series, never NaN or 0.
 */
export async function kpiExposition(values: ValueReader, catalog: readonly KpiDefinition[], teams: readonly string[], overrides: TargetOverride[], now: Date): Promise<string> {
  const registry = new Registry();
  const gauge = (name: string, help: string, extra: string[] = []) => new Gauge({ name, help, labelNames: [...LABELS, ...extra], registers: [registry] });
  const value = gauge('kpi_value', 'KPI value in the current period of its granularity (SPEC section 5 units: ratios as fractions, durations in hours or days)');
  const target = gauge('kpi_target', 'The target the current value is judged against (for "previous period" targets, the previous value)');
  const sampleSize = gauge('kpi_sample_size', 'How many entities the current value was computed over');
  const status = gauge('kpi_status', 'KPI status in the current period: 1 for the current status (met, breached, no_target, no_data), 0 for the others', ['status']);
  const forecastValue = gauge('kpi_forecast_value', 'Where the current period is expected to end (SPEC 5c: counts and shares with a target, once a tenth of the period has elapsed)');
  const probabilityMet = gauge('kpi_forecast_probability_met', 'The probability that the current period ends meeting its target (SPEC 5c)');

  const tiers = [...new Set(catalog.flatMap(tierScopes))];
  for (const granularity of GRANULARITIES) {
    for (const team of [ALL_TEAMS, ...teams]) {
      for (const tier of tiers) {
        const kpis = catalog.filter((kpi) => tierScopes(kpi).includes(tier) && granularitiesOf(kpi).includes(granularity));
        for (const [kpi, [current]] of await readValuesOf(values, kpis, { granularity, team, tier }, [periodOf(granularity, now)], overrides, now)) {
          if (!current) continue;
          const labels = { kpi, team: team === ALL_TEAMS ? 'all' : team, tier, granularity };
          if (current.value !== null) value.set(labels, current.value);
          if (current.target !== null) target.set(labels, current.target);
          sampleSize.set(labels, current.sample_size);
          for (const candidate of STATUSES) status.set({ ...labels, status: candidate }, candidate === current.status ? 1 : 0);
          if (current.forecast) {
            forecastValue.set(labels, current.forecast.value);
            probabilityMet.set(labels, current.forecast.probability_met);
          }
        }
      }
    }
  }
  return registry.metrics();
}

export const kpiMetricsRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  const { serving } = runtime;
  // The exposition of the served values as they were at `key`: rendered once per change (and once
  // a minute, for the forecasts), however many scrapers ask meanwhile.
  let rendered: { key: string; text: Promise<string> } | undefined;
  app.route({
    ...serve(routes.getKpiMetrics),
    handler: async (_request, reply) => {
      const now = runtime.clock();
      const teams = await serving.knownTeams();
      // The minute is part of the key: forecasts move with the clock, and every period starts on a minute.
      const key = [serving.values.version, teams.join(','), runtime.catalog.list().length, Math.floor(now.getTime() / FORECAST_RENDER_MS)].join('|');
      if (rendered?.key !== key) {
        const text = kpiExposition(serving.values, runtime.catalog.list(), teams, serving.overrides(), now);
        rendered = { key, text };
        text.catch(() => (rendered = rendered?.text === text ? undefined : rendered));
      }
      return reply.header('content-type', Registry.PROMETHEUS_CONTENT_TYPE).send(await rendered.text);
    },
  });
};
