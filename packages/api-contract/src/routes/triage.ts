import { z } from 'zod';
import { defineRoute } from '../route.ts';
import { errorBody, iso, limit, listedTeam, unavailableBody } from '../shared.ts';

export const triageAlert = z.object({
  alert_id: z.string(),
  team: z.string(),
  model_id: z.string().nullable(),
  name: z.string(),
  severity: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  fired_at: iso,
  triaged: z.boolean(),
  actionable: z.boolean().nullable(),
  triaged_at: iso.nullable(),
});

export const triageRoutes = {
  listTriage: defineRoute({
    method: 'GET',
    path: '/v1/triage',
    access: 'read',
    teamScope: 'teams',
    tags: ['operations'],
    summary: 'Alerts of the monitors, newest first: triaged=false (default) those awaiting triage, true those triaged, all both',
    querystring: z.object({ team: listedTeam, triaged: z.enum(['false', 'true', 'all']).default('false'), limit: limit(1000, 100) }),
    responses: { 200: z.object({ alerts: z.array(triageAlert) }) },
    links: { 200: { triage: { operation: 'triageAlert', parameters: { alert_id: '$response.body#/alerts/0/alert_id' } } } },
  }),
  triageAlert: defineRoute({
    method: 'POST',
    path: '/v1/triage/:alert_id',
    access: 'ingest',
    teamScope: 'entity',
    tags: ['operations'],
    summary: 'Triage one alert: actionable (it pointed at a real problem) or noise; produces alert.triaged (the latest triage of an alert counts)',
    params: z.object({ alert_id: z.string().min(1).max(256) }),
    body: z.object({ actionable: z.boolean() }),
    responses: {
      202: z.object({ event: z.string().describe('id of the alert.triaged event produced') }),
      404: errorBody.describe('No alert.fired with this alert_id'),
      503: unavailableBody.describe('Kafka did not acknowledge the event (or ClickHouse could not be read); retry'),
    },
  }),
};
