import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { MAX_PERIODS, routes, type Scorecard } from '@kpi/api-contract';
import {
  ALL_TEAMS, computeScope, defaultPeriodCount, DefinitionError, explainScope, granularitiesOf, granularityRefusal, kpiById, lastPeriods, nextPeriodStart, parseReviewPeriod, periodOf, periodStartOf,
  periodsStartingIn, previousPeriodStart, quarterLabel, reviewLabel, readValues, readValuesOf, applicableRule, judge, type Catalog, type Granularity, type KpiDefinition, type TierScope,
} from '@kpi/kpi';
import { kpiValues } from '@kpi/storage';
import type { Runtime } from '@kpi/runtime';
import { diagnose } from '../diagnostics.ts';
import { recordChange } from '../access/audit.ts';
import { readsTeam } from '../access/principal.ts';
import { BadRequest, toInstant } from '../input.ts';
import type { Serve } from '../serve.ts';

type ValuesQuery = z.output<typeof routes.getKpiValues.schema.querystring>;

const describeKpi = (kpi: KpiDefinition) => ({
  id: kpi.id,
  name: kpi.name,
  description: kpi.description,
  unit: kpi.unit,
  direction: kpi.direction,
  tiered: kpi.tiered,
  targets: kpi.targets,
  granularities: [...granularitiesOf(kpi)],
  group: kpi.group,
  custom: kpi.custom === true,
});

const teamScope = (value: string) => (value === 'all' ? ALL_TEAMS : value);

function resolveKpi(catalog: Catalog, id: string, reply: FastifyReply): KpiDefinition | undefined {
  const kpi = catalog.get(id);
  if (!kpi) void reply.code(404).send({ error: 'not_found', message: `unknown KPI ${id}; GET /v1/kpis lists them` });
  return kpi;
}

/** The tier and granularity asked for, where the KPI has them. */
function checkScope(kpi: KpiDefinition, scope: { tier: TierScope; granularity: Granularity }) {
  if (scope.tier !== 'all' && !kpi.tiered) throw new BadRequest(`tier: ${kpi.id} is computed over events that carry no tier; only tier=all applies`);
  const refusal = granularityRefusal(kpi, scope.granularity);
  if (refusal) throw new BadRequest(`granularity: ${refusal}`);
}

/** Periods starting in [from, to); by default the last 12 up to the current one (the last 30 days). */
function periodsOf(query: ValuesQuery, now: Date) {
  const count = defaultPeriodCount(query.granularity);
  if (!query.from && !query.to) return lastPeriods(query.granularity, count, now);
  const to = query.to ? toInstant(query.to) : nextPeriodStart(query.granularity, periodStartOf(query.granularity, now));
  let from = query.from ? toInstant(query.from) : undefined;
  if (!from) {
    from = periodStartOf(query.granularity, new Date(to.getTime() - 1));
    for (let i = 1; i < count; i++) from = previousPeriodStart(query.granularity, from);
  }
  if (from >= to) throw new BadRequest('from: must be before to');
  const periods = periodsStartingIn(query.granularity, from, to);
  if (periods.length > MAX_PERIODS) throw new BadRequest(`from/to: at most ${MAX_PERIODS} periods per request, this range has ${periods.length}`);
  return periods;
}

type KpisApp = Parameters<FastifyPluginAsyncZod>[0];

/** KPIs: the catalog (custom KPIs defined and deleted), their values and breakdowns, the scorecard and the teams. */
export const kpiRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  kpiCatalogRoutes(app, runtime, serve);
  kpiValueRoutes(app, runtime, serve);
  scorecardRoutes(app, runtime, serve);
};

/** The catalog: listed; a custom KPI defined (its history then computed) or deleted with its values. */
function kpiCatalogRoutes(app: KpisApp, runtime: Runtime, serve: Serve) {
  const { storage, catalog, serving } = runtime;
  app.route({ ...serve(routes.listKpis), handler: async () => catalog.list().map(describeKpi) });

  app.route({
    ...serve(routes.putKpi),
    handler: async (request, reply) => {
      const { id } = request.params;
      if (request.body.id !== undefined && request.body.id !== id) throw new BadRequest(`id: the body says ${JSON.stringify(request.body.id)}, the path ${id}`);
      const before = catalog.definitionOf(id) ?? null;
      let saved;
      try {
        saved = await catalog.put({ ...request.body, id });
      } catch (error) {
        if (error instanceof DefinitionError) throw new BadRequest(error.message);
        throw error;
      }
      await recordChange(storage, request, { action: 'kpi.define', target: id, team: 'all', before, after: saved.definition });
      await runtime.queues.queue('kpiHistory').add(id, { kpi: id });
      return reply.code(saved.created ? 201 : 200).send({ ...describeKpi(catalog.get(id)!), definition: saved.definition });
    },
  });

  app.route({
    ...serve(routes.deleteKpi),
    handler: async (request, reply) => {
      const { id } = request.params;
      if (kpiById(id) && !catalog.get(id)?.custom) throw new BadRequest(`id: ${id} is a built-in KPI; only custom KPIs can be deleted`);
      const before = catalog.definitionOf(id) ?? null;
      if (!(await catalog.remove(id))) return reply.code(404).send({ error: 'not_found', message: `no custom KPI ${id}; GET /v1/kpis lists them` });
      await recordChange(storage, request, { action: 'kpi.delete', target: id, team: 'all', before, after: null });
      await kpiValues.remove(storage, id);
      await serving.removed(id);
      return reply.code(204).send();
    },
  });
}

