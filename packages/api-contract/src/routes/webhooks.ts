import { z } from 'zod';
import { CONNECTOR_NAMES, DELIVERY_OUTCOMES, deliveryRow, storedDelivery } from '@kpi/schemas';
import { defineRoute } from '../route.ts';
import { dependency, errorBody, limit } from '../shared.ts';

const delivery = z.object({ delivery: z.string().describe('id of the stored delivery (empty when it could not be stored)') });
/** What a delivery (or its replay) answers, SPEC §8. */
const outcomes = {
  200: delivery.extend({ ignored: z.string() }).describe('Nothing to measure in the delivery (the sender does not retry)'),
  202: delivery.extend({ events: z.array(z.string()) }).describe('Events produced'),
  400: errorBody.extend({ delivery: z.string().optional() }).describe('The body cannot be read'),
  404: errorBody.describe('The connector is not configured in KPI_CONNECTORS_FILE, or it pulls from its tool (servicenow) and nothing is posted to it'),
  422: errorBody.extend({ delivery: z.string() }).describe('Not mappable (e.g. no team); kept for replay'),
  503: errorBody
    .extend({ delivery: z.string().optional(), dependency: dependency.optional() })
    .describe('Mapping, producing or storing failed (naming the dependency when it was Kafka, ClickHouse or Redis); the sender should retry'),
};
const deliveryId = z.object({ id: z.string().min(1).max(256) });
const instant = z.string().nullable();
/** The state of a connector that pulls from its tool (PullState of @kpi/queue, kept in Redis). */
const pullState = z.object({
  connector: z.enum(CONNECTOR_NAMES),
  cursor: z.string().nullable().describe("Where the next poll starts (ServiceNow: a sys_updated_on, 'YYYY-MM-DD HH:MM:SS' UTC); null before the first page"),
  last_poll_at: instant.describe('When the last poll ended'),
  last_success_at: instant.describe('When the last poll that read every page ended'),
  last_error: z.string().nullable().describe('The last failed request or poll, retried or not'),
  last_error_at: instant,
  consecutive_failures: z.number().int().min(0).describe('Polls in a row that stopped at a page failing every attempt'),
  last_poll: z.object({ pages: z.number().int().min(0), events: z.number().int().min(0), skipped: z.number().int().min(0).describe('Records not mapped (their pages are kept as unmappable deliveries, for replay)') }),
});
/** A tool's own webhook, byte for byte: what POST /v1/webhooks/<connector> and the OpenLineage transport's path take. */
const toolWebhook = {
  method: 'POST' as const,
  access: 'public' as const,
  teamScope: 'none' as const,
  tags: ['webhooks'],
  body: z.unknown().describe("The tool's own webhook payload (JSON), byte for byte as it sent it"),
  rawBody: true as const,
  responses: { ...outcomes, 401: errorBody.describe('Signature or token missing or wrong (counted in /metrics, not stored)') },
};

export const webhookRoutes = {
  receiveWebhook: defineRoute({
    ...toolWebhook,
    path: '/v1/webhooks/:connector',
    summary: `A tool's own webhook (${CONNECTOR_NAMES.join(', ')}; SPEC §8, §8b), authenticated by its signature or the connector's token`,
    description:
      'The body is read as raw bytes, in any media type, and the signature checked over exactly what was sent; every tool sends JSON. A connector not in KPI_CONNECTORS_FILE is a 404, a signature or token missing or wrong a 401, before the body is parsed. Evidently snapshots name their team and model in the query (a missing team is a 422).',
    params: z.object({ connector: z.string().min(1).max(64).meta({ examples: [...CONNECTOR_NAMES] }).describe(`The connector: ${CONNECTOR_NAMES.join(', ')}`) }),
    querystring: z.object({
      team: z.string().max(64).optional().describe('evidently: the team whose model the snapshot monitors'),
      model_id: z.string().max(256).optional().describe('evidently: the model the snapshot monitors'),
      run: z.string().max(100).optional().describe('evidently: the run the snapshot is of (default: the SHA-256 of the body), so a re-post counts once'),
    }),
  }),
  receiveOpenlineage: defineRoute({
    ...toolWebhook,
    path: '/v1/webhooks/openlineage/api/v1/lineage',
    summary: "OpenLineage RunEvents at the HTTP transport's default endpoint (the openlineage connector; SPEC §8b), authenticated by the connector's token (the transport's api_key)",
    description: 'The same as POST /v1/webhooks/openlineage, for a transport configured with only the URL of the pipeline.',
  }),
  listWebhookDeliveries: defineRoute({
    method: 'GET',
    path: '/v1/webhooks/deliveries',
    access: 'admin',
    teamScope: 'organisation',
    tags: ['webhooks'],
    summary: 'Authenticated webhook deliveries, newest first, with their outcome (the raw body: GET /v1/webhooks/deliveries/{id})',
    querystring: z.object({
      connector: z.enum(CONNECTOR_NAMES).optional(),
      outcome: z.enum(DELIVERY_OUTCOMES).optional(),
      limit: limit(1000, 100),
    }),
    responses: { 200: z.object({ deliveries: z.array(deliveryRow) }) },
    links: {
      200: {
        get: { operation: 'getWebhookDelivery', parameters: { id: '$response.body#/deliveries/0/id' } },
        replay: { operation: 'replayWebhookDelivery', parameters: { id: '$response.body#/deliveries/0/id' } },
      },
    },
  }),
  listConnectorPulls: defineRoute({
    method: 'GET',
    path: '/v1/webhooks/pulls',
    access: 'admin',
    teamScope: 'organisation',
    tags: ['webhooks'],
    summary: 'The connectors that pull from their tool (servicenow): cursor, last poll, last success, last error (the pages they read are listed with the deliveries)',
    responses: { 200: z.object({ pulls: z.array(pullState) }) },
  }),
  getWebhookDelivery: defineRoute({
    method: 'GET',
    path: '/v1/webhooks/deliveries/:id',
    access: 'admin',
    teamScope: 'organisation',
    tags: ['webhooks'],
    summary: 'One stored delivery with its raw body and kept headers',
    params: deliveryId,
    responses: { 200: storedDelivery, 404: errorBody.describe('No such delivery') },
  }),
  replayWebhookDelivery: defineRoute({
    method: 'POST',
    path: '/v1/webhooks/deliveries/:id/replay',
    access: 'admin',
    teamScope: 'organisation',
    tags: ['webhooks'],
    summary: 'Runs a stored delivery again through the current mapping and configuration (after a fix); answers as the webhook would',
    params: deliveryId,
    responses: { ...outcomes, 404: errorBody.describe('No such delivery, or its connector is not configured') },
  }),
};
