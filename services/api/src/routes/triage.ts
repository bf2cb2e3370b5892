import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { ApiRole } from '@kpi/config';
import { produceForRequest } from '../produce.ts';
import { parseEvent, TEAM_PATTERN } from '@kpi/events';
import type { Runtime } from '@kpi/runtime';
import { alertTriage } from '@kpi/storage';
import { errorResponse } from '../schemas.ts';

const triageAlert = z.object({
  alert_id: z.string(),
  team: z.string(),
  model_id: z.string().nullable(),
  name: z.string(),
  severity: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  fired_at: z.string(),
  triaged: z.boolean(),
  actionable: z.boolean().nullable(),
  triaged_at: z.string().nullable(),
});

/**
 * Triage of the organisation's model-monitor alerts (alert.fired, e.g. from the Alertmanager
 * connector): list those awaiting triage, and mark one actionable or noise -> alert.triaged, which
 * the alert_precision KPI counts.
 */
export const triageRoutes = (runtime: Runtime, auth: (role: ApiRole) => preHandlerAsyncHookHandler): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  app.get(
    '/v1/triage',
    {
      preHandler: auth('read'),
      schema: {
        tags: ['operations'],
        description: 'Alerts of the monitors, newest first: triaged=false (default) those awaiting triage, true those triaged, all both.',
        querystring: z.object({
          team: z.string().refine((value) => value === 'all' || TEAM_PATTERN.test(value), { error: 'expected all or a team name' }).default('all'),
          triaged: z.enum(['false', 'true', 'all']).default('false'),
          limit: z.coerce.number({ error: 'expected a number' }).int().min(1).max(1000, 'at most 1000').default(100),
        }),
        response: { 200: z.object({ alerts: z.array(triageAlert) }) },
      },
    },
    async (request) => {
      const { team, triaged, limit } = request.query;
      return { alerts: await alertTriage.list(storage, { team: team === 'all' ? undefined : team, triaged: triaged === 'all' ? undefined : triaged === 'true', limit }) };
    },
  );
  app.post(
    '/v1/triage/:alert_id',
    {
      preHandler: auth('ingest'),
      schema: {
        tags: ['operations'],
        description: 'Triage one alert: actionable (it pointed at a real problem) or noise. Produces alert.triaged; the latest triage of an alert counts.',
        params: z.object({ alert_id: z.string().min(1).max(256) }),
        body: z.object({ actionable: z.boolean() }),
        response: { 202: z.object({ event: z.string() }), 404: errorResponse, 503: errorResponse },
      },
    },
    async (request, reply) => {
      const alertId = request.params.alert_id;
      const fired = await alertTriage.fired(storage, alertId);
      if (!fired) return reply.code(404).send({ error: 'not_found', message: `no alert.fired with alert_id ${JSON.stringify(alertId)}` });
      const now = new Date();
      const parsed = parseEvent({
        specversion: '1.0',
        id: `triage:${now.getTime()}:${alertId}`.slice(0, 128),
        source: 'kpi-triage',
        type: 'alert.triaged',
        time: now.toISOString(),
        datacontenttype: 'application/json',
        data: { alert_id: alertId, team: fired.team, actionable: request.body.actionable, ...(fired.model_id ? { model_id: fired.model_id } : {}) },
      });
      if (!parsed.ok) throw new Error(`alert.triaged of ${alertId} does not validate: ${parsed.error}`);
      try {
        await produceForRequest(runtime, [parsed.event]);
      } catch (error) {
        request.log.error({ err: error }, 'could not produce alert.triaged');
        return reply.code(503).send({ error: 'unavailable', message: 'Kafka did not acknowledge the triage; retry' });
      }
      return reply.code(202).send({ event: parsed.event.id });
    },
  );
};
