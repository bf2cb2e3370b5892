import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import type { FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { ApiRole } from '@kpi/config';
import { CONNECTOR_NAMES, deliveryIdOf, mapDelivery, mlflowRegistry, verifyDelivery, type ConnectorDeps, type ConnectorName, type MlflowRegistry, type Outcome, type RawDelivery } from '@kpi/connectors';
import { produceForRequest } from '../produce.ts';
import { webhookDeliveries, webhookSignatureFailures } from '@kpi/metrics';
import type { Runtime } from '@kpi/runtime';
import { DELIVERY_OUTCOMES, deliveryRow, productionReleasesOfModel, storedDelivery, webhookDeliveries as archive } from '@kpi/storage';
import { errorResponse } from '../schemas.ts';

/** Headers a replay needs (the tool's event name, delivery id, timestamp); signatures and credentials are not kept. */
const keptHeader = (name: string) => name === 'content-type' || name === 'user-agent' || (name.startsWith('x-') && !name.includes('signature'));

const answer = z.object({ delivery: z.string() });
const responses = {
  200: answer.extend({ ignored: z.string() }),
  202: answer.extend({ events: z.array(z.string()) }),
  400: errorResponse.extend({ delivery: z.string().optional() }),
  401: errorResponse,
  404: errorResponse,
  422: errorResponse.extend({ delivery: z.string() }),
  503: errorResponse.extend({ delivery: z.string().optional() }),
};

/**
 * Inbound webhooks of the organisation's tools (SPEC §8): POST /v1/webhooks/<connector> checks the
 * signature on the raw bytes, maps the delivery to events, produces them like POST /v1/events and
 * keeps every authenticated delivery with its outcome; the archive is listed and replayed by admins.
 */
export const webhookRoutes = (runtime: Runtime, auth: (role: ApiRole) => preHandlerAsyncHookHandler): FastifyPluginAsyncZod => async (app) => {
  const { storage, connectors, config } = runtime;
  const registries = new Map<string, MlflowRegistry>();
  const deps: ConnectorDeps = {
    releases: (modelId) => productionReleasesOfModel(storage, modelId),
    mlflowRegistry: (uri) => registries.get(uri) ?? registries.set(uri, mlflowRegistry(uri)).get(uri)!,
  };
  const configured = (name: string): name is ConnectorName => (CONNECTOR_NAMES as string[]).includes(name) && connectors[name as ConnectorName] !== undefined;
  const notConfigured = (reply: FastifyReply, name: string) =>
    reply.code(404).send({ error: 'not_found', message: `connector ${JSON.stringify(name)} is not configured (KPI_CONNECTORS_FILE configures ${CONNECTOR_NAMES.filter((n) => connectors[n]).join(', ') || 'none'})` });

  /** Maps, produces and archives one authenticated delivery; the answer SPEC §8 gives its outcome. */
  async function run(name: ConnectorName, delivery: RawDelivery, attempts: number, reply: FastifyReply) {
    const deliveryId = deliveryIdOf(name, delivery);
    let result: Outcome;
    try {
      result = await mapDelivery(name, connectors[name] as never, delivery, deps);
      if (result.outcome === 'accepted') {
        await produceForRequest(runtime, result.events);
        if (result.pulls.length > 0) {
          await runtime.queues.queue('growthbookResults').addBulk(result.pulls.map((pull) => ({ name: pull.experiment, data: pull })));
        }
      }
    } catch (error) {
      reply.log.error({ err: error, connector: name }, 'webhook delivery failed');
      result = { outcome: 'retry', reason: `could not map or produce the delivery (${(error as Error).message}); the sender should retry` };
    }
    const id = await archive
      .record(storage, {
        connector: name,
        deliveryId,
        receivedAt: delivery.receivedAt,
        outcome: result.outcome,
        reason: result.outcome === 'accepted' ? '' : result.reason,
        events: result.outcome === 'accepted' ? result.events.map((event) => event.id) : [],
        headers: Object.fromEntries(Object.entries(delivery.headers).filter(([key]) => keptHeader(key))),
        body: delivery.body.toString('utf8'),
        attempts,
      })
      .catch((error: unknown) => {
        reply.log.error({ err: error, connector: name }, 'could not archive a webhook delivery');
        return undefined;
      });
    webhookDeliveries.inc({ connector: name, outcome: result.outcome });
    const delivered = id ?? '';
    if (id === undefined && result.outcome !== 'accepted' && result.outcome !== 'ignored') {
      return reply.code(503).send({ error: 'unavailable', message: 'the delivery could not be stored; retry' });
    }
    switch (result.outcome) {
      case 'accepted':
        return reply.code(202).send({ delivery: delivered, events: result.events.map((event) => event.id) });
      case 'ignored':
        return reply.code(200).send({ delivery: delivered, ignored: result.reason });
      case 'unmappable':
        return reply.code(422).send({ error: 'unmappable', message: result.reason, delivery: delivered });
      case 'bad_request':
        return reply.code(400).send({ error: 'bad_request', message: result.reason, delivery: delivered });
      case 'retry':
        return reply.code(503).send({ error: 'unavailable', message: result.reason, delivery: delivered });
    }
  }

  // The tools' bodies are kept as raw bytes: signatures are computed over exactly what was sent.
  await app.register(async (plugin) => {
    const raw = plugin.withTypeProvider<ZodTypeProvider>();
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    raw.post(
      '/v1/webhooks/:connector',
      {
        schema: {
          tags: ['webhooks'],
          description: `A tool's own webhook (${CONNECTOR_NAMES.join(', ')}; SPEC §8), authenticated by its signature or the connector token. 202: events produced; 200: nothing to measure; 422: not mappable (kept for replay).`,
          security: [],
          params: z.object({ connector: z.string() }),
          body: z.unknown(),
          response: responses,
        },
      },
      async (request, reply) => {
        const name = request.params.connector;
        if (!configured(name)) return notConfigured(reply, name);
        const headers = Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value ?? '')]));
        const delivery: RawDelivery = { body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0), headers, receivedAt: new Date() };
        const refused = verifyDelivery(name, connectors[name] as never, delivery);
        if (refused) {
          webhookSignatureFailures.inc({ connector: name });
          return reply.code(401).send({ error: 'unauthorized', message: refused });
        }
        return run(name, delivery, 1, reply);
      },
    );
  });

  const admin = auth('admin');
  app.get(
    '/v1/webhooks/deliveries',
    {
      preHandler: admin,
      schema: {
        tags: ['webhooks'],
        description: 'Authenticated webhook deliveries, newest first, with their outcome (the raw body: GET /v1/webhooks/deliveries/:id).',
        querystring: z.object({
          connector: z.enum(CONNECTOR_NAMES as [ConnectorName, ...ConnectorName[]]).optional(),
          outcome: z.enum(DELIVERY_OUTCOMES).optional(),
          limit: z.coerce.number({ error: 'expected a number' }).int().min(1).max(1000, 'at most 1000').default(100),
        }),
        response: { 200: z.object({ deliveries: z.array(deliveryRow) }) },
      },
    },
    async (request) => ({ deliveries: await archive.list(storage, request.query) }),
  );
  app.get(
    '/v1/webhooks/deliveries/:id',
    {
      preHandler: admin,
      schema: {
        tags: ['webhooks'],
        description: 'One stored delivery with its raw body and kept headers.',
        params: z.object({ id: z.string() }),
        response: { 200: storedDelivery, 404: errorResponse },
      },
    },
    async (request, reply) => {
      const stored = await archive.get(storage, request.params.id);
      return stored ?? reply.code(404).send({ error: 'not_found', message: `no delivery ${request.params.id}` });
    },
  );
  app.post(
    '/v1/webhooks/deliveries/:id/replay',
    {
      preHandler: admin,
      schema: {
        tags: ['webhooks'],
        description: 'Runs a stored delivery again through the current mapping and configuration (after a fix); answers as the webhook would.',
        params: z.object({ id: z.string() }),
        response: responses,
      },
    },
    async (request, reply) => {
      const stored = await archive.get(storage, request.params.id);
      if (!stored) return reply.code(404).send({ error: 'not_found', message: `no delivery ${request.params.id}` });
      if (!configured(stored.connector)) return notConfigured(reply, stored.connector);
      // Authenticated when it arrived; its signature is not kept (an MLflow timestamp would be stale anyway).
      return run(stored.connector, { body: Buffer.from(stored.body, 'utf8'), headers: stored.headers, receivedAt: new Date(stored.received_at) }, stored.attempts + 1, reply);
    },
  );
};
