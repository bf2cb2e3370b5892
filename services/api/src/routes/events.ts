import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { ApiRole } from '@kpi/config';
import { eventJsonSchema, parseEvent, topicOf, type AnyEvent } from '@kpi/events';
import { eventsProduced } from '@kpi/metrics';
import { asUnavailable, type Runtime } from '@kpi/runtime';
import { produceForRequest } from '../produce.ts';
import { errorResponse } from '../schemas.ts';

const MAX_EVENTS = 1000;

/** POST /v1/events: the HTTP collector. All events valid -> produced, durable, 202; any invalid -> 400, nothing produced. */
export const eventRoutes = (runtime: Runtime, auth: (role: ApiRole) => preHandlerAsyncHookHandler): FastifyPluginAsyncZod => async (app) => {
  const { topics } = runtime.config.kafka;
  app.post(
    '/v1/events',
    {
      preHandler: auth('ingest'),
      config: { rateLimit: { max: runtime.config.http.rateLimitPerMinute, timeWindow: '1 minute' } },
      schema: {
        tags: ['events'],
        description: `One CloudEvent or an array of up to ${MAX_EVENTS}. The JSON Schema of every event type is at GET /v1/schemas.`,
        body: z.unknown(),
        response: {
          202: z.object({ accepted: z.number().int() }),
          400: errorResponse.extend({ errors: z.array(z.object({ index: z.number().int(), error: z.string() })).optional() }),
          503: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const items = Array.isArray(body) ? body : [body];
      if (items.length === 0) return reply.code(400).send({ error: 'bad_request', message: 'body: expected a CloudEvent or a non-empty array of them' });
      if (items.length > MAX_EVENTS) return reply.code(400).send({ error: 'bad_request', message: `body: at most ${MAX_EVENTS} events per request, got ${items.length}` });
      const events: AnyEvent[] = [];
      const errors: { index: number; error: string }[] = [];
      items.forEach((item, index) => {
        const parsed = parseEvent(item, runtime.catalog.eventTypes);
        if (parsed.ok) events.push(parsed.event);
        else errors.push({ index, error: parsed.error });
      });
      if (errors.length > 0) {
        return reply.code(400).send({ error: 'invalid_events', message: `${errors.length} of ${items.length} events are invalid; none was accepted`, errors });
      }
      try {
        await produceForRequest(runtime, events);
      } catch (error) {
        const unavailable = asUnavailable(error);
        if (!unavailable) request.log.error({ err: error }, 'could not produce events');
        const message = unavailable?.message ?? 'Kafka did not acknowledge the events';
        return reply.code(503).header('retry-after', '5').send({ error: 'unavailable', dependency: 'kafka', message: `${message}; retry: events written before the failure count once, by (source, id)` });
      }
      for (const event of events) eventsProduced.inc({ topic: topics[topicOf(event.type)] });
      return reply.code(202).send({ accepted: events.length });
    },
  );

  const schema = eventJsonSchema();
  app.get('/v1/schemas', { preHandler: auth('read'), schema: { tags: ['events'], description: 'JSON Schema (2020-12) of every accepted event type.' } }, async () => schema);
};
