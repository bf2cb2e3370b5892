import type { Config } from '@kpi/config';
import type { ResponseSpec, RouteContract, RouteSchema } from '@kpi/api-contract';
import type { Authenticator } from './access/authenticate.ts';

/** Sent with every 503: how many seconds a client waits before it tries again. */
export const RETRY_AFTER = { 'retry-after': '5' };

/** The handler reads the body itself: fastify neither validates it first nor types it. */
type HandlerReadsBody<R extends RouteContract> = R['handlerValidatesBody'] extends true ? true : R['rawBody'] extends true ? true : false;
type FastifySchemaOf<R extends RouteContract> = HandlerReadsBody<R> extends true ? Omit<R['schema'], 'body'> : R['schema'];

/** What fastify is given: a JSON answer of one media type is its zod schema; a body the handler checks is not validated first. */
function fastifySchema(route: RouteContract): RouteSchema {
  const { body, response, ...rest } = route.schema;
  const responses = Object.fromEntries(
    Object.entries(response).flatMap(([status, spec]): [string, ResponseSpec][] => {
      if ('_zod' in spec) return [[status, spec]];
      // A redirect has no body to serialize.
      if (!spec.content) return [];
      const types = Object.keys(spec.content);
      if (types.length === 1 && types[0] === 'application/json') return [[status, spec.content['application/json']!.schema]];
      return [[status, spec]];
    }),
  );
  const handlerReadsBody = route.handlerValidatesBody || route.rawBody;
  return { ...rest, ...(body && !handlerReadsBody ? { body } : {}), response: responses };
}

/**
 * Makes the fastify route options of a contract route: method, path, the contract's schemas
 * (requests validated and answers serialized by fastify-type-provider-zod, so the handler's types
 * are the contract's), authentication, role, anti-CSRF and team scope checks, and the rate limit.
 *
 *   app.route({ ...serve(routes.getKpiValues), handler: async (request) => ... })
 */
export function routeServer(access: Authenticator, http: Config['http']) {
  return <R extends RouteContract>(route: R) =>
    ({
      method: route.method,
      url: route.path,
      schema: fastifySchema(route) as FastifySchemaOf<R>,
      // Authentication comes first, before the request is validated: no token is a 401 whatever the body;
      // the team a request names is checked once validation has applied the defaults.
      ...(route.access === 'public' ? {} : { onRequest: access.guard(route), preHandler: access.teamCheck(route) }),
      ...(route.rateLimited ? { config: { rateLimit: { max: http.rateLimitPerMinute, timeWindow: '1 minute' } } } : {}),
    }) as const;
}
export type Serve = ReturnType<typeof routeServer>;
