import { z } from 'zod';
import { cloudEventSchema } from '@kpi/events';
import { defineRoute } from '../route.ts';
import { errorBody, unavailableBody } from '../shared.ts';

export const MAX_EVENTS_PER_REQUEST = 1000;

export const eventRoutes = {
  postEvents: defineRoute({
    method: 'POST',
    path: '/v1/events',
    access: 'ingest',
    teamScope: 'entity',
    rateLimited: true,
    handlerValidatesBody: true,
    tags: ['events'],
    summary: 'The HTTP collector: one CloudEvent or an array of them',
    description: `One CloudEvent or an array of up to ${MAX_EVENTS_PER_REQUEST}. All valid: produced to their topics, 202. Any invalid: 400 naming each by index, nothing produced. The JSON Schema of every event type is at GET /v1/schemas. Refinements the schema cannot state (an experiment's allocation sums to 1) are checked too.`,
    body: z.union([cloudEventSchema, z.array(cloudEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST)]),
    responses: {
      202: z.object({ accepted: z.number().int().min(1) }),
      400: errorBody.extend({ errors: z.array(z.object({ index: z.number().int().min(0), error: z.string() })).optional() }),
      503: unavailableBody.describe('Kafka did not acknowledge the events in time; retry: events written before the failure count once, by (source, id)'),
    },
  }),
  getEventSchemas: defineRoute({
    method: 'GET',
    path: '/v1/schemas',
    access: 'read',
    teamScope: 'none',
    tags: ['events'],
    summary: 'JSON Schema (2020-12) of every accepted event type',
    selfContained: true,
    responses: { 200: z.record(z.string(), z.unknown()) },
  }),
};
