import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { registry } from '@kpi/metrics';
import type { Runtime } from '@kpi/runtime';

export const healthRoutes = (runtime: Runtime): FastifyPluginAsyncZod => async (app) => {
  app.get('/healthz', { schema: { tags: ['health'], security: [] } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['health'], security: [] } }, async (_request, reply) => {
    const { ready, checks } = await runtime.readiness();
    const failing = Object.entries(checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks, ...(failing.length ? { failing, message: `not answering: ${failing.join(', ')}` } : {}) });
  });

  app.get('/metrics', { schema: { tags: ['health'], security: [] } }, async (_request, reply) => {
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
};
