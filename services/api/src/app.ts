import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { hasZodFastifySchemaValidationErrors, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { openApiDocument, routes, type UnavailableBody } from '@kpi/api-contract';
import cookie from '@fastify/cookie';
import type { Access } from '@kpi/config';
import { httpSeconds } from '@kpi/metrics';
import { asUnavailable, type Runtime } from '@kpi/runtime';
import { authenticator } from './access/authenticate.ts';
import { OpenIdProvider } from './access/oidc.ts';
import { SessionStore } from './access/sessions.ts';
import { accessRoutes } from './routes/access.ts';
import { parseJsonBodies } from './body.ts';
import { routeTable } from './methods.ts';
import { readyAnswers } from './ready.ts';
import { RETRY_AFTER, routeServer } from './serve.ts';
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
import { answerSerializer } from './serialize.ts';
import { triageRoutes } from './routes/triage.ts';
import { loadRuleSources } from '@kpi/alerts';

export interface ApiOptions {
  runtime: Runtime;
  /** The static tokens (KPI_API_TOKENS, or the generated one). */
  tokens: Map<string, Access>;
}

export type Api = Awaited<ReturnType<typeof buildApi>>;

/** How old a kept list may get before a read refreshes it in the background. */
const READY_MAX_AGE_MS = 1_000;

/** Routes outside the contract: the documents about the API and the dashboard's files. */
export const UNDOCUMENTED_ROUTES = [/^\/openapi\.json$/, /^\/docs(\/|$)/, /^\/\*?$/];

/** The HTTP API, without listening: tests inject requests, the role listens on PORT. */
export async function buildApi({ runtime: shared, tokens }: ApiOptions) {
  // Requests read on a connection of their own: never behind a recompute or an insert.
  const runtime: Runtime = { ...shared, storage: shared.storage.lane('serve') };
  const { config } = runtime;
  // KPI values, targets and teams are answered from memory: loaded before the first request.
  await runtime.serving.ready();
  // Lists read from ClickHouse are kept ready, at most a second behind (see ready.ts).
  const ready = readyAnswers({ maxAgeMs: READY_MAX_AGE_MS, maxKeys: 2_000, onError: (error, key) => log.warn({ err: error, key }, 'could not refresh a kept answer; the last one is served') });
  // Per-request logs belong in /metrics (latency histogram), not in the log: warn and above only.
  const log = runtime.log.child({ role: 'api' }, { level: runtime.log.levelVal > 40 ? runtime.log.level : 'warn' });
  // Path parameters are as long as their schema allows (a 400 names a longer one), not cut short by the router.
  const app = Fastify({ bodyLimit: config.http.maxBodyBytes, loggerInstance: log, routerOptions: { maxParamLength: 8_192 } }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(answerSerializer(config.http.checkResponses));
  parseJsonBodies(app);
  const methods = routeTable();
  app.addHook('onRoute', methods.record);
  app.decorate('registeredRoutes', methods.all);
  answerUnroutedAndFailed(app, methods);

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
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`rate limit of ${context.max} requests per ${context.after} exceeded for this token; retry in ${context.after}`), { statusCode: 429, code: 'too_many_requests' }),
  });
  await registerDocuments(app);
  await registerRoutes(app, runtime, tokens, ready);
  return app;
}

/** The instance buildApi makes: fastify with zod schemas. */
type ApiApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Runtime['log'], ZodTypeProvider>;

/**
 * No route for the method and path: a 405 naming the methods the path has (RFC 9110), else a 404.
 * Bad input is a 400 naming the parameter and the rule, never a 500.
 */
function answerUnroutedAndFailed(app: ApiApp, methods: ReturnType<typeof routeTable>) {
  const unrouted = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    const allowed = methods.at(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({ error: 'method_not_allowed', message: `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}` });
    }
    return reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${path}` });
  };
  app.setNotFoundHandler(unrouted);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    // A request no route takes can fail before the not-found handler runs (a QUERY without a body's content type).
    if (request.is404) return unrouted(request, reply);
    if (hasZodFastifySchemaValidationErrors(error)) {
      const problems = error.validation.map((issue) => {
        const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
        return `${error.validationContext ?? 'request'}${path ? `.${path}` : ''}: ${issue.message}`;
      });
      return reply.code(400).send({ error: 'bad_request', message: problems.join('; '), issues: problems });
    }
    // A dependency that is down or too slow: say which, at once, and when to try again.
    const unavailable = asUnavailable(error);
    if (unavailable) {
      const body: UnavailableBody = { error: 'unavailable', dependency: unavailable.dependency, message: unavailable.message };
      return reply.code(503).headers(RETRY_AFTER).send(body);
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: error.code ?? 'bad_request', message: error.message });
    request.log.error({ err: error }, 'request failed');
    return reply.code(status).send({ error: 'internal', message: 'internal error; see the server log' });
  });
}

/** The OpenAPI document, generated from the contract once, at /openapi.json; /docs renders the same one. */
async function registerDocuments(app: ApiApp) {
  const document = openApiDocument(routes, {
    title: 'Applied-science KPI pipeline',
    version: '0.1.0',
    description: 'KPI values, scorecards, alerts, quarterly reports and the event collector.',
  });
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => document);
}

/** Sign-in and every operation of the contract, each behind the access check, then the dashboard's files. */
async function registerRoutes(app: ApiApp, runtime: Runtime, tokens: Map<string, Access>, ready: ReturnType<typeof readyAnswers>) {
  const { config } = runtime;
  await app.register(cookie);
  const provider = config.oidc && new OpenIdProvider(config.oidc, config.publicUrl);
  const sessions = new SessionStore(runtime.redis, config.queuePrefix);
  const access = authenticator({ tokens, provider, sessions });
  const serve = routeServer(access, config.http);
  await app.register(accessRoutes(runtime, serve, { authenticator: access, provider, sessions }));
  await app.register(healthRoutes(runtime, serve));
  await app.register(eventRoutes(runtime, serve));
  // The deployment's files were read into the configuration; a bad one stops start-up naming the problem.
  await app.register(kpiRoutes(runtime, serve));
  await app.register(kpiMetricsRoutes(runtime, serve));
  await app.register(targetRoutes(runtime, serve));
  await app.register(operationRoutes(runtime, serve, ready));
  await app.register(alertRoutes(runtime, serve, loadRuleSources({ file: config.alerts.rulesFile, defaults: config.alerts.defaultRules }), ready));
  await app.register(reportRoutes(runtime, serve));
  await app.register(webhookRoutes(runtime, serve));
  await app.register(triageRoutes(runtime, serve, ready));
  await app.register(dashboardRoutes);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every (method, path) registered, for the test that holds them to the contract. */
    registeredRoutes(): { method: string; url: string }[];
  }
}
