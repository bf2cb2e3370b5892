import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { routes } from '@kpi/api-contract';
import { archivedOutcome, CONNECTOR_NAMES, deliveryIdOf, isPulled, mapDelivery, verifyDelivery, type ConnectorName, type Outcome, type RawDelivery } from '@kpi/connectors';
import { produceForRequest } from '../produce.ts';
import { webhookDeliveries, webhookSignatureFailures } from '@kpi/metrics';
import { PullStates } from '@kpi/queue';
import { asUnavailable, type Dependency, type Runtime } from '@kpi/runtime';
import { webhookDeliveries as archive } from '@kpi/storage';
import { recordChange } from '../access/audit.ts';
import { notUtf8 } from '../body.ts';
import { RETRY_AFTER, type Serve } from '../serve.ts';

/** Headers a replay needs (the tool's event name, delivery id, timestamp); signatures and credentials are not kept. */
const keptHeader = (name: string) => name === 'content-type' || name === 'user-agent' || (name.startsWith('x-') && !name.includes('signature'));

/**
 * Inbound webhooks of the organisation's tools (SPEC §8): POST /v1/webhooks/<connector> checks the
 * signature on the raw bytes, maps the delivery to events, produces them like POST /v1/events and
 * keeps every authenticated delivery with its outcome; the archive is listed and replayed by admins.
 */
export const webhookRoutes = (runtime: Runtime, serve: Serve): FastifyPluginAsyncZod => async (app) => {
  const { storage, connectors, config } = runtime;
  const configured = (name: string): name is ConnectorName => (CONNECTOR_NAMES as readonly string[]).includes(name) && connectors[name as ConnectorName] !== undefined;
  const notConfigured = (reply: FastifyReply, name: string) =>
    reply.code(404).send({ error: 'not_found', message: `connector ${JSON.stringify(name)} is not configured (KPI_CONNECTORS_FILE configures ${CONNECTOR_NAMES.filter((n) => connectors[n]).join(', ') || 'none'})` });

  /**
   * Maps, produces and archives one authenticated delivery; the answer SPEC §8 gives its outcome.
   * `stored` runs once the outcome is archived, before the answer (a replay's audit entry).
   */
  async function run(name: ConnectorName, delivery: RawDelivery, attempts: number, reply: FastifyReply, stored?: (outcome: ReturnType<typeof archivedOutcome>) => Promise<void>) {
    const deliveryId = deliveryIdOf(name, delivery);
    let result: Outcome;
    // What a 503 names: the dependency (Kafka, ClickHouse, Redis) that failed the delivery or its storing, when it was one.
    let failed: Dependency | undefined;
    let notStored: Dependency | undefined;
    try {
      result = await mapDelivery(name, connectors[name] as never, delivery, runtime.connectorDeps);
      if (result.outcome === 'accepted') {
        await produceForRequest(runtime, result.events);
        if (result.pulls.length > 0) {
          await runtime.queues.queue('growthbookResults').addBulk(result.pulls.map((pull) => ({ name: pull.experiment, data: pull })));
        }
      }
    } catch (error) {
      reply.log.error({ err: error, connector: name }, 'webhook delivery failed');
      failed = asUnavailable(error)?.dependency;
      result = { outcome: 'retry', reason: `could not map or produce the delivery (${(error as Error).message}); the sender should retry` };
    }
    const archived = archivedOutcome(result);
    const id = await archiveDelivery(storage, name, delivery, deliveryId, archived, attempts).catch((error: unknown) => {
      reply.log.error({ err: error, connector: name }, 'could not archive a webhook delivery');
      notStored = asUnavailable(error)?.dependency;
      return undefined;
    });
    webhookDeliveries.inc({ connector: name, outcome: archived.outcome });
    await stored?.(archived);
    const delivered = id ?? '';
    if (id === undefined && archived.outcome !== 'accepted' && archived.outcome !== 'ignored') {
      return reply.code(503).headers(RETRY_AFTER).send({ error: 'unavailable', message: 'the delivery could not be stored; retry', ...(notStored ? { dependency: notStored } : {}) });
    }
    return answerOutcome(reply, archived, delivered, failed);
  }

  // The tools' bodies are kept as raw bytes: signatures are computed over exactly what was sent.
  await app.register(async (plugin) => {
    const raw = plugin.withTypeProvider<ZodTypeProvider>();
    raw.removeAllContentTypeParsers();
    // Deliveries are kept and mapped as text: bytes that are not UTF-8 are refused, never replaced.
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(notUtf8(body as Buffer) ?? null, body));
    /** Checks a delivery's authenticity on its raw bytes, then maps it. */
    const receive = async (name: string, request: FastifyRequest, reply: FastifyReply) => {
      if (!configured(name)) return notConfigured(reply, name);
      if (isPulled(name)) return reply.code(404).send({ error: 'not_found', message: `${name} is pulled from the tool, nothing is posted to it (its state: GET /v1/webhooks/pulls)` });
      const headers = Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value ?? '')]));
      // Every parameter as sent (the contract documents Evidently's; other tools may add their own).
      const query = Object.fromEntries(new URL(request.url, 'http://localhost').searchParams);
      const delivery: RawDelivery = { body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0), headers, query, receivedAt: new Date() };
      const refused = verifyDelivery(name, connectors[name] as never, delivery);
      if (refused) {
        webhookSignatureFailures.inc({ connector: name });
        return reply.code(401).send({ error: 'unauthorized', message: refused });
      }
      return run(name, delivery, 1, reply);
    };
    raw.route({ ...serve(routes.receiveWebhook), handler: (request, reply) => receive(request.params.connector, request, reply) });
    // The OpenLineage HTTP transport's default endpoint, below the connector's URL.
    raw.route({ ...serve(routes.receiveOpenlineage), handler: (request, reply) => receive('openlineage', request, reply) });
  });

  deliveryArchiveRoutes(app, runtime, serve, { configured, notConfigured, run });
};

