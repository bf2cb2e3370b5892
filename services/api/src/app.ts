import Fastify, { type FastifyError } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiRole } from '@kpi/config';
import { httpSeconds } from '@kpi/metrics';
import { asUnavailable, type Runtime } from '@kpi/runtime';
import { requireRole } from './auth.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { kpiRoutes } from './routes/kpis.ts';
import { kpiMetricsRoutes } from './routes/kpi-metrics.ts';
import { targetRoutes } from './routes/targets.ts';
import { operationRoutes } from './routes/operations.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { alertRoutes } from './routes/alerts.ts';
import { reportRoutes } from './routes/reports.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { triageRoutes } from './routes/triage.ts';
import { loadRuleSources } from '@kpi/alerts';
import { readTargetsFile } from '@kpi/kpi';

export interface ApiOptions {
  runtime: Runtime;
  tokens: Map<string, ApiRole>;
}

export type Api = Awaited<ReturnType<typeof buildApi>>;

/** The HTTP API, without listening: tests inject requests, the role listens on PORT. */
export async function buildApi({ runtime, tokens }: ApiOptions) {
  const { config } = runtime;
    // Per-request logs belong in /metrics (latency histogram), not in the log: warn and above only.
  const log = runtime.log.child({ role: 'api' }, { level: runtime.log.levelVal > 40 ? runtime.log.level : 'warn' });
  const app = Fastify({ bodyLimit: config.http.maxBodyBytes, loggerInstance: log }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Bad input is a 400 naming the parameter and the rule, never a 500.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const problems = error.validation.map((issue) => {
        const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
        return `${error.validationContext ?? 'request'}${path ? `.${path}` : ''}: ${issue.message}`;
      });
      return reply.code(400).send({ error: 'bad_request', message: problems.join('; '), issues: problems });
    }
    // A dependency that is down or too slow: say which, at once, and when to try again.
    const unavailable = asUnavailable(error);
    if (unavailable) return reply.code(503).header('retry-after', '5').send({ error: 'unavailable', dependency: unavailable.dependency, message: unavailable.message });
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: error.code ?? 'bad_request', message: error.message });
    request.log.error({ err: error }, 'request failed');
    return reply.code(status).send({ error: 'internal', message: 'internal error; see the server log' });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }));

  app.addHook('onResponse', async (request, reply) => {
    httpSeconds.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  await app.register(rateLimit, {
    global: false,
    redis: runtime.redis,
    nameSpace: `${config.queuePrefix}:ratelimit:`,
    // Without Redis there is no shared count: requests go through rather than wait or fail.
    skipOnError: true,
    keyGenerator: (request) => request.headers.authorization ?? request.ip,
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Applied-science KPI pipeline', version: '0.1.0', description: 'KPI values, scorecards and the event collector.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const auth = (role: ApiRole) => requireRole(tokens, role);
  await app.register(healthRoutes(runtime));
  await app.register(eventRoutes(runtime, auth));
  // The deployment's targets file is read once; a bad file stops start-up naming the problem.
  const fileOverrides = config.targetsFile ? readTargetsFile(config.targetsFile) : [];
  await app.register(kpiRoutes(runtime, auth, fileOverrides));
  await app.register(kpiMetricsRoutes(runtime, auth, fileOverrides));
  await app.register(targetRoutes(runtime, auth, fileOverrides));
  await app.register(operationRoutes(runtime, auth));
  // The alert rules file is read once too; a bad rule stops start-up naming the rule and the field.
  await app.register(alertRoutes(runtime, auth, loadRuleSources({ file: config.alerts.rulesFile, defaults: config.alerts.defaultRules })));
  await app.register(reportRoutes(runtime, auth));
  await app.register(webhookRoutes(runtime, auth));
  await app.register(triageRoutes(runtime, auth));
  await app.register(dashboardRoutes);
  return app;
}
