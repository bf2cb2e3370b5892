import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { ApiRole } from '@kpi/config';
import { TEAM_PATTERN } from '@kpi/events';
import { ALL_TEAMS, effectiveOverrides, GRANULARITIES, saveOverride, type TargetOverride } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';

const teamParam = z.string().refine((value) => TEAM_PATTERN.test(value), { error: 'expected all or a team name (^[a-z0-9][a-z0-9_-]{0,63}$)' });
const params = z.object({ kpi: z.string(), team: teamParam });
const toScope = (team: string) => (team === 'all' ? ALL_TEAMS : team);
const fromScope = (override: TargetOverride) => ({ ...override, team: override.team === ALL_TEAMS ? 'all' : override.team });

/** Per-team target overrides: read them (read), set or remove one (admin). Values and statuses follow at once. */
export const targetRoutes = (runtime: Runtime, auth: (role: ApiRole) => preHandlerAsyncHookHandler, fileOverrides: TargetOverride[]): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;

  app.get('/v1/targets', { preHandler: auth('read'), schema: { tags: ['targets'], description: 'Catalog default targets and the per-team overrides in force.' } }, async () => ({
    defaults: runtime.catalog.list().map((kpi) => ({ kpi: kpi.id, targets: kpi.targets })),
    overrides: (await effectiveOverrides(storage, fileOverrides)).map(fromScope),
  }));

  app.put(
    '/v1/targets/:kpi/:team',
    {
      preHandler: auth('admin'),
      schema: {
        tags: ['targets'],
        description: 'Sets a team\'s target for a KPI (team "all": the organisation), for one granularity or all of them.',
        params,
        body: z.object({ op: z.enum(['>=', '<=']), value: z.number().finite(), granularity: z.enum(GRANULARITIES).optional() }),
      },
    },
    async (request, reply) => {
      if (!runtime.catalog.get(request.params.kpi)) return reply.code(404).send({ error: 'not_found', message: `unknown KPI ${request.params.kpi}` });
      const override: TargetOverride = { kpi: request.params.kpi, team: toScope(request.params.team), ...request.body };
      await saveOverride(storage, override);
      await runtime.queues.valuesChanged();
      return reply.code(200).send(fromScope(override));
    },
  );

  app.delete(
    '/v1/targets/:kpi/:team',
    {
      preHandler: auth('admin'),
      schema: { tags: ['targets'], params, querystring: z.object({ granularity: z.enum(GRANULARITIES).optional() }) },
    },
    async (request, reply) => {
      if (!runtime.catalog.get(request.params.kpi)) return reply.code(404).send({ error: 'not_found', message: `unknown KPI ${request.params.kpi}` });
      await saveOverride(storage, { kpi: request.params.kpi, team: toScope(request.params.team), op: '>=', value: 0, granularity: request.query.granularity }, true);
      await runtime.queues.valuesChanged();
      return reply.code(204).send();
    },
  );
};
