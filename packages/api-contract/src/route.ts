import type { z } from 'zod';
import type { ApiRole } from '@kpi/schemas';
import { errorBody, unavailableBody } from './shared.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
/** Who may call a route: anyone (`public`), or a principal (bearer token or signed-in session) of at least this role. */
export type Access = 'public' | ApiRole;

/**
 * How a route meets a principal limited to some teams (SPEC 10); the API enforces it from here:
 * - `team`: it answers for the one team its `team` parameter names, which must be one of the
 *   principal's (absent or `all`, the organisation: 403);
 * - `teams`: a list, cut to the principal's teams; a `team` parameter narrows it (another team or `all`: 403);
 * - `entity`: it names one thing (a report, an alert, a rule, a silence, events) whose team must be the principal's;
 * - `organisation`: it concerns the whole organisation: refused (403) to a principal with team scopes;
 * - `none`: it carries no team's data (the catalog, schemas, health, the caller's own session).
 */
export const TEAM_SCOPES = ['team', 'teams', 'entity', 'organisation', 'none'] as const;
export type TeamScope = (typeof TEAM_SCOPES)[number];

/** A response whose body is not JSON, that comes in several media types, or that has none but headers (a redirect). */
export interface ContentResponse {
  description: string;
  content?: Record<string, { schema: z.ZodType }>;
  headers?: Record<string, { description: string; schema: { type: 'string' } }>;
}
/** A JSON body (a zod schema), a body of another media type, or none (z.undefined()). */
export type ResponseSpec = z.ZodType | ContentResponse;

/** The schemas fastify validates and serializes with (fastify-type-provider-zod), keyed as fastify keys them. */
export interface RouteSchema {
  params?: z.ZodObject;
  querystring?: z.ZodObject;
  body?: z.ZodType;
  response: Record<number, ResponseSpec>;
}

/** A link from one operation's response to another's parameters (OpenAPI links: what stateful clients and testers follow). */
export interface Link {
  operation: string;
  /** parameter name -> runtime expression, e.g. `$response.body#/id` or `$request.path.kpi`. */
  parameters: Record<string, string>;
}

/** What a route is besides its schemas: where it is, who may call it, what the document says of it. */
interface RouteInfo<M extends Method = Method, P extends string = string> {
  method: M;
  /** fastify's path syntax (`/v1/kpis/:id/values`); the OpenAPI document writes `{id}`. */
  path: P;
  access: Access;
  teamScope: TeamScope;
  tags: string[];
  summary: string;
  description?: string;
  /** Rate-limited per token (API_RATE_LIMIT_PER_MINUTE): 429 when exceeded. */
  rateLimited?: boolean;
  /**
   * The handler validates the body itself (to name each invalid item of a batch); the body
   * schema is the one it validates against and documents it, but fastify does not apply it.
   */
  handlerValidatesBody?: boolean;
  /**
   * The body is taken as raw bytes of any media type, because a signature covers exactly those
   * bytes: the handler reads and checks it (as with handlerValidatesBody), and there is no 415.
   */
  rawBody?: true;
  /** Answered by the process alone, without Kafka, ClickHouse or Redis: never a 503. */
  selfContained?: true;
  links?: Partial<Record<number, Record<string, Link>>>;
}

export interface RouteContract<M extends Method = Method, P extends string = string, S extends RouteSchema = RouteSchema> extends RouteInfo<M, P> {
  schema: S;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad request: a parameter or the body is invalid; the message names it',
  401: 'Missing, unknown or expired credentials (bearer token or session cookie)',
  403: "The principal's role is too low for this operation, its team scopes do not cover the team asked for, or a request made with the session cookie lacks the anti-CSRF header",
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'The body is larger than API_MAX_BODY_BYTES',
  415: 'The body is not JSON (Content-Type: application/json)',
  429: 'Too many requests for this token; retry after the time in Retry-After',
  503: 'A dependency (Kafka, ClickHouse or Redis) is unavailable, named in the body; retry after the seconds in Retry-After',
};
export const describeStatus = (status: number) => ERROR_DESCRIPTIONS[status];

