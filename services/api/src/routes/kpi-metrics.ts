import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, granularitiesOf, type KpiDefinition, GRANULARITIES, periodOf, readValuesOf, tierScopes, type Status, type TargetOverride, type ValueReader } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import { readsTeam } from '../access/principal.ts';
import type { Serve } from '../serve.ts';

/** Every status, each a kpi_status series (1 for the current one, 0 for the others); the compiler keeps it complete. */
const STATUSES = Object.keys({ met: 0, breached: 0, no_target: 0, no_data: 0 } satisfies Record<Status, 0>) as Status[];

const METRICS = {
  kpi_value: 'KPI value in the current period of its granularity (SPEC section 5 units: ratios as fractions, durations in hours or days)',
  kpi_target: 'The target the current value is judged against (for "previous period" targets, the previous value)',
  kpi_sample_size: 'How many entities the current value was computed over',
  kpi_status: 'KPI status in the current period: 1 for the current status (met, breached, no_target, no_data), 0 for the others',
  kpi_forecast_value: 'Where the current period is expected to end (SPEC 5c: counts and shares with a target, once a tenth of the period has elapsed)',
  kpi_forecast_probability_met: 'The probability that the current period ends meeting its target (SPEC 5c)',
} as const;

/** How long an exposition is served before it is rendered again: forecasts move with the clock. */
const FORECAST_RENDER_MS = 60_000;

/** Prometheus text exposition format 0.0.4 (what prom-client serves). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value as the exposition format escapes it. */
const labelValue = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/**
 * The current period's KPI values as Prometheus metrics, for every granularity a KPI offers, KPI,
 * team scope given (ALL_TEAMS, the organisation, as team="all") and tier: kpi_value, kpi_target,
 * kpi_sample_size and kpi_status{status}, and its forecast (SPEC 5c) as kpi_forecast_value and
 * kpi_forecast_probability_met. A null value, target or forecast is an absent series, never NaN
 * or 0. Written as text directly: tens of thousands of series, rendered on the request path, one
 * team scope at a time with the event loop free in between, so that the reads arriving meanwhile
 * are answered at once rather than after the whole exposition.
 */
export async function kpiExposition(values: ValueReader, catalog: readonly KpiDefinition[], teamScopes: readonly string[], overrides: TargetOverride[], now: Date): Promise<string> {
  const lines: Record<keyof typeof METRICS, string[]> = { kpi_value: [], kpi_target: [], kpi_sample_size: [], kpi_status: [], kpi_forecast_value: [], kpi_forecast_probability_met: [] };
  const tiers = [...new Set(catalog.flatMap(tierScopes))];
  for (const granularity of GRANULARITIES) {
    for (const team of teamScopes) {
      await yieldToEventLoop();
      for (const tier of tiers) {
        const kpis = catalog.filter((kpi) => tierScopes(kpi).includes(tier) && granularitiesOf(kpi).includes(granularity));
        for (const [kpi, [current]] of await readValuesOf(values, kpis, { granularity, team, tier }, [periodOf(granularity, now)], overrides, now)) {
          if (!current) continue;
          const labels = `kpi="${labelValue(kpi)}",team="${labelValue(team === ALL_TEAMS ? 'all' : team)}",tier="${tier}",granularity="${granularity}"`;
          if (current.value !== null) lines.kpi_value.push(`kpi_value{${labels}} ${current.value}`);
          if (current.target !== null) lines.kpi_target.push(`kpi_target{${labels}} ${current.target}`);
          lines.kpi_sample_size.push(`kpi_sample_size{${labels}} ${current.sample_size}`);
          for (const candidate of STATUSES) lines.kpi_status.push(`kpi_status{${labels},status="${candidate}"} ${candidate === current.status ? 1 : 0}`);
          if (current.forecast) {
            lines.kpi_forecast_value.push(`kpi_forecast_value{${labels}} ${current.forecast.value}`);
            lines.kpi_forecast_probability_met.push(`kpi_forecast_probability_met{${labels}} ${current.forecast.probability_met}`);
          }
        }
      }
    }
  }
  return (Object.keys(METRICS) as (keyof typeof METRICS)[]).map((name) => `# HELP ${name} ${METRICS[name]}\n# TYPE ${name} gauge\n${lines[name].map((line) => `${line}\n`).join('')}`).join('\n');
}

export const kpiMetricsRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  const { serving } = runtime;
  // The exposition of the served values as they were at `key`, per set of team scopes (the
  // organisation's principals share one, each team-scoped set has its own): rendered once per
  // change (and once a minute, for the forecasts), however many scrapers ask meanwhile.
  let version = '';
  let rendered = new Map<string, Promise<string>>();
  app.route({
    ...serve(routes.getKpiMetrics),
    handler: async (request, reply) => {
      const now = runtime.clock();
      const teams = await serving.knownTeams();
      const principal = request.principal!;
      const teamScopes = principal.teams === null ? [ALL_TEAMS, ...teams] : teams.filter((team) => readsTeam(principal, team));
      // The minute is part of the key: forecasts move with the clock, and every period starts on a minute.
      const key = [serving.values.version, teams.join(','), runtime.catalog.list().length, Math.floor(now.getTime() / FORECAST_RENDER_MS)].join('|');
      if (key !== version) [version, rendered] = [key, new Map()];
      const scopesKey = teamScopes.join(',');
      let text = rendered.get(scopesKey);
      if (!text) {
        const pending = kpiExposition(serving.values, runtime.catalog.list(), teamScopes, serving.overrides(), now);
        const cache = rendered;
        cache.set(scopesKey, pending);
        pending.catch(() => cache.get(scopesKey) === pending && cache.delete(scopesKey));
        text = pending;
      }
      return reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(await text);
    },
  });
};
