/**
 * A small typed client of the API: paths, parameters, bodies and answers are checked against
 * the contract at compile time. It imports nothing at run time (types only), so it serves the
 * browser dashboard as well as Node (the reports CLI, the tests).
 *
 *   const api = createClient({ baseUrl: 'http://localhost:8080', token });
 *   const { values } = await api.get('/v1/kpis/:id/values', { params: { id: 'time_to_mitigate_hours' }, query: { granularity: 'week' } });
 */
import type { z } from 'zod';
import type { Routes } from './index.ts';
import type { Method, SuccessStatus } from './route.ts';
import type { ErrorBody } from './shared.ts';

/** The dashboard's session cookie (HttpOnly, SameSite=Lax, Secure behind https); here, with no run-time import, so the browser shares the names. */
export const SESSION_COOKIE = 'kpi_session';
/** The header that carries the session's anti-CSRF token on requests made with the cookie that change something. */
export const CSRF_HEADER = 'x-kpi-csrf';

type Route = Routes[keyof Routes];
export type PathOf<M extends Method> = Extract<Route, { method: M }>['path'];
type RouteAt<M extends Method, P> = Extract<Route, { method: M; path: P }>;

type Query<S> = S extends { querystring: infer T extends z.ZodType } ? ({} extends z.input<T> ? { query?: z.input<T> } : { query: z.input<T> }) : { query?: undefined };
type Params<S> = S extends { params: infer T extends z.ZodType } ? { params: z.input<T> } : { params?: undefined };
type Body<S> = S extends { body: infer T extends z.ZodType } ? { body: z.input<T> } : { body?: undefined };
/** What a call takes: path parameters, query and body, as the route declares them. */
export type InputOf<R extends Route> = Params<R['schema']> & Query<R['schema']> & Body<R['schema']>;

type Answer<T> = T extends z.ZodType ? z.output<T> : T extends { content: { 'application/json': { schema: infer S extends z.ZodType } } } ? z.output<S> : unknown;
type Responses<R extends Route> = R['schema']['response'];
/** What a call resolves to: the body of any of the route's 2xx answers. */
export type OutputOf<R extends Route> = { [K in keyof Responses<R>]: K extends SuccessStatus ? Answer<Responses<R>[K]> : never }[keyof Responses<R>];

type Args<R extends Route> = {} extends InputOf<R> ? [input?: InputOf<R>, init?: CallOptions] : [input: InputOf<R>, init?: CallOptions];

export interface CallOptions {
  signal?: AbortSignal;
}

export interface ClientOptions {
  /** Where the API is; '' (the default) is the page's own origin. */
  baseUrl?: string;
  /** A bearer token, or a function that reads the current one. */
  token?: string | null | (() => string | null | undefined);
  /** Headers sent with every call, read per call (the dashboard's anti-CSRF header with its session cookie). */
  headers?: () => Record<string, string>;
  /** Another fetch, e.g. one that injects requests into an in-process fastify. */
  fetch?: typeof fetch;
  /** What a non-2xx answer is thrown as (default: the ApiError itself), e.g. a sign-in prompt for a 401. */
  mapError?: (error: ApiError) => unknown;
}

/** A non-2xx answer: its status and the API's error body (`{error, message}`) when it sent one. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
    message: string,
  ) {
    super(message);
  }
}

const expand = (path: string, params: Record<string, unknown> | undefined) =>
  path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null || value === '') throw new TypeError(`${path}: parameter ${name} is missing`);
    return encodeURIComponent(String(value));
  });

function queryString(query: Record<string, unknown> | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export type Client = ReturnType<typeof createClient>;

export function createClient(options: ClientOptions = {}) {
  const base = (options.baseUrl ?? '').replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));

  /** Sends a call and returns the raw response once it is a 2xx; throws ApiError otherwise. */
  async function respond(method: Method, path: string, input: { params?: unknown; query?: unknown; body?: unknown } = {}, init: CallOptions = {}): Promise<Response> {
    const token = typeof options.token === 'function' ? options.token() : options.token;
    const headers: Record<string, string> = { accept: 'application/json, */*;q=0.5', ...options.headers?.() };
    if (token) headers.authorization = `Bearer ${token}`;
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    const url = `${base}${expand(path, input.params as Record<string, unknown>)}${queryString(input.query as Record<string, unknown>)}`;
    const response = await fetchImpl(url, { method, headers, body: input.body === undefined ? undefined : JSON.stringify(input.body), signal: init.signal });
    if (response.ok) return response;
    let body: ErrorBody | undefined;
    try {
      body = (await response.json()) as ErrorBody;
    } catch {
      body = undefined;
    }
    const error = new ApiError(response.status, body, `${method} ${path}: ${response.status}${body?.message ? ` ${body.message}` : ''}`);
    throw options.mapError ? options.mapError(error) : error;
  }

  async function call(method: Method, path: string, input?: { params?: unknown; query?: unknown; body?: unknown }, init?: CallOptions): Promise<unknown> {
    const response = await respond(method, path, input, init);
    if (response.status === 204) return undefined;
    const type = response.headers.get('content-type') ?? '';
    return type.includes('json') ? response.json() : response.text();
  }

  return {
    get: <P extends PathOf<'GET'>>(path: P, ...[input, init]: Args<RouteAt<'GET', P>>) => call('GET', path, input, init) as Promise<OutputOf<RouteAt<'GET', P>>>,
    post: <P extends PathOf<'POST'>>(path: P, ...[input, init]: Args<RouteAt<'POST', P>>) => call('POST', path, input, init) as Promise<OutputOf<RouteAt<'POST', P>>>,
    put: <P extends PathOf<'PUT'>>(path: P, ...[input, init]: Args<RouteAt<'PUT', P>>) => call('PUT', path, input, init) as Promise<OutputOf<RouteAt<'PUT', P>>>,
    delete: <P extends PathOf<'DELETE'>>(path: P, ...[input, init]: Args<RouteAt<'DELETE', P>>) => call('DELETE', path, input, init) as Promise<OutputOf<RouteAt<'DELETE', P>>>,
    /** The raw 2xx response, for answers that are not JSON (a report's HTML or PDF, /metrics). */
    response: <M extends Method, P extends PathOf<M>>(method: M, path: P, ...[input, init]: Args<RouteAt<M, P>>) => respond(method, path, input, init),
  };
}