/** The archive of deliveries (listed, read, replayed by admins) and the state of the pulled connectors. */
function deliveryArchiveRoutes(app: Parameters<FastifyPluginAsyncZod>[0], runtime: Runtime, serve: Serve, { configured, notConfigured, run }: DeliveryHandling) {
  const { storage, connectors, config } = runtime;
  app.route({ ...serve(routes.listWebhookDeliveries), handler: async (request) => ({ deliveries: await archive.list(storage, request.query) }) });
  const pullStates = new PullStates(runtime.redis, config.queuePrefix);
  app.route({
    ...serve(routes.listConnectorPulls),
    handler: async () => ({
      pulls: await Promise.all(CONNECTOR_NAMES.filter((name) => connectors[name] && isPulled(name)).map(async (name) => ({ connector: name, ...(await pullStates.get(name)) }))),
    }),
  });
  app.route({
    ...serve(routes.getWebhookDelivery),
    handler: async (request, reply) => {
      const stored = await archive.get(storage, request.params.id);
      return stored ?? reply.code(404).send({ error: 'not_found', message: `no delivery ${request.params.id}` });
    },
  });
  app.route({
    ...serve(routes.replayWebhookDelivery),
    handler: async (request, reply) => {
      const stored = await archive.get(storage, request.params.id);
      if (!stored) return reply.code(404).send({ error: 'not_found', message: `no delivery ${request.params.id}` });
      if (!configured(stored.connector)) return notConfigured(reply, stored.connector);
      const before = { outcome: stored.outcome, reason: stored.reason, events: stored.events, attempts: stored.attempts };
      const audit = (after: ReturnType<typeof archivedOutcome>) =>
        recordChange(storage, request, { action: 'webhook.replay', target: stored.id, team: '', before, after: { ...after, attempts: stored.attempts + 1 } });
      // Authenticated when it arrived; its signature is not kept (an MLflow timestamp would be stale anyway).
      return run(stored.connector, { body: Buffer.from(stored.body, 'utf8'), headers: stored.headers, query: stored.query, receivedAt: new Date(stored.received_at) }, stored.attempts + 1, reply, audit);
    },
  });
}

/** What the archive's replay shares with the receiving routes. */
interface DeliveryHandling {
  configured(name: string): name is ConnectorName;
  notConfigured(reply: FastifyReply, name: string): FastifyReply;
  run(name: ConnectorName, delivery: RawDelivery, attempts: number, reply: FastifyReply, stored?: (outcome: ReturnType<typeof archivedOutcome>) => Promise<void>): Promise<FastifyReply>;
}

/** Keeps one delivery with its outcome (headers that carry no signature or credential). */
function archiveDelivery(storage: Runtime['storage'], connector: ConnectorName, delivery: RawDelivery, deliveryId: string, archived: ReturnType<typeof archivedOutcome>, attempts: number) {
  return archive.record(storage, {
    connector,
    deliveryId,
    receivedAt: delivery.receivedAt,
    ...archived,
    headers: Object.fromEntries(Object.entries(delivery.headers).filter(([key]) => keptHeader(key))),
    query: delivery.query,
    body: delivery.body.toString('utf8'),
    attempts,
  });
}

/** The answer SPEC §8 gives each outcome of an archived delivery. */
function answerOutcome(reply: FastifyReply, archived: ReturnType<typeof archivedOutcome>, delivered: string, failed: Dependency | undefined) {
  switch (archived.outcome) {
    case 'accepted':
      return reply.code(202).send({ delivery: delivered, events: archived.events });
    case 'ignored':
      return reply.code(200).send({ delivery: delivered, ignored: archived.reason });
    case 'unmappable':
      return reply.code(422).send({ error: 'unmappable', message: archived.reason, delivery: delivered });
    case 'bad_request':
      return reply.code(400).send({ error: 'bad_request', message: archived.reason, delivery: delivered });
    case 'retry':
      return reply.code(503).headers(RETRY_AFTER).send({ error: 'unavailable', message: archived.reason, delivery: delivered, ...(failed ? { dependency: failed } : {}) });
  }
}
