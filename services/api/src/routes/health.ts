import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { registry } from '@kpi/metrics';
import type { Runtime } from '@kpi/runtime';
import type { Serve } from '../serve.ts';

export const healthRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  app.route({ ...serve(routes.getHealth), handler: async () => ({ status: 'ok' as const }) });

  app.route({
    ...serve(routes.getReadiness),
    handler: async (_request, reply) => {
      const { ready, checks } = await runtime.readiness();
      const failing = Object.entries(checks)
        .filter(([, ok]) => !ok)
        .map(([name]) => name);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks, ...(failing.length ? { failing, message: `not answering: ${failing.join(', ')}` } : {}) });
    },
  });

  app.route({
    ...serve(routes.getMetrics),
    handler: async (_request, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()),
  });
};
