import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../dashboards/web/dist');

/** The built-in dashboard (dashboards/web, built by `./run start`), served at `/`. */
export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  if (!existsSync(resolve(dist, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html').send('<!doctype html><title>KPI pipeline</title><p>The dashboard is not built: run <code>pnpm --filter @kpi/dashboard build</code> (the start command does). The API is at <a href="/docs">/docs</a>.</p>'),
    );
    return;
  }
  await app.register(fastifyStatic, { root: dist, prefix: '/', index: ['index.html'], wildcard: true, schemaHide: true });
};
