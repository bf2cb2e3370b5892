import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, granularityRefusal, saveOverride, type TargetOverride } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import { recordChange } from '../access/audit.ts';
import { readsTeam } from '../access/principal.ts';
import type { Serve } from '../serve.ts';

const toScope = (team: string) => (team === 'all' ? ALL_TEAMS : team);
const fromScope = (override: TargetOverride) => ({ ...override, team: override.team === ALL_TEAMS ? 'all' : override.team });

/** Per-team target overrides: read them (read), set or remove one (admin). Values and statuses follow at once. */
export const targetRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  const unknownKpi = (kpi: string) => ({ error: 'not_found', message: `unknown KPI ${kpi}; GET /v1/kpis lists them` });
  /** The override in force for (kpi, team, granularity), as the API writes it, or null. */
  const inForce = (kpi: string, team: string, granularity: string | undefined) => {
    const found = runtime.serving.overrides().find((override) => override.kpi === kpi && override.team === toScope(team) && override.granularity === granularity);
    return found ? fromScope(found) : null;
  };

  app.route({
    ...serve(routes.listTargets),
    handler: async (request) => ({
      defaults: runtime.catalog.list().map((kpi) => ({ kpi: kpi.id, targets: kpi.targets })),
      overrides: runtime.serving.overrides().map(fromScope).filter((override) => readsTeam(request.principal!, override.team)),
    }),
  });

  app.route({
    ...serve(routes.putTarget),
    handler: async (request, reply) => {
      const { kpi: kpiId, team } = request.params;
      const kpi = runtime.catalog.get(kpiId);
      if (!kpi) return reply.code(404).send(unknownKpi(kpiId));
      const refusal = request.body.granularity && granularityRefusal(kpi, request.body.granularity);
      if (refusal) return reply.code(400).send({ error: 'bad_request', message: `granularity: ${refusal}` });
      const override: TargetOverride = { kpi: kpiId, team: toScope(team), ...request.body };
      const before = inForce(kpiId, team, override.granularity);
      await saveOverride(storage, override);
      await recordChange(storage, request, { action: 'target.set', target: `${kpiId}/${team}`, team, before, after: fromScope(override) });
      await runtime.serving.targetsChanged();
      return reply.code(200).send(fromScope(override));
    },
  });

  app.route({
    ...serve(routes.deleteTarget),
    handler: async (request, reply) => {
      const { kpi, team } = request.params;
      if (!runtime.catalog.get(kpi)) return reply.code(404).send(unknownKpi(kpi));
      const before = inForce(kpi, team, request.query.granularity);
      await saveOverride(storage, { kpi, team: toScope(team), op: '>=', value: 0, granularity: request.query.granularity }, true);
      await recordChange(storage, request, { action: 'target.remove', target: `${kpi}/${team}`, team, before, after: null });
      await runtime.serving.targetsChanged();
      return reply.code(204).send();
    },
  });
};
