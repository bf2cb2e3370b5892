import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { routes } from '@kpi/api-contract';
import {
  AlertStore, deleteStoredRule, expireSilence, fallbackOrigin, getSilence, listSilences, newSilence, readHistory, requestEvaluation,
  redactReceiver, rulesInForce, saveRule, saveSilence, silencedBy, silenceState,
  type AlertInstance, type AlertRule, type RuleInForce, type RuleSources, type Silence,
} from '@kpi/alerts';
import type { Runtime } from '@kpi/runtime';
import { outOfScope } from '../access/authenticate.ts';
import { recordChange } from '../access/audit.ts';
import { readsTeam, type Principal } from '../access/principal.ts';
import { BadRequest, toInstant } from '../input.ts';
import type { ReadyAnswers } from '../ready.ts';
import type { Serve } from '../serve.ts';

const STATE_ORDER: Record<string, number> = { firing: 0, pending: 1, resolved: 2, inactive: 3 };
const SEVERITY_ORDER: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** Receiver secrets (header values, hook URLs' paths, routing keys) are shown to admins only. */
function redact(rule: AlertRule, request: FastifyRequest): AlertRule {
  if (request.principal?.role === 'admin') return rule;
  return { ...rule, receivers: rule.receivers.map(redactReceiver) };
}

/**
 * What a principal with team scopes sees and changes (SPEC 10): a rule of one of its teams, or
 * (to read) one evaluated for each team; a silence whose team matchers all name one of its teams.
 * Rules on the organisation's value and silences that reach other teams are the organisation's.
 */
const ruleVisible = (principal: Principal, rule: AlertRule) => principal.teams === null || (rule.scope === 'team' ? readsTeam(principal, rule.team!) : rule.scope === 'each_team');
const ruleWritable = (principal: Principal, rule: AlertRule) => principal.teams === null || (rule.scope === 'team' && readsTeam(principal, rule.team!));
function silenceVisible(principal: Principal, silence: Pick<Silence, 'matchers'>) {
  if (principal.teams === null) return true;
  const teams = silence.matchers.filter((matcher) => matcher.name === 'team');
  return teams.length > 0 && teams.every((matcher) => matcher.op === '=' && readsTeam(principal, matcher.value));
}
const ruleTeam = (rule: AlertRule) => (rule.scope === 'team' ? rule.team! : 'all');
const silenceTeam = (silence: Silence) => silence.matchers.find((matcher) => matcher.name === 'team' && matcher.op === '=')?.value ?? 'all';

function conflict(message: string) {
  return Object.assign(new Error(message), { statusCode: 409, code: 'conflict' });
}

/** What the alert routes share: the kept answers, the instance store and the rule sources. */
interface AlertsContext {
  runtime: Runtime;
  serve: Serve;
  sources: RuleSources;
  ready: ReadyAnswers;
  store: AlertStore;
  /** Reads take rules and silences kept ready; changes read them fresh and forget the kept ones. */
  rulesNow(): Promise<RuleInForce[]>;
  silencesNow(): Promise<Silence[]>;
  /** The rule in force of that name, read fresh. */
  ruleNamed(name: string): Promise<RuleInForce | undefined>;
  /**
   * Rules or silences changed: evaluators read them again (announced through the store) and an
   * evaluation runs right away. A failure is logged: evaluators read them within a minute anyway.
   */
  evaluateSoon(reason: string): Promise<unknown>;
}

type AlertsApp = Parameters<FastifyPluginAsyncZod>[0];

const describeSilence = (silence: Silence, now = Date.now()) => ({ ...silence, state: silenceState(silence, now) });

/**
 * Alerts: the current instances and their history (read), rules and silences (read to list,
 * admin to change). A change to a rule or a silence asks for an evaluation right away.
 */
export const alertRoutes = (runtime: Runtime, serve: Serve, sources: RuleSources, ready: ReadyAnswers): FastifyPluginAsyncZod => async (app) => {
  const { storage, queues } = runtime;
  const store = new AlertStore(runtime.redis, runtime.config.queuePrefix);
  const context: AlertsContext = {
    runtime,
    serve,
    sources,
    ready,
    store,
    rulesNow: () => ready.get('rules', () => rulesInForce(storage, sources)),
    silencesNow: () => ready.get('silences|current', () => listSilences(storage, Date.now())),
    ruleNamed: async (name) => (await rulesInForce(storage, sources)).find((entry) => entry.rule.name === name),
    evaluateSoon: async (reason) => {
      await store.configChanged().catch((error: unknown) => runtime.log.warn({ err: error }, 'could not announce an alert rule or silence change'));
      await requestEvaluation(queues, reason).catch((error: unknown) => runtime.log.warn({ err: error }, 'could not request an alert evaluation'));
    },
  };
  alertInstanceRoutes(app, context);
  alertRuleReadRoutes(app, context);
  alertRuleChangeRoutes(app, context);
  silenceRoutes(app, context);
};

/** The first instant after `now` at which a silence starts or ends: whether an alert is silenced changes then. */
const nextSilenceChange = (silences: readonly Silence[], now: number) =>
  Math.min(...silences.flatMap((silence) => [Date.parse(silence.starts_at), Date.parse(silence.ends_at)]).filter((instant) => instant > now), Infinity);

/** Answers kept per request (query and team scopes); a bound on how many, against unbounded query variety. */
const KEPT_ANSWERS = 256;

type AlertList = Readonly<{ alerts: (Omit<AlertInstance, 'holds' | 'version'> & { evaluations_held: number; silenced: boolean; silenced_by: string[] })[] }>;

/** The alert instances, as they stand and their history. */
function alertInstanceRoutes(app: AlertsApp, { runtime: { storage }, serve, ready, store, silencesNow }: AlertsContext) {
  // The lists answered since the instances, the silences or a silence's state last changed: the
  // dashboard asks the same questions many times between two evaluations, and each answer is
  // hundreds of kilobytes to filter, sort and write. Frozen, so that they are written once too.
  let kept: { instances: readonly Readonly<AlertInstance>[]; silences: readonly Silence[]; until: number; answers: Map<string, AlertList> } | undefined;
  app.route({
    ...serve(routes.listAlerts),
    handler: async (request) => {
      const now = Date.now();
      const [instances, silences] = await Promise.all([store.instances(), silencesNow()]);
      if (!kept || kept.instances !== instances || kept.silences !== silences || now >= kept.until) kept = { instances, silences, until: nextSilenceChange(silences, now), answers: new Map() };
      const key = JSON.stringify([request.query, request.principal!.teams]);
      const answer = kept.answers.get(key);
      if (answer) return answer;
      const { state, team: teamFilter, severity: severityFilter, rule, kpi } = request.query;
      const wanted = (instance: Readonly<AlertInstance>) =>
        (state === 'all' || (state === 'active' ? instance.state === 'pending' || instance.state === 'firing' : instance.state === state)) &&
        (!teamFilter || instance.team === teamFilter) &&
        readsTeam(request.principal!, instance.team) &&
        (!severityFilter || instance.severity === severityFilter) &&
        (!rule || instance.rule === rule) &&
        (!kpi || instance.kpi === kpi);
      const alerts = instances
        .filter(wanted)
        .sort((a, b) => STATE_ORDER[a.state]! - STATE_ORDER[b.state]! || SEVERITY_ORDER[a.severity]! - SEVERITY_ORDER[b.severity]! || a.rule.localeCompare(b.rule) || a.team.localeCompare(b.team))
        .map(({ holds, version, ...instance }) => {
          const silenced = silencedBy(silences, instance.labels, now);
          return { ...instance, evaluations_held: holds, silenced: silenced.length > 0, silenced_by: silenced };
        });
      const listed: AlertList = Object.freeze({ alerts });
      if (kept.answers.size < KEPT_ANSWERS) kept.answers.set(key, listed);
      return listed;
    },
  });

  app.route({
    ...serve(routes.listAlertHistory),
    handler: async (request) => {
      const query = request.query;
      const from = query.from ? toInstant(query.from) : undefined;
      const to = query.to ? toInstant(query.to) : undefined;
      if (from && to && from >= to) throw new BadRequest('from: must be before to');
      const teams = request.principal!.teams ?? undefined;
      // Kept per the teams read: principals with other team scopes never share an answer.
      const entries = await ready.get(`history|${JSON.stringify({ ...query, teams })}`, () => readHistory(storage, { ...query, from, to, teams }));
      return { history: entries };
    },
  });
}

/** The rules in force, with where each comes from. */
function alertRuleReadRoutes(app: AlertsApp, { serve, sources, rulesNow }: AlertsContext) {
  app.route({
    ...serve(routes.listAlertRules),
    handler: async (request) => ({
      rules: (await rulesNow()).filter(({ rule }) => ruleVisible(request.principal!, rule)).map(({ rule, origin }) => ({ origin, rule: redact(rule, request) })),
      default_receivers: request.principal?.role === 'admin' ? sources.defaultReceivers : sources.defaultReceivers.map(redactReceiver),
    }),
  });

  app.route({
    ...serve(routes.getAlertRule),
    handler: async (request, reply) => {
      const found = (await rulesNow()).find((entry) => entry.rule.name === request.params.name);
      // Another team's rule is as good as absent.
      if (!found || !ruleVisible(request.principal!, found.rule)) return reply.code(404).send({ error: 'not_found', message: `no alert rule ${request.params.name}` });
      return { origin: found.origin, rule: redact(found.rule, request) };
    },
  });
}

/** Rules created, replaced and deleted through the API (file and built-in rules are replaced, not deleted). */
function alertRuleChangeRoutes(app: AlertsApp, { runtime: { storage }, serve, sources, ready, ruleNamed, evaluateSoon }: AlertsContext) {
  app.route({
    ...serve(routes.createAlertRule),
    handler: async (request, reply) => {
      const rule = request.body;
      if (!ruleWritable(request.principal!, rule)) return outOfScope(reply, request.principal!, `a rule on ${rule.scope === 'team' ? `team ${rule.team}` : 'every team or the organisation'}`);
      const existing = await ruleNamed(rule.name);
      if (existing) throw conflict(`alert rule ${rule.name} exists (origin ${existing.origin}); PUT /v1/alert-rules/${rule.name} replaces it`);
      await saveRule(storage, rule);
      await recordChange(storage, request, { action: 'alert_rule.create', target: rule.name, team: ruleTeam(rule), before: null, after: rule });
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
      const principal = request.principal!;
      if (!ruleWritable(principal, rule) || (existing && !ruleWritable(principal, existing.rule))) return outOfScope(reply, principal, `rule ${rule.name} (another team's, every team's or the organisation's)`);
      await saveRule(storage, rule);
      await recordChange(storage, request, { action: 'alert_rule.replace', target: rule.name, team: ruleTeam(rule), before: existing ?? null, after: rule });
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
      if (!existing || !ruleVisible(request.principal!, existing.rule)) return reply.code(404).send({ error: 'not_found', message: `no alert rule ${name}` });
      if (!ruleWritable(request.principal!, existing.rule)) return outOfScope(reply, request.principal!, `rule ${name} (every team's)`);
      if (existing.origin !== 'api') {
        throw conflict(`alert rule ${name} comes from ${existing.origin === 'file' ? `the rules file (${sources.fileName})` : 'the built-in defaults'}; disable it with PUT /v1/alert-rules/${name} and enabled: false`);
      }
      await deleteStoredRule(storage, name);
      await recordChange(storage, request, { action: 'alert_rule.delete', target: name, team: ruleTeam(existing.rule), before: existing, after: null });
      ready.forget('rules');
      await evaluateSoon('rule deleted');
      const fallback = fallbackOrigin(sources, name);
      return reply.header('x-alert-rule-now-from', fallback ?? 'none').code(204).send();
    },
  });
}

/** Silences: listed, read, created and expired. */
function silenceRoutes(app: AlertsApp, { runtime: { storage }, serve, ready, silencesNow, evaluateSoon }: AlertsContext) {
  app.route({
    ...serve(routes.listSilences),
    handler: async (request) => {
      const now = Date.now();
      const { state } = request.query;
      const current = state === 'current' || state === 'active' || state === 'pending';
      const silences = current ? await silencesNow() : await ready.get('silences|all', () => listSilences(storage));
      return {
        silences: silences
          .filter((silence) => silenceVisible(request.principal!, silence))
          .map((silence) => describeSilence(silence, now))
          .filter((silence) => state === 'all' || state === 'current' || silence.state === state),
      };
    },
  });

  app.route({
    ...serve(routes.getSilence),
    handler: async (request, reply) => {
      const silence = await getSilence(storage, request.params.id);
      if (!silence || !silenceVisible(request.principal!, silence)) return reply.code(404).send({ error: 'not_found', message: `no silence ${request.params.id}` });
      return describeSilence(silence);
    },
  });

  app.route({
    ...serve(routes.createSilence),
    handler: async (request, reply) => {
      if (!silenceVisible(request.principal!, request.body)) return outOfScope(reply, request.principal!, 'a silence that is not limited to its teams (team matchers with =)');
      const silence = newSilence(request.body);
      await saveSilence(storage, silence);
      await recordChange(storage, request, { action: 'silence.create', target: silence.id, team: silenceTeam(silence), before: null, after: silence });
      ready.forget('silences');
      await evaluateSoon('silence created');
      return reply.code(201).send(describeSilence(silence));
    },
  });

  app.route({
    ...serve(routes.deleteSilence),
    handler: async (request, reply) => {
      const silence = await getSilence(storage, request.params.id);
      if (!silence || !silenceVisible(request.principal!, silence)) return reply.code(404).send({ error: 'not_found', message: `no silence ${request.params.id}` });
      const expired = await expireSilence(storage, silence);
      await recordChange(storage, request, { action: 'silence.expire', target: silence.id, team: silenceTeam(silence), before: silence, after: expired });
      ready.forget('silences');
      await evaluateSoon('silence expired');
      return reply.code(204).send();
    },
  });
}
