import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, granularitiesOf, type Granularity, type KpiDefinition, GRANULARITIES, periodOf, readValuesOf, tierScopes, type Status, type TargetOverride, type TierScope, type ValueReader } from '@kpi/kpi';
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

type Metric = keyof typeof METRICS;
const METRIC_NAMES = Object.keys(METRICS) as Metric[];

/**
 * One (granularity, team scope)'s series, metric by metric: lines of text, each ending in a
 * newline, encoded once (the whole exposition is megabytes, put together from its parts at each change).
 */
export type ExpositionPart = Record<Metric, Buffer>;

/**
 * Renders a scope's part, or answers one rendered before while the scope's values, the targets,
 * the catalog and the minute are the same: under a stream, a recompute changes a few teams' values.
 */
export type PartCache = (granularity: Granularity, team: string, render: () => Promise<ExpositionPart>) => Promise<ExpositionPart>;

/** A scope's part of the exposition: every KPI of the granularity, every tier. */
async function expositionPart(values: ValueReader, catalog: readonly KpiDefinition[], tiers: readonly TierScope[], granularity: Granularity, team: string, overrides: TargetOverride[], now: Date): Promise<ExpositionPart> {
  const part: Record<Metric, string> = { kpi_value: '', kpi_target: '', kpi_sample_size: '', kpi_status: '', kpi_forecast_value: '', kpi_forecast_probability_met: '' };
  for (const tier of tiers) {
    const kpis = catalog.filter((kpi) => tierScopes(kpi).includes(tier) && granularitiesOf(kpi).includes(granularity));
    for (const [kpi, [current]] of await readValuesOf(values, kpis, { granularity, team, tier }, [periodOf(granularity, now)], overrides, now)) {
      if (!current) continue;
      const labels = `kpi="${labelValue(kpi)}",team="${labelValue(team === ALL_TEAMS ? 'all' : team)}",tier="${tier}",granularity="${granularity}"`;
      if (current.value !== null) part.kpi_value += `kpi_value{${labels}} ${current.value}\n`;
      if (current.target !== null) part.kpi_target += `kpi_target{${labels}} ${current.target}\n`;
      part.kpi_sample_size += `kpi_sample_size{${labels}} ${current.sample_size}\n`;
      for (const candidate of STATUSES) part.kpi_status += `kpi_status{${labels},status="${candidate}"} ${candidate === current.status ? 1 : 0}\n`;
      if (current.forecast) {
        part.kpi_forecast_value += `kpi_forecast_value{${labels}} ${current.forecast.value}\n`;
        part.kpi_forecast_probability_met += `kpi_forecast_probability_met{${labels}} ${current.forecast.probability_met}\n`;
      }
    }
  }
  return Object.fromEntries(METRIC_NAMES.map((name) => [name, Buffer.from(part[name])])) as ExpositionPart;
}

const HEADERS = Object.fromEntries(METRIC_NAMES.map((name, i) => [name, Buffer.from(`${i > 0 ? '\n' : ''}# HELP ${name} ${METRICS[name]}\n# TYPE ${name} gauge\n`)])) as Record<Metric, Buffer>;

/**
 * The current period's KPI values as Prometheus metrics, for every granularity a KPI offers, KPI,
 * team scope given (ALL_TEAMS, the organisation, as team="all") and tier: kpi_value, kpi_target,
 * kpi_sample_size and kpi_status{status}, and its forecast (SPEC 5c) as kpi_forecast_value and
 * kpi_forecast_probability_met. A null value, target or forecast is an absent series, never NaN
 * or 0. Written as text directly: tens of thousands of series, rendered on the request path, one
 * (granularity, team scope) part at a time with the event loop free in between, so that the
 * reads arriving meanwhile are answered at once rather than after the whole exposition; `cached`
 * answers the parts whose values did not change since they were rendered.
 */
export async function kpiExposition(
  values: ValueReader,
  catalog: readonly KpiDefinition[],
  teamScopes: readonly string[],
  overrides: TargetOverride[],
  now: Date,
  cached?: PartCache,
): Promise<Buffer> {
  const tiers = [...new Set(catalog.flatMap(tierScopes))];
  const parts: ExpositionPart[] = [];
  for (const granularity of GRANULARITIES) {
    for (const team of teamScopes) {
      const render = async () => {
        await yieldToEventLoop();
        return expositionPart(values, catalog, tiers, granularity, team, overrides, now);
      };
      parts.push(await (cached ? cached(granularity, team, render) : render()));
    }
  }
  return Buffer.concat(METRIC_NAMES.flatMap((name) => [HEADERS[name], ...parts.map((part) => part[name])]));
}

/**
 * Keeps each (granularity, team scope)'s part of the exposition with what it was rendered from:
 * that scope's values (and the targets), the catalog (a new list whenever a definition changes)
 * and the minute. `served` is the served copy of the values (a reload replaces it).
 */
export function exposedParts(served: () => { scopeVersion(granularity: string, team: string): string }): (catalog: readonly KpiDefinition[], minute: number) => PartCache {
  const parts = new Map<string, { key: string; catalog: readonly KpiDefinition[]; part: Promise<ExpositionPart> }>();
  return (catalog, minute) => (granularity, team, render) => {
    const scope = `${granularity}|${team}`;
    const key = `${served().scopeVersion(granularity, team)}|${minute}`;
    const kept = parts.get(scope);
    if (kept?.key === key && kept.catalog === catalog) return kept.part;
    const part = render();
    parts.set(scope, { key, catalog, part });
    part.catch(() => parts.get(scope)?.part === part && parts.delete(scope));
    return part;
  };
}

export const kpiMetricsRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  const { serving } = runtime;
  // The exposition of the served values as they were at `key`, per set of team scopes (the
  // organisation's principals share one, each team-scoped set has its own): rendered once per
  // change (and once a minute, for the forecasts), however many scrapers ask meanwhile.
  let version = '';
  let rendered = new Map<string, Promise<Buffer>>();
  const cachedPart = exposedParts(() => serving.values);
  app.route({
    ...serve(routes.getKpiMetrics),
    handler: async (request, reply) => {
      const now = runtime.clock();
      const teams = await serving.knownTeams();
      const principal = request.principal!;
      const teamScopes = principal.teams === null ? [ALL_TEAMS, ...teams] : teams.filter((team) => readsTeam(principal, team));
      // The minute is part of the key: forecasts move with the clock, and every period starts on a minute.
      const minute = Math.floor(now.getTime() / FORECAST_RENDER_MS);
      const key = [serving.values.version, teams.join(','), runtime.catalog.list().length, minute].join('|');
      if (key !== version) [version, rendered] = [key, new Map()];
      const scopesKey = teamScopes.join(',');
      let text = rendered.get(scopesKey);
      if (!text) {
        const catalog = runtime.catalog.list();
        const pending = kpiExposition(serving.values, catalog, teamScopes, serving.overrides(), now, cachedPart(catalog, minute));
        const cache = rendered;
        cache.set(scopesKey, pending);
        pending.catch(() => cache.get(scopesKey) === pending && cache.delete(scopesKey));
        text = pending;
      }
      // The contract's text, already encoded: fastify sends a Buffer as it is, like a string.
      return reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send((await text) as unknown as string);
    },
  });
};
