import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, listExperiments, listIncidents, listLiveReleases } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import type { Serve } from '../serve.ts';

const teamScope = (team: string) => (team === 'all' ? ALL_TEAMS : team);

/** Operational views: the entities behind the KPIs, as they stand now. */
export const operationRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  app.route({
    ...serve(routes.listIncidents),
    handler: async ({ query }) => ({ incidents: await listIncidents(storage, { team: teamScope(query.team), open: query.state === 'open', limit: query.limit, now: new Date() }) }),
  });
  app.route({
    ...serve(routes.listExperiments),
    handler: async ({ query }) => ({ experiments: await listExperiments(storage, { team: teamScope(query.team), limit: query.limit }) }),
  });
  app.route({
    ...serve(routes.listLiveReleases),
    handler: async ({ query }) => ({ releases: await listLiveReleases(storage, { team: teamScope(query.team), now: new Date() }) }),
  });
};
