import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { routes } from '@kpi/api-contract';
import {
  AlertStore, deleteStoredRule, expireSilence, fallbackOrigin, getSilence, listSilences, newSilence, readHistory, requestEvaluation,
  redactReceiver, rulesInForce, saveRule, saveSilence, silencedBy, silenceState,
  type AlertInstance, type AlertRule, type RuleInForce, type RuleSources, type Silence,
} from '@kpi/alerts';
import type { Runtime } from '@kpi/runtime';
import type { ReadyAnswers } from '../ready.ts';
import type { Serve } from '../serve.ts';

const toInstant = (value: string) => new Date(value.length === 10 ? `${value}T00:00:00Z` : value);

const STATE_ORDER: Record<string, number> = { firing: 0, pending: 1, resolved: 2, inactive: 3 };
const SEVERITY_ORDER: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** Receiver secrets (header values, hook URLs' paths, routing keys) are shown to admins only. */
function redact(rule: AlertRule, request: FastifyRequest): AlertRule {
  if (request.role === 'admin') return rule;
  return { ...rule, receivers: rule.receivers.map(redactReceiver) };
}

function conflict(message: string) {
  return Object.assign(new Error(message), { statusCode: 409, code: 'conflict' });
}

/**
 * Alerts: the current instances and their history (read), rules and silences (read to list,
 * admin to change). A change to a rule or a silence asks for an evaluation right away.
 */
export const alertRoutes = (runtime: Runtime, serve: Serve, sources: RuleSources, ready: ReadyAnswers): FastifyPluginAsyncZod => async (app) => {
  const { storage, queues } = runtime;
  // Reads take rules and silences kept ready; changes read them fresh and forget the kept ones.
  const rulesNow = () => ready.get('rules', () => rulesInForce(storage, sources));
  const silencesNow = () => ready.get('silences|current', () => listSilences(storage, Date.now()));
  const store = new AlertStore(runtime.redis, runtime.config.queuePrefix);
  const evaluateSoon = (reason: string) => requestEvaluation(queues, reason).catch((error) => runtime.log.warn({ err: error }, 'could not request an alert evaluation'));
  const ruleNamed = async (name: string): Promise<RuleInForce | undefined> => (await rulesInForce(storage, sources)).find((entry) => entry.rule.name === name);
  const describeSilence = (silence: Silence, now = Date.now()) => ({ ...silence, state: silenceState(silence, now) });

  app.route({
    ...serve(routes.listAlerts),
    handler: async (request) => {
      const { state, team: teamFilter, severity: severityFilter, rule, kpi } = request.query;
      const now = Date.now();
      const silences = await silencesNow();
      const wanted = (instance: AlertInstance) =>
        (state === 'all' || (state === 'active' ? instance.state === 'pending' || instance.state === 'firing' : instance.state === state)) &&
        (!teamFilter || instance.team === teamFilter) &&
        (!severityFilter || instance.severity === severityFilter) &&
        (!rule || instance.rule === rule) &&
        (!kpi || instance.kpi === kpi);
      const alerts = (await store.instances())
        .filter(wanted)
        .sort((a, b) => STATE_ORDER[a.state]! - STATE_ORDER[b.state]! || SEVERITY_ORDER[a.severity]! - SEVERITY_ORDER[b.severity]! || a.rule.localeCompare(b.rule) || a.team.localeCompare(b.team))
        .map(({ holds, version, ...instance }) => {
          const silenced = silencedBy(silences, instance.labels, now);
          return { ...instance, evaluations_held: holds, silenced: silenced.length > 0, silenced_by: silenced };
        });
      return { alerts };
    },
  });

  app.route({
    ...serve(routes.listAlertHistory),
    handler: async (request) => {
      const query = request.query;
      const from = query.from ? toInstant(query.from) : undefined;
      const to = query.to ? toInstant(query.to) : undefined;
      if (from && to && from >= to) throw Object.assign(new Error('from: must be before to'), { statusCode: 400, code: 'bad_request' });
      const entries = await ready.get(`history|${JSON.stringify(query)}`, () => readHistory(storage, { ...query, from, to }));
      return { history: entries };
    },
  });

  app.route({
    ...serve(routes.listAlertRules),
    handler: async (request) => ({
      rules: (await rulesNow()).map(({ rule, origin }) => ({ origin, rule: redact(rule, request) })),
      default_receivers: request.role === 'admin' ? sources.defaultReceivers : sources.defaultReceivers.map(redactReceiver),
    }),
  });

  app.route({
    ...serve(routes.getAlertRule),
    handler: async (request, reply) => {
      const found = (await rulesNow()).find((entry) => entry.rule.name === request.params.name);
      if (!found) return reply.code(404).send({ error: 'not_found', message: `no alert rule ${request.params.name}` });
      return { origin: found.origin, rule: redact(found.rule, request) };
    },
  });

  app.route({
    ...serve(routes.createAlertRule),
    handler: async (request, reply) => {
      const rule = request.body;
      const existing = await ruleNamed(rule.name);
      if (existing) throw conflict(`alert rule ${rule.name} exists (origin ${existing.origin}); PUT /v1/alert-rules/${rule.name} replaces it`);
      await saveRule(storage, rule);
      ready.forget('rules');
      await evaluateSoon('rule created');
      return reply.code(201).send({ origin: 'api', rule });
    },
  });

  app.route({
    ...serve(routes.putAlertRule),
    handler: async (request, reply) => {
      const rule = request.body;
      if (rule.name !== request.params.name) {
        return reply.code(400).send({ error: 'bad_request', message: `body.name: must match the path (${request.params.name}); got ${rule.name}` });
      }
      const existing = await ruleNamed(rule.name);
      await saveRule(storage, rule);
      ready.forget('rules');
      await evaluateSoon('rule replaced');
      return reply.code(existing?.origin === 'api' ? 200 : 201).send({ origin: 'api', rule });
    },
  });

  app.route({
    ...serve(routes.deleteAlertRule),
    handler: async (request, reply) => {
      const { name } = request.params;
      const existing = await ruleNamed(name);
      if (!existing) return reply.code(404).send({ error: 'not_found', message: `no alert rule ${name}` });
      if (existing.origin !== 'api') {
        throw conflict(`alert rule ${name} comes from ${existing.origin === 'file' ? `the rules file (${sources.fileName})` : 'the built-in defaults'}; disable it with PUT /v1/alert-rules/${name} and enabled: false`);
      }
      await deleteStoredRule(storage, name);
      ready.forget('rules');
      await evaluateSoon('rule deleted');
      const fallback = fallbackOrigin(sources, name);
      return reply.header('x-alert-rule-now-from', fallback ?? 'none').code(204).send();
    },
  });

  app.route({
    ...serve(routes.listSilences),
    handler: async (request) => {
      const now = Date.now();
      const { state } = request.query;
      const current = state === 'current' || state === 'active' || state === 'pending';
      const silences = current ? await silencesNow() : await ready.get('silences|all', () => listSilences(storage));
      return {
        silences: silences.map((silence) => describeSilence(silence, now)).filter((silence) => state === 'all' || state === 'current' || silence.state === state),
      };
    },
  });

  app.route({
    ...serve(routes.getSilence),
    handler: async (request, reply) => {
      const silence = await getSilence(storage, request.params.id);
      if (!silence) return reply.code(404).send({ error: 'not_found', message: `no silence ${request.params.id}` });
      return describeSilence(silence);
    },
  });

  app.route({
    ...serve(routes.createSilence),
    handler: async (request, reply) => {
      const silence = newSilence(request.body);
      await saveSilence(storage, silence);
      ready.forget('silences');
      await evaluateSoon('silence created');
      return reply.code(201).send(describeSilence(silence));
    },
  });

  app.route({
    ...serve(routes.deleteSilence),
    handler: async (request, reply) => {
      const silence = await getSilence(storage, request.params.id);
      if (!silence) return reply.code(404).send({ error: 'not_found', message: `no silence ${request.params.id}` });
      await expireSilence(storage, silence);
      ready.forget('silences');
      await evaluateSoon('silence expired');
      return reply.code(204).send();
    },
  });
};
