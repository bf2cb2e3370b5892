import { setImmediate as nextTurn } from 'node:timers/promises';
import { ALL_TEAMS, kpiById, type TargetOverride, type ValueReader } from '@kpi/kpi';
import { alertEvaluationSeconds, alertInstances, alertRuleErrors, alertTransitions } from '@kpi/metrics';
import type { Storage } from '@kpi/storage';
import { recordTransitions } from './history.ts';
import { fingerprintOf } from './labels.ts';
import { planNotifications, type Notification, type RuleReceivers } from './notify.ts';
import { periodOfRule, readScopes, type Reading } from './readings.ts';
import { timersOf, SEVERITIES, type AlertRule } from './rule.ts';
import { receiversOf, rulesInForce, type RuleInForce, type RuleSources } from './rules.ts';
import { listSilences, type Silence } from './silences.ts';
import { ALERT_STATES, labelsOf, step, type AlertInstance, type InstanceSpec, type Observation, type Transition } from './state.ts';
import type { AlertStore } from './store.ts';

export interface EvaluatorDeps {
  storage: Storage;
  store: AlertStore;
  sources: RuleSources;
  /** What the API serves, read the same way: KPI values, the targets in force, the teams seen. */
  served: { values: ValueReader; overrides(): TargetOverride[]; knownTeams(): Promise<string[]> };
  /** Base URL of the API and dashboard, for links in notifications. */
  externalUrl: string;
  /** ALERT_EVALUATION_INTERVAL_MS: alerts pushed to an Alertmanager hold for three of them. */
  evaluationIntervalMs: number;
  log?: { warn(object: object, message: string): void };
}

export interface EvaluationResult {
  rules: number;
  instances: number;
  transitions: { fingerprint: string; rule: string; team: string; from: string; to: string }[];
  notifications: Notification[];
}

/** Resolved and inactive instances are kept this long (flapping keeps its history numbering), then forgotten. */
const RETENTION_MS = 3_600_000;

/**
 * One evaluation of every rule in force, at `now`: reads each rule's KPI for its scopes from the
 * served values, steps every instance, appends the state changes to ClickHouse, plans the notifications
 * each group is due, and stores instances, groups and the new notifications (the outbox) in one
 * Redis transaction. Run under the store's evaluation lock. The caller enqueues deliveries.
 */
export async function evaluateAlerts(deps: EvaluatorDeps, now = new Date()): Promise<EvaluationResult> {
  const timer = alertEvaluationSeconds.startTimer();
  try {
    return await evaluate(deps, now);
  } finally {
    timer();
  }
}

/** Rules and silences are read again at least this often, whatever the announced version says. */
const CONFIG_MAX_AGE_MS = 60_000;

/** The rules in force and the silences as last read per store, and the version they were read at. */
const keptConfig = new WeakMap<AlertStore, { version: string | null; readAt: number; since: number; rules: RuleInForce[]; silences: Silence[] }>();

/**
 * The enabled rules in force and the silences not ended at `now`: read from ClickHouse only when
 * the API announced a change (AlertStore.configChanged), or once a minute in case an announcement
 * was lost; otherwise as last read. Evaluations follow every recompute, and two FINAL reads each
 * time were a few percent of the engine's time under a steady stream.
 */
async function configOf(deps: EvaluatorDeps, now: Date): Promise<{ rules: RuleInForce[]; silences: Silence[] }> {
  const version = await deps.store.configVersion();
  let kept = keptConfig.get(deps.store);
  if (!kept || kept.version !== version || Date.now() - kept.readAt > CONFIG_MAX_AGE_MS || now.getTime() < kept.since) {
    const readAt = Date.now();
    const rules = (await rulesInForce(deps.storage, deps.sources, (name, problem) => deps.log?.warn({ rule: name, problem }, 'stored alert rule no longer valid; skipped'))).filter(({ rule }) => rule.enabled);
    kept = { version, readAt, since: now.getTime(), rules, silences: await listSilences(deps.storage, now.getTime()) };
    keptConfig.set(deps.store, kept);
  }
  // Read as those ending after `since`: the ones ending after a later `now` are among them.
  return { rules: kept.rules, silences: kept.silences.filter((silence) => Date.parse(silence.ends_at) > now.getTime()) };
}

/**
 * The fingerprint of a rule's instance for a team scope. Rules are kept between evaluations
 * (configOf), so each label set is hashed once, not on every evaluation (a sixth of its time).
 */
