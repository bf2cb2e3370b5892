import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MAX_EVENTS_PER_REQUEST, routes } from '@kpi/api-contract';
import { eventJsonSchema, parseEvent, topicOf, type AnyEvent } from '@kpi/events';
import { eventsProduced } from '@kpi/metrics';
import { asUnavailable, type Runtime } from '@kpi/runtime';
import { outOfScope } from '../access/authenticate.ts';
import { readsTeam } from '../access/principal.ts';
import { produceForRequest } from '../produce.ts';
import { RETRY_AFTER, type Serve } from '../serve.ts';

/** POST /v1/events: the HTTP collector. All events valid -> produced, durable, 202; any invalid -> 400, nothing produced. */
export const eventRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  const { topics } = runtime.config.kafka;
  app.route({
    ...serve(routes.postEvents),
    handler: async (request, reply) => {
      const body = request.body;
      const items = body === undefined ? [] : Array.isArray(body) ? body : [body];
      if (items.length === 0) return reply.code(400).send({ error: 'bad_request', message: 'body: expected a CloudEvent or a non-empty array of them' });
      if (items.length > MAX_EVENTS_PER_REQUEST) return reply.code(400).send({ error: 'bad_request', message: `body: at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${items.length}` });
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
      // A principal with team scopes sends events of its teams only (an event without a team is the organisation's).
      const principal = request.principal!;
      const teamOf = (event: AnyEvent) => String((event.data as { team?: unknown }).team ?? 'all');
      const foreign = events.findIndex((event) => !readsTeam(principal, teamOf(event)));
      if (foreign >= 0) return outOfScope(reply, principal, `event ${foreign} (team ${teamOf(events[foreign]!)}); none was accepted`);
      try {
        await produceForRequest(runtime, events);
      } catch (error) {
        const unavailable = asUnavailable(error);
        if (!unavailable) request.log.error({ err: error }, 'could not produce events');
        const message = unavailable?.message ?? 'Kafka did not acknowledge the events';
        return reply.code(503).headers(RETRY_AFTER).send({ error: 'unavailable', dependency: 'kafka', message: `${message}; retry: events written before the failure count once, by (source, id)` });
      }
      for (const event of events) eventsProduced.inc({ topic: topics[topicOf(event.type)] });
      return reply.code(202).send({ accepted: events.length });
    },
  });

  const schema = eventJsonSchema();
  app.route({ ...serve(routes.getEventSchemas), handler: async () => schema });
};
