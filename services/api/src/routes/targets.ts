import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, granularityRefusal, saveOverride, type TargetOverride } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import type { Serve } from '../serve.ts';

const toScope = (team: string) => (team === 'all' ? ALL_TEAMS : team);
const fromScope = (override: TargetOverride) => ({ ...override, team: override.team === ALL_TEAMS ? 'all' : override.team });

/** Per-team target overrides: read them (read), set or remove one (admin). Values and statuses follow at once. */
export const targetRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  const unknownKpi = (kpi: string) => ({ error: 'not_found', message: `unknown KPI ${kpi}; GET /v1/kpis lists them` });

  app.route({
    ...serve(routes.listTargets),
    handler: async () => ({
      defaults: runtime.catalog.list().map((kpi) => ({ kpi: kpi.id, targets: kpi.targets })),
      overrides: runtime.serving.overrides().map(fromScope),
    }),
  });

  app.route({
    ...serve(routes.putTarget),
    handler: async (request, reply) => {
      const kpi = runtime.catalog.get(request.params.kpi);
      if (!kpi) return reply.code(404).send(unknownKpi(request.params.kpi));
      const refusal = request.body.granularity && granularityRefusal(kpi, request.body.granularity);
      if (refusal) return reply.code(400).send({ error: 'bad_request', message: `granularity: ${refusal}` });
      const override: TargetOverride = { kpi: request.params.kpi, team: toScope(request.params.team), ...request.body };
      await saveOverride(storage, override);
      await runtime.serving.targetsChanged();
      return reply.code(200).send(fromScope(override));
    },
  });

  app.route({
    ...serve(routes.deleteTarget),
    handler: async (request, reply) => {
      if (!runtime.catalog.get(request.params.kpi)) return reply.code(404).send(unknownKpi(request.params.kpi));
      await saveOverride(storage, { kpi: request.params.kpi, team: toScope(request.params.team), op: '>=', value: 0, granularity: request.query.granularity }, true);
      await runtime.serving.targetsChanged();
      return reply.code(204).send();
    },
  });
};
