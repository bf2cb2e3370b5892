import type { ErrorBody, openApiDocument, Routes } from '@kpi/api-contract';
import type { OutputOf } from '@kpi/api-contract/client';

/*
 * The type of the body a URL answers with, found from the contract: tests send raw URLs (query
 * strings included, and invalid ones for the refusals), and the route whose path the URL's path
 * fills gives the body's type: its 2xx answer, or the one it declares for a status. The OpenAPI
 * document is the one the contract generates; another URL no route has (/metrics) answers `unknown`.
 */

type Route = Routes[keyof Routes];
/** A request's method: the contract's, or another (a test of the 405 a path answers to one it does not have). */
export type Method = Route['method'] | 'PATCH' | 'HEAD' | 'OPTIONS';

type PathPart<Url extends string> = Url extends `${infer Path}?${string}` ? Path : Url;
type Segments<Path extends string> = Path extends `${infer Head}/${infer Rest}` ? [Head, ...Segments<Rest>] : [Path];
/** A `:param` segment takes any text; another segment only itself. */
type SegmentFits<Pattern extends string, Actual extends string> = Pattern extends `:${string}` ? true : [Actual] extends [Pattern] ? true : false;
type Fits<Pattern extends string[], Actual extends string[]> = Pattern extends [infer P extends string, ...infer PatternRest extends string[]]
  ? Actual extends [infer A extends string, ...infer ActualRest extends string[]]
    ? SegmentFits<P, A> extends true
      ? Fits<PatternRest, ActualRest>
      : false
    : false
  : Actual extends []
    ? true
    : false;

type Fitting<M extends Method, Url extends string> = Extract<Route, { method: M }> extends infer R
  ? R extends Route
    ? string extends R['path']
      ? never
      : Fits<Segments<R['path']>, Segments<PathPart<Url>>> extends true
        ? R
        : never
    : never
  : never;
type Parameterised = { path: `${string}:${string}` };
/** A route without parameters is the one a URL names when a parameterised one would take it too (/v1/alerts/history, not /v1/alerts/:id). */
type RouteOf<M extends Method, Url extends string> = [Exclude<Fitting<M, Url>, Parameterised>] extends [never] ? Fitting<M, Url> : Exclude<Fitting<M, Url>, Parameterised>;

/** The body of a 2xx answer to `M Url`; `unknown` when no route of the contract has that path. */
export type AnswerOf<M extends Method, Url extends string> = PathPart<Url> extends '/openapi.json'
  ? ReturnType<typeof openApiDocument>
  : [RouteOf<M, Url>] extends [never]
    ? unknown
    : OutputOf<RouteOf<M, Url>>;

type Declared<R extends Route, S extends number> = S extends keyof R['schema']['response'] ? R['schema']['response'][S] : never;
type Success = 200 | 201 | 202 | 204;
/** What a status says of a body when the route does not declare it: a refusal is at least the API's error body. */
type Undeclared<S extends number> = S extends Success ? unknown : ErrorBody;
/** The body of an answer with status S, as the route declares it. */
export type BodyAt<M extends Method, Url extends string, S extends number> = [RouteOf<M, Url>] extends [never]
  ? Undeclared<S>
  : Declared<RouteOf<M, Url>, S> extends { _zod: { output: infer Body } }
    ? Body
    : Undeclared<S>;
