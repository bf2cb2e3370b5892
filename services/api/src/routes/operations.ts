import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, listExperiments, listIncidents, listLiveReleases } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import { listedTeams, type Principal } from '../access/principal.ts';
import type { Serve } from '../serve.ts';

/** The teams a list reads: the principal's, narrowed by `team`. */
const teamsOf = (principal: Principal | undefined, team: string | undefined) => listedTeams(principal, team) ?? ALL_TEAMS;

/** Operational views: the entities behind the KPIs, as they stand now. */
export const operationRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  app.route({
    ...serve(routes.listIncidents),
    handler: async (request) => ({ incidents: await listIncidents(storage, { team: teamsOf(request.principal, request.query.team), open: request.query.state === 'open', limit: request.query.limit, now: new Date() }) }),
  });
  app.route({
    ...serve(routes.listExperiments),
    handler: async (request) => ({ experiments: await listExperiments(storage, { team: teamsOf(request.principal, request.query.team), limit: request.query.limit }) }),
  });
  app.route({
    ...serve(routes.listLiveReleases),
    handler: async (request) => ({ releases: await listLiveReleases(storage, { team: teamsOf(request.principal, request.query.team), now: new Date() }) }),
  });
};