const fingerprints = new WeakMap<AlertRule, Map<string, string>>();
function instanceFingerprint(rule: AlertRule, teamScope: string): string {
  let ofRule = fingerprints.get(rule);
  if (!ofRule) fingerprints.set(rule, (ofRule = new Map()));
  let fingerprint = ofRule.get(teamScope);
  if (fingerprint === undefined) ofRule.set(teamScope, (fingerprint = fingerprintOf(labelsOf(rule, teamScope))));
  return fingerprint;
}

async function evaluate(deps: EvaluatorDeps, now: Date): Promise<EvaluationResult> {
  const { storage, store, sources } = deps;
  const { rules, silences } = await configOf(deps, now);
  const previous = new Map((await store.instances()).map((instance) => [instance.fingerprint, instance]));
  const groups = new Map((await store.groups()).map((group) => [group.id, group]));
  const overrides = deps.served.overrides();
  const teams = rules.some(({ rule }) => rule.scope === 'each_team') ? await deps.served.knownTeams() : [];

  const next = new Map<string, AlertInstance>();
  const transitions: Transition[] = [];
  const apply = (spec: InstanceSpec | undefined, fingerprint: string, observation: Observation) => {
    const result = step(spec, previous.get(fingerprint), observation, now);
    if (result.next) next.set(result.next.fingerprint, result.next);
    if (result.transition) transitions.push(result.transition);
  };

  for (const { rule } of rules) {
    const kpi = kpiById(rule.kpi)!;
    const scopes = rule.scope === 'all' ? [ALL_TEAMS] : rule.scope === 'team' ? [rule.team!] : teams;
    const period = periodOfRule(rule, now);
    let readings: Map<string, Reading> | undefined;
    let error: string | undefined;
    try {
      readings = scopes.length > 0 ? await readScopes(deps.served.values, kpi, { granularity: rule.granularity, tier: rule.tier, teams: scopes, period }, overrides, now) : new Map();
    } catch (caught) {
      error = (caught as Error).message;
      alertRuleErrors.inc();
      deps.log?.warn({ rule: rule.name, err: caught }, 'alert rule could not read its KPI');
    }
    for (const teamScope of scopes) {
      const spec: InstanceSpec = { rule, kpi, teamScope, externalUrl: deps.externalUrl };
      const reading = readings?.get(teamScope);
      apply(spec, instanceFingerprint(rule, teamScope), reading ? { kind: 'value', ...reading, period } : { kind: 'error', message: error ?? 'no reading', period });
    }
    // The served values are read without I/O: without a turn of the event loop between rules, an
    // evaluation (one a second under a stream) would hold every API request for its whole length.
    await nextTurn();
  }
  // Instances no rule produced this time: their rule was deleted or disabled, or no longer covers them.
  for (const [fingerprint, instance] of previous) {
    if (next.has(fingerprint)) continue;
    const inForce = rules.find(({ rule }) => rule.name === instance.rule);
    apply(undefined, fingerprint, { kind: 'gone', reason: inForce ? 'no longer in the rule\'s scope' : 'rule deleted or disabled' });
  }
  for (const [fingerprint, instance] of next) {
    if ((instance.state === 'inactive' || instance.state === 'resolved') && now.getTime() - Date.parse(instance.last_change_at) > RETENTION_MS) next.delete(fingerprint);
  }

  const ruleReceivers: RuleReceivers[] = rules.map(({ rule }) => ({ rule, receivers: receiversOf(rule, sources), timers: timersOf(rule) }));
  const plan = planNotifications({ rules: ruleReceivers, instances: [...next.values()], groups, silences, now, externalUrl: deps.externalUrl, evaluationIntervalMs: deps.evaluationIntervalMs });

  // History first: a crash before the Redis commit replays the same (fingerprint, version) rows.
  await recordTransitions(storage, transitions);
  await store.commit({
    instances: [...next.values()],
    removedInstances: [...previous.keys()].filter((fingerprint) => !next.has(fingerprint)),
    groups: plan.groups,
    removedGroups: plan.removedGroups,
    notifications: plan.notifications,
  });

  for (const transition of transitions) alertTransitions.inc({ to: transition.to });
  alertInstances.reset();
  for (const state of ALERT_STATES) for (const severity of SEVERITIES) alertInstances.set({ state, severity }, 0);
  for (const instance of next.values()) alertInstances.inc({ state: instance.state, severity: instance.severity });

  return {
    rules: rules.length,
    instances: next.size,
    transitions: transitions.map(({ instance, from, to }) => ({ fingerprint: instance.fingerprint, rule: instance.rule, team: instance.team, from, to })),
    notifications: plan.notifications,
  };
}
