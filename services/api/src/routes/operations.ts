import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, listExperiments, listIncidents, listLiveReleases } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import { listedTeams, type Principal } from '../access/principal.ts';
import type { ReadyAnswers } from '../ready.ts';
import type { Serve } from '../serve.ts';

/** The teams a list reads: the principal's, narrowed by `team`. */
const teamsOf = (principal: Principal | undefined, team: string | undefined) => listedTeams(principal, team) ?? ALL_TEAMS;

/** Operational views: the entities behind the KPIs, as they stand now. */
export const operationRoutes = (runtime: Runtime, serve: Serve, ready: ReadyAnswers): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  // Kept per query and the teams it reads: principals with other team scopes never share an answer.
  const kept = <T>(query: object, list: () => Promise<T>) => ready.get(`operations|${JSON.stringify(query)}`, list);
  app.route({
    ...serve(routes.listIncidents),
    handler: async (request) => {
      const { query } = request;
      const team = teamsOf(request.principal, query.team);
      return { incidents: await kept({ incidents: { ...query, team } }, () => listIncidents(storage, { team, open: query.state === 'open', limit: query.limit, now: new Date() })) };
    },
  });
  app.route({
    ...serve(routes.listExperiments),
    handler: async (request) => {
      const team = teamsOf(request.principal, request.query.team);
      return { experiments: await kept({ experiments: { ...request.query, team } }, () => listExperiments(storage, { team, limit: request.query.limit })) };
    },
  });
  app.route({
    ...serve(routes.listLiveReleases),
    handler: async (request) => {
      const team = teamsOf(request.principal, request.query.team);
      return { releases: await kept({ releases: { team } }, () => listLiveReleases(storage, { team, now: new Date() })) };
    },
  });
};
