import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CATALOG, DIRECTIONS, GRANULARITIES, KPI_ID, STATUSES, UNITS } from '@kpi/kpi';
import { instant, openApiDocument, routes } from '../src/index.ts';
import { ApiError, createClient } from '../src/client.ts';

const document = openApiDocument(routes, { title: 'test', version: '0' }) as unknown as {
  paths: Record<string, Record<string, { parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[]; responses: Record<string, { content?: Record<string, { schema: Record<string, any> }> }> }>>;
};
const operation = (method: string, path: string) => document.paths[path]![method]!;
const parameter = (method: string, path: string, name: string) => operation(method, path).parameters.find((p) => p.name === name)!;

describe('the OpenAPI document generated from the contract', () => {
  it('states the constraints of the shared parameters', () => {
    expect(parameter('get', '/v1/scorecard', 'team').schema).toMatchObject({ type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', default: 'all' });
    expect(parameter('get', '/v1/kpis/{id}/values', 'tier').schema.enum).toEqual(expect.arrayContaining(['all', '1', '2', '3']));
    expect(parameter('get', '/v1/incidents', 'limit').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
    expect(parameter('get', '/v1/kpis/{id}/breakdown', 'period_start').required).toBe(true);
    expect(parameter('get', '/v1/kpis/{id}/values', 'id')).toMatchObject({ in: 'path', required: true });
  });

  it('states a date parameter as one pattern: every valid day of 1970 to 2105, or a timestamp with offset, and nothing else', () => {
    // One pattern, not a format plus patterns to intersect: generators (schemathesis) produce valid dates directly.
    expect(parameter('get', '/v1/kpis/{id}/breakdown', 'period_start').schema).toEqual({ type: 'string', pattern: expect.any(String) });
    const wrong: string[] = [];
    for (let year = 1965; year <= 2110; year++) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          const valid = year >= 1970 && year <= 2105 && new Date(`${date}T00:00:00Z`).getUTCDate() === day;
          if (instant.safeParse(date).success !== valid) wrong.push(date);
        }
      }
    }
    expect(wrong).toEqual([]);
    for (const accepted of ['2026-01-31T10:00:00Z', '2026-01-31T10:00:00.123+02:00', '2104-02-29']) expect(instant.safeParse(accepted).success, accepted).toBe(true);
    for (const refused of ['2026-01-31T10:00Z', '2026-01-31T24:00:00Z', '2106-01-01T00:00:00Z', '2100-02-29', '2026-01-31 10:00:00Z']) expect(instant.safeParse(refused).success, refused).toBe(false);
    expect(z.toJSONSchema(instant)).not.toHaveProperty('allOf');
  });

  it('takes its enumerations from where the pipeline defines them', () => {
    expect(parameter('get', '/v1/kpis/{id}/values', 'granularity').schema.enum).toEqual([...GRANULARITIES]);
    const kpi = operation('get', '/v1/kpis').responses['200']!.content!['application/json']!.schema.items.properties;
    expect(kpi.unit.enum).toEqual([...UNITS]);
    expect(kpi.direction.enum).toEqual([...DIRECTIONS]);
    const value = operation('get', '/v1/kpis/{id}/values').responses['200']!.content!['application/json']!.schema.properties.values.items.properties;
    expect(value.status.enum).toEqual([...STATUSES]);
  });

  it('declares the error body for every error status', () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, { responses }] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(responses)) {
          if (Number(status) < 400 || path === '/readyz') continue;
          expect(response.content?.['application/json']?.schema.required, `${method} ${path} ${status}`).toEqual(expect.arrayContaining(['error', 'message']));
        }
      }
    }
  });

  it('states which KPIs an alert rule takes: the built-in ids, or a custom KPI id (defined at run time)', () => {
    const body = operation('post', '/v1/alert-rules') as unknown as { requestBody: { content: Record<string, { schema: { properties: Record<string, any> } }> } };
    const kpi = body.requestBody.content['application/json']!.schema.properties.kpi;
    expect(kpi.anyOf).toEqual([{ enum: CATALOG.map((entry) => entry.id) }, { pattern: KPI_ID.source }]);
  });

  it('links created resources to the operations that read and remove them', () => {
    expect(operation('post', '/v1/silences').responses['201']).toMatchObject({ links: { get: { operationId: 'getSilence', parameters: { id: '$response.body#/id' } } } });
  });
});

describe('the typed client', () => {
  const seen: { url: string; init: RequestInit | undefined }[] = [];
  const answer = (status: number, body: unknown) => async (url: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(url), init });
    return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };

  it('fills path parameters and the query, sends the token and parses the answer', async () => {
    const api = createClient({ baseUrl: 'http://api.example/', token: 't0k', fetch: answer(200, { kpi: 'x', values: [] }) });
    const result = await api.get('/v1/kpis/:id/values', { params: { id: 'time to/mitigate' }, query: { granularity: 'week', team: undefined, tier: '1' } });
    expect(result).toEqual({ kpi: 'x', values: [] });
    expect(seen.at(-1)!.url).toBe('http://api.example/v1/kpis/time%20to%2Fmitigate/values?granularity=week&tier=1');
    expect(new Headers(seen.at(-1)!.init!.headers).get('authorization')).toBe('Bearer t0k');
  });

  it('sends a JSON body, and throws an ApiError carrying the API error body', async () => {
    const api = createClient({ token: () => 'later', fetch: answer(409, { error: 'conflict', message: 'alert rule x exists' }) });
    const failure = await api.post('/v1/alert-rules', { body: { name: 'x', kpi: 'sev0_incidents' } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 409, body: { error: 'conflict' }, message: 'POST /v1/alert-rules: 409 alert rule x exists' });
    expect(seen.at(-1)!.init!.body).toBe(JSON.stringify({ name: 'x', kpi: 'sev0_incidents' }));
  });

  it('resolves a 204 to undefined and maps errors as asked', async () => {
    expect(await createClient({ fetch: answer(204, undefined) }).delete('/v1/silences/:id', { params: { id: 's1' } })).toBeUndefined();
    const mapped = createClient({ fetch: answer(401, { error: 'unauthorized', message: 'no' }), mapError: (error) => new RangeError(`sign in (${error.status})`) });
    await expect(mapped.get('/v1/kpis')).rejects.toThrow(new RangeError('sign in (401)'));
  });
});
