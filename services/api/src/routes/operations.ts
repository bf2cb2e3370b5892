import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { ALL_TEAMS, listExperiments, listIncidents, listLiveReleases } from '@kpi/kpi';
import type { Runtime } from '@kpi/runtime';
import type { ReadyAnswers } from '../ready.ts';
import type { Serve } from '../serve.ts';

const teamScope = (team: string) => (team === 'all' ? ALL_TEAMS : team);

/** Operational views: the entities behind the KPIs, as they stand now. */
export const operationRoutes = (runtime: Runtime, serve: Serve, ready: ReadyAnswers): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  const kept = <T>(query: object, list: () => Promise<T>) => ready.get(`operations|${JSON.stringify(query)}`, list);
  app.route({
    ...serve(routes.listIncidents),
    handler: async ({ query }) => ({
      incidents: await kept({ incidents: query }, () => listIncidents(storage, { team: teamScope(query.team), open: query.state === 'open', limit: query.limit, now: new Date() })),
    }),
  });
  app.route({
    ...serve(routes.listExperiments),
    handler: async ({ query }) => ({ experiments: await kept({ experiments: query }, () => listExperiments(storage, { team: teamScope(query.team), limit: query.limit })) }),
  });
  app.route({
    ...serve(routes.listLiveReleases),
    handler: async ({ query }) => ({ releases: await kept({ releases: query }, () => listLiveReleases(storage, { team: teamScope(query.team), now: new Date() })) }),
  });
};