/** mayRefuse, as a type. */
type MayRefuse<D extends RouteDefinition> = D['access'] extends 'public' ? false : D['access'] extends 'read' ? (D['teamScope'] extends 'none' ? (D['method'] extends 'GET' ? false : true) : true) : true;

/** The errors every route of a kind can answer with, added by defineRoute. */
type StandardErrors<D extends RouteDefinition> =
  (D['params'] extends z.ZodType ? { 400: typeof errorBody } : D['querystring'] extends z.ZodType ? { 400: typeof errorBody } : D['body'] extends z.ZodType ? { 400: typeof errorBody } : {}) &
  (D['access'] extends 'public' ? {} : { 401: typeof errorBody }) &
  (MayRefuse<D> extends true ? { 403: typeof errorBody } : {}) &
  (D['body'] extends z.ZodType ? { 413: typeof errorBody } & (D['rawBody'] extends true ? {} : { 415: typeof errorBody }) : {}) &
  (D['rateLimited'] extends true ? { 429: typeof errorBody } : {}) &
  (D['selfContained'] extends true ? {} : { 503: typeof unavailableBody });

/**
 * A 403 is possible: a role above read, team scopes that may not cover the request, or a
 * state-changing request made with the session cookie but without the anti-CSRF header.
 */
export const mayRefuse = (route: Pick<RouteInfo, 'access' | 'teamScope' | 'method'>) =>
  route.access !== 'public' && (route.access !== 'read' || route.teamScope !== 'none' || route.method !== 'GET');

export interface RouteDefinition extends RouteInfo {
  params?: z.ZodObject;
  querystring?: z.ZodObject;
  body?: z.ZodType;
  /** Every answer the route itself gives (2xx, and 404, 409, ... where they apply); defineRoute adds the standard errors. */
  responses: Record<number, ResponseSpec>;
}

type SchemaOf<D extends RouteDefinition> = (D['params'] extends z.ZodObject ? { params: D['params'] } : {}) &
  (D['querystring'] extends z.ZodObject ? { querystring: D['querystring'] } : {}) &
  (D['body'] extends z.ZodType ? { body: D['body'] } : {}) & { response: Omit<StandardErrors<D>, keyof D['responses']> & D['responses'] };

export type RouteOf<D extends RouteDefinition> = RouteContract<D['method'], D['path'], SchemaOf<D>>;

/**
 * One route of the API: its parameters, body and every answer. The errors that follow from its
 * shape are added here, so no route forgets them: 400 when it takes input, 401 when it needs a
 * principal (and 403 when its role, team scopes or the anti-CSRF header can refuse one), 413 when it takes a body (and 415 unless it takes raw
 * bytes), 429 when rate-limited, 503 unless it is self-contained. Its own answers take precedence.
 */
export function defineRoute<const D extends RouteDefinition>(definition: D): RouteOf<D> {
  const { params, querystring, body, responses, ...rest } = definition;
  const standard: Record<number, z.ZodType> = {};
  if (params || querystring || body) standard[400] = errorBody;
  if (definition.access !== 'public') standard[401] = errorBody;
  if (mayRefuse(definition)) standard[403] = errorBody;
  if (body) Object.assign(standard, definition.rawBody ? { 413: errorBody } : { 413: errorBody, 415: errorBody });
  if (definition.rateLimited) standard[429] = errorBody;
  if (!definition.selfContained) standard[503] = unavailableBody;
  const schema = {
    ...(params ? { params } : {}),
    ...(querystring ? { querystring } : {}),
    ...(body ? { body } : {}),
    response: { ...standard, ...responses },
  };
  return { ...rest, schema } as unknown as RouteOf<D>;
}

/** The 2xx answers of a route: what the client returns. */
export type SuccessStatus = 200 | 201 | 202 | 204;
