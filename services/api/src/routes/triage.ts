import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes } from '@kpi/api-contract';
import { parseEvent } from '@kpi/events';
import { asUnavailable, type Runtime } from '@kpi/runtime';
import { alertTriage, type TriageAlert } from '@kpi/storage';
import { outOfScope } from '../access/authenticate.ts';
import { listedTeams, readsTeam } from '../access/principal.ts';
import { recordChange } from '../access/audit.ts';
import { produceForRequest } from '../produce.ts';
import type { ReadyAnswers } from '../ready.ts';
import { RETRY_AFTER, type Serve } from '../serve.ts';

/** A triage list is read again at least this often, whatever the version of the alert events says. */
const LIST_MAX_AGE_MS = 30_000;

/**
 * Triage of the organisation's model-monitor alerts (alert.fired, e.g. from the Alertmanager
 * connector): list those awaiting triage, and mark one actionable or noise -> alert.triaged, which
 * the alert_precision KPI counts.
 */
export const triageRoutes = (runtime: Runtime, serve: Serve, ready: ReadyAnswers): FastifyPluginAsyncZod => async (app) => {
  const { storage } = runtime;
  // The lists as last read, per query, with the version of the alert events they were read at: a
  // refresh (every second, see ReadyAnswers) reads that small version and the list itself only
  // when alert events arrived since, or when the list is half a minute old.
  const lists = new Map<string, { version: string; at: number; alerts: TriageAlert[] }>();
  const latestOf = async (key: string, read: () => Promise<TriageAlert[]>) => {
    const version = await alertTriage.version(storage);
    const kept = lists.get(key);
    if (kept && kept.version === version && Date.now() - kept.at < LIST_MAX_AGE_MS) return kept.alerts;
    const at = Date.now();
    const alerts = await read();
    lists.set(key, { version, at, alerts });
    return alerts;
  };
  app.route({
    ...serve(routes.listTriage),
    handler: async (request) => {
      const { team, triaged, limit } = request.query;
      const teams = listedTeams(request.principal, team);
      // One read for every team scope, cut here to the teams this request reads.
      const key = `triage|${triaged}|${limit}`;
      const latest = await ready.get(key, () => latestOf(key, () => alertTriage.latestPerTeam(storage, { triaged: triaged === 'all' ? undefined : triaged === 'true', limit })));
      return { alerts: (teams ? latest.filter((alert) => teams.includes(alert.team)) : latest).slice(0, limit) };
    },
  });
  app.route({
    ...serve(routes.triageAlert),
    handler: async (request, reply) => {
      const alertId = request.params.alert_id;
      const fired = await alertTriage.fired(storage, alertId);
      if (!fired) return reply.code(404).send({ error: 'not_found', message: `no alert.fired with alert_id ${JSON.stringify(alertId)}` });
      if (!readsTeam(request.principal!, fired.team)) return outOfScope(reply, request.principal!, `the alert of team ${fired.team}`);
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
        const unavailable = asUnavailable(error);
        if (!unavailable) request.log.error({ err: error }, 'could not produce alert.triaged');
        const message = unavailable?.message ?? 'Kafka did not acknowledge the triage';
        return reply.code(503).headers(RETRY_AFTER).send({ error: 'unavailable', dependency: 'kafka', message: `${message}; retry` });
      }
      await recordChange(storage, request, {
        action: 'triage',
        target: alertId,
        team: fired.team,
        before: fired.triage,
        after: { triaged: true, actionable: request.body.actionable },
      });
      return reply.code(202).send({ event: parsed.event.id });
    },
  });
};
