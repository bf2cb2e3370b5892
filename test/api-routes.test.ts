import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument, routes } from '@kpi/api-contract';
import { UNDOCUMENTED_ROUTES } from '@kpi/api';
import { startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';

// Every route the API registers is a route of the contract (packages/api-contract), with its
// answers declared, so /openapi.json documents all of it: a route added without a contract fails here.

let pipeline: TestPipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ roles: [] });
});
afterAll(async () => pipeline?.stop());

const contract = Object.entries(routes).map(([operationId, route]) => ({ operationId, method: route.method, url: route.path, responses: Object.keys(route.schema.response).map(Number) }));

describe('the API and its contract', () => {
  it('registers exactly the routes of the contract (besides the documents and the dashboard)', () => {
    const registered = pipeline.api
      .registeredRoutes()
      .filter((route) => route.method !== 'HEAD' && !UNDOCUMENTED_ROUTES.some((pattern) => pattern.test(route.url)))
      .map((route) => `${route.method} ${route.url}`)
      .sort();
    expect(registered).toEqual(contract.map((route) => `${route.method} ${route.url}`).sort());
  });

  it('declares a success answer for every route, and the errors its shape implies (403 wherever role or team scopes can refuse)', () => {
    for (const route of contract) {
      const declared = routes[route.operationId as keyof typeof routes];
      // A success, or the redirect of a sign-in step.
      expect(route.responses.some((status) => status >= 200 && status < 400), route.operationId).toBe(true);
      if (declared.access !== 'public') expect(route.responses, route.operationId).toContain(401);
      if (declared.access === 'admin' || declared.access === 'ingest' || declared.teamScope !== 'none') expect(route.responses, route.operationId).toContain(403);
      if ('params' in declared.schema || 'querystring' in declared.schema || 'body' in declared.schema) expect(route.responses, route.operationId).toContain(400);
      // Whatever reads Kafka, ClickHouse or Redis can find one of them down.
      if (!declared.selfContained) expect(route.responses, route.operationId).toContain(503);
    }
  });

  it('serves the OpenAPI document generated from the contract', async () => {
    const served = await pipeline.get('/openapi.json', '');
    expect(served.status).toBe(200);
    const generated = JSON.parse(JSON.stringify(openApiDocument(routes, { title: '', version: '' })));
    expect(served.body.paths).toEqual(generated.paths);
    expect(served.body.openapi).toBe('3.1.0');
    const values = served.body.paths['/v1/kpis/{id}/values']!.get as { parameters: { name: string; schema: { pattern?: string } }[]; responses: Record<string, { content: Record<string, { schema: { required?: string[] } }> }> };
    expect(values.parameters.find((p) => p.name === 'team')!.schema.pattern).toBe('^[a-z0-9][a-z0-9_-]{0,63}$');
    expect(Object.keys(values.responses).sort()).toEqual(['200', '400', '401', '403', '404', '503']);
    expect(values.responses['404']!.content['application/json']!.schema.required).toEqual(['error', 'message']);
  });

  it('answers a known path with an undeclared method 405, naming the methods it has', async () => {
    const ask = (method: string, url: string) => pipeline.api.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${TOKENS.admin}` } });
    for (const [method, url, allow] of [
      ['TRACE', '/healthz', 'GET, HEAD'],
      ['OPTIONS', '/v1/kpis', 'GET, HEAD'],
      ['POST', '/v1/kpis/releases_delivered/values', 'GET, HEAD'],
      ['PATCH', '/v1/alert-rules/some-rule', 'DELETE, GET, HEAD, PUT'],
      ['QUERY', '/readyz', 'GET, HEAD'],
      // The deliveries resource, not a connector named deliveries.
      ['OPTIONS', '/v1/webhooks/deliveries', 'GET, HEAD'],
    ] as const) {
      const response = await ask(method, url);
      expect(response.statusCode, `${method} ${url}`).toBe(405);
      expect(response.headers.allow, `${method} ${url}`).toBe(allow);
      expect(response.json()).toMatchObject({ error: 'method_not_allowed' });
    }
    expect((await ask('GET', '/v1/no-such-thing')).statusCode).toBe(404);
    expect((await ask('TRACE', '/v1/no-such-thing')).statusCode).toBe(404);
  });

  it('asks for the token before it reads the request: no token is a 401 whatever the body', async () => {
    const response = await pipeline.api.inject({ method: 'POST', url: '/v1/alert-rules', payload: { not: 'a rule' } });
    expect(response.statusCode).toBe(401);
  });
});
