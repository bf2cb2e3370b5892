import { z } from 'zod';
import { describeStatus, type ResponseSpec, type RouteContract } from './route.ts';
import { CSRF_HEADER, SESSION_COOKIE } from './client.ts';

export interface OpenApiOptions {
  title: string;
  version: string;
  description?: string;
}

type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema 2020-12 (OpenAPI 3.1's dialect) of a zod schema, as requests are written (`input`)
 * or answers read (`output`). What JSON Schema cannot state (a transform in an answer, which the
 * serializer could not encode either) stops the generation rather than documenting "anything".
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw', reused: 'inline' }) as JsonSchema;
  return rest;
}

const isZod = (spec: ResponseSpec): spec is z.ZodType => spec instanceof z.ZodType;
const hasNoBody = (schema: z.ZodType) => schema instanceof z.ZodUndefined || schema instanceof z.ZodVoid;
/** `/v1/kpis/:id/values` -> `/v1/kpis/{id}/values` */
export const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(object: z.ZodObject | undefined, where: 'path' | 'query') {
  if (!object) return [];
  const schema = jsonSchema(object, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (schema.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

function response(status: number, spec: ResponseSpec, links: Record<string, unknown> | undefined) {
  const withLinks = links ? { links } : {};
  if (isZod(spec)) {
    const description = spec.description ?? describeStatus(status) ?? 'OK';
    if (hasNoBody(spec)) return { description, ...withLinks };
    return { description, content: { 'application/json': { schema: jsonSchema(spec, 'output') } }, ...withLinks };
  }
  return {
    description: spec.description,
    ...(spec.content ? { content: Object.fromEntries(Object.entries(spec.content).map(([type, { schema }]) => [type, { schema: jsonSchema(schema, 'output') }])) } : {}),
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...withLinks,
  };
}

function requestBody(body: z.ZodType) {
  return { required: true, ...(body.description ? { description: body.description } : {}), content: { 'application/json': { schema: jsonSchema(body, 'input') } } };
}

/**
 * A bearer token, or the dashboard's session cookie; with the cookie, a request that changes
 * something carries the anti-CSRF header too (both schemes of one requirement apply together).
 */
function securityOf(route: RouteContract) {
  if (route.access === 'public') return [];
  return [{ bearer: [] }, route.method === 'GET' ? { session: [] } : { session: [], csrf: [] }];
}

const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: "A static token of KPI_API_TOKENS (token:role or token:role:team1|team2; roles read < ingest < admin), or an access token (JWT) of the organisation's OpenID provider, whose groups claim gives role and teams",
  },
  session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The dashboard\'s session after signing in with the OpenID provider (GET /auth/login)' },
  csrf: { type: 'apiKey', in: 'header', name: CSRF_HEADER, description: 'The anti-CSRF token of the session (GET /auth/session), required with the cookie on requests that change something' },
};

function operation(operationId: string, route: RouteContract, known: Set<string>) {
  const { schema } = route;
  const links = (status: number) => {
    const declared = route.links?.[status];
    if (!declared) return undefined;
    return Object.fromEntries(
      Object.entries(declared).map(([name, link]) => {
        if (!known.has(link.operation)) throw new Error(`${operationId}: link ${name} names an unknown operation ${link.operation}`);
        return [name, { operationId: link.operation, parameters: link.parameters }];
      }),
    );
  };
  return {
    operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: route.tags,
    security: securityOf(route),
    ...(route.access === 'public' ? {} : { 'x-required-role': route.access }),
    'x-team-scope': route.teamScope,
    parameters: [...parameters(schema.params, 'path'), ...parameters(schema.querystring, 'query')],
    ...(schema.body ? { requestBody: requestBody(schema.body) } : {}),
    responses: Object.fromEntries(Object.entries(schema.response).map(([status, spec]) => [status, response(Number(status), spec, links(Number(status)))])),
  };
}

/**
 * The OpenAPI 3.1 document of the routes: every parameter with its constraints, every status
 * code a route answers with (errors with their body), links between operations. Generated from
 * the same zod schemas the API validates and serializes with, so the two cannot drift apart.
 */
export function openApiDocument(routes: Record<string, RouteContract>, options: OpenApiOptions) {
  const known = new Set(Object.keys(routes));
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [operationId, route] of Object.entries(routes)) {
    const path = openApiPath(route.path);
    const methods = (paths[path] ??= {});
    const method = route.method.toLowerCase();
    if (methods[method]) throw new Error(`${operationId}: ${route.method} ${route.path} is declared twice`);
    methods[method] = operation(operationId, route, known);
  }
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version, ...(options.description ? { description: options.description } : {}) },
    components: { securitySchemes: SECURITY_SCHEMES },
    paths,
  };
}
