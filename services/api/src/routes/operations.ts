import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { ApiRole } from '@kpi/config';
import { TEAM_PATTERN } from '@kpi/events';
import { ALL_TEAMS, listExperiments, listIncidents, listLiveReleases } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';

const team = z
  .string()
  .refine((value) => value === 'all' || TEAM_PATTERN.test(value), { error: 'expected all or a team name' })
  .default('all')
  .transform((value) => (value === 'all' ? ALL_TEAMS : value));
const limit = z.coerce.number({ error: 'expected a number' }).int().min(1).max(1000, 'at most 1000').default(50);

/** Operational views: the entities behind the KPIs, as they stand now. */
export const operationRoutes = (runtime: Runtime, auth: (role: ApiRole) => preHandlerAsyncHookHandler): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  const read = auth('read');
  app.get(
    '/v1/incidents',
    { preHandler: read, schema: { tags: ['operations'], description: 'Incidents, newest first, with TTD/TTM in hours; state=open lists those not yet mitigated.', querystring: z.object({ team, state: z.enum(['open', 'all']).default('open'), limit }) } },
    async (request) => ({ incidents: await listIncidents(storage, { team: request.query.team, open: request.query.state === 'open', limit: request.query.limit, now: new Date() }) }),
  );
  app.get(
    '/v1/experiments',
    { preHandler: read, schema: { tags: ['operations'], description: 'Experiments by latest readout, newest first, with primary lift, CI, SRM and guardrail regressions.', querystring: z.object({ team, limit }) } },
    async (request) => ({ experiments: await listExperiments(storage, { team: request.query.team, limit: request.query.limit }) }),
  );
  app.get(
    '/v1/releases/live',
    { preHandler: read, schema: { tags: ['operations'], description: 'The live production release of each model now, with its drift-monitoring gaps.', querystring: z.object({ team }) } },
    async (request) => ({ releases: await listLiveReleases(storage, { team: request.query.team, now: new Date() }) }),
  );
};