/** One KPI's values over periods, and one period's breakdown into the entities behind it. */
function kpiValueRoutes(app: KpisApp, runtime: Runtime, serve: Serve) {
  const { storage, catalog, serving } = runtime;
  app.route({
    ...serve(routes.getKpiValues),
    handler: async (request, reply) => {
      const kpi = resolveKpi(catalog, request.params.id, reply);
      if (!kpi) return reply;
      const query = request.query;
      checkScope(kpi, query);
      const now = runtime.clock();
      const scope = { granularity: query.granularity, team: teamScope(query.team), tier: query.tier };
      const values = await readValues(serving.values, kpi, scope, periodsOf(query, now), serving.overrides(), now);
      return { kpi: kpi.id, granularity: query.granularity, team: query.team, tier: query.tier, values };
    },
  });

  app.route({
    ...serve(routes.getKpiBreakdown),
    handler: async (request, reply) => {
      const kpi = resolveKpi(catalog, request.params.id, reply);
      if (!kpi) return reply;
      const query = request.query;
      checkScope(kpi, query);
      const start = toInstant(query.period_start);
      const period = periodOf(query.granularity, start);
      if (period.start.getTime() !== start.getTime()) {
        throw new BadRequest(`period_start: ${query.period_start} is not the start of a ${query.granularity}; did you mean ${period.start.toISOString()}?`);
      }
      const now = runtime.clock();
      const team = teamScope(query.team);
      const { evaluation, contributions } = await explainScope(storage, kpi, { granularity: query.granularity, period, team, tier: query.tier }, now);
      const previous = await computeScope(storage, kpi, { granularity: query.granularity, period: { start: previousPeriodStart(query.granularity, period.start), end: period.start }, team, tier: query.tier }, now);
      const { target, status } = judge(applicableRule(kpi, { granularity: query.granularity, tier: query.tier, team }, serving.overrides()), evaluation.value, previous.value);
      return {
        kpi: kpi.id,
        granularity: query.granularity,
        team: query.team,
        tier: query.tier,
        period_start: period.start.toISOString(),
        period_end: period.end.toISOString(),
        value: evaluation.value,
        numerator: evaluation.numerator,
        denominator: evaluation.denominator,
        sample_size: evaluation.sample_size,
        target,
        status,
        details: evaluation.details,
        entities: contributions,
        diagnostics: await diagnose(storage, kpi, evaluation),
      };
    },
  });
}

/** Scorecard answers kept per catalog list: the most recent ones, each valid for its key. */
const SCORECARDS_KEPT = 256;

/** Every KPI scored for a quarter or a year, and the teams seen. */
function scorecardRoutes(app: KpisApp, runtime: Runtime, serve: Serve) {
  const { catalog, serving } = runtime;
  // Scorecards as last answered, per catalog list (a KPI defined or deleted makes a new list), each
  // valid while its scope's served values and the targets in force stay the same (the scope
  // version), within the second its forecasts were judged at. Dashboards ask for the same few
  // scorecards over and over, and each costs 35 KPIs' trends and forecasts.
  const kept = new WeakMap<readonly KpiDefinition[], Map<string, Scorecard>>();
  app.route({
    ...serve(routes.getScorecard),
    handler: async (request) => {
      // A year (it takes the place of a quarter), or a quarter (the default: the current one); the answer says which.
      const { quarter: quarterText, year: yearText } = request.query;
      const granularity = yearText ? 'year' : 'quarter';
      const label = yearText ?? quarterText;
      const now = runtime.clock();
      const period = label ? parseReviewPeriod(label)!.period : periodOf('quarter', now);
      const team = teamScope(request.query.team);
      const list = catalog.list();
      let answers = kept.get(list);
      if (!answers) kept.set(list, (answers = new Map()));
      const key = [serving.values.scopeVersion(granularity, team), period.start.getTime(), request.query.team, request.query.trend ?? 0, Math.floor(now.getTime() / 1000)].join('|');
      const answered = answers.get(key);
      if (answered) return answered;
      // The trend's periods end with the one scored: one read for the values and their sparklines.
      const periods = [period];
      for (let i = 1; i < (request.query.trend ?? 1); i++) periods.unshift({ start: previousPeriodStart(granularity, periods[0]!.start), end: periods[0]!.start });
      const values = await readValuesOf(serving.values, list, { granularity, team, tier: 'all' }, periods, serving.overrides(), now);
      const kpis = list.map((kpi) => {
        const series = values.get(kpi.id)!;
        const value = series.at(-1)!;
        return {
          id: kpi.id,
          name: kpi.name,
          unit: kpi.unit,
          direction: kpi.direction,
          value: value.value,
          numerator: value.numerator,
          denominator: value.denominator,
          sample_size: value.sample_size,
          target: value.target,
          status: value.status,
          previous_value: value.previous_value,
          forecast: value.forecast,
          ...(request.query.trend ? { trend: series.map(({ period_start, value, status }) => ({ period_start, value, status })) } : {}),
        };
      });
      const answer: Scorecard = { ...(granularity === 'year' ? { year: reviewLabel('year', period.start) } : { quarter: quarterLabel(period.start) }), team: request.query.team, kpis };
      if (answers.size >= SCORECARDS_KEPT) answers.delete(answers.keys().next().value!);
      answers.set(key, answer);
      return answer;
    },
  });

  app.route({ ...serve(routes.listTeams), handler: async (request) => ({ teams: (await serving.teams()).filter((summary) => readsTeam(request.principal!, summary.team)) }) });
}
