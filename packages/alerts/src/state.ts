import type { Forecast, KpiDefinition, Period, Status } from '@kpi/kpi';
import type { AlertState } from '@kpi/schemas';
import { fingerprintOf, type Labels } from './labels.ts';
import { holdOf, type AlertRule, type Severity } from './rule.ts';
import { formatNumber, periodLabel, renderTemplate, type TemplateVariable } from './template.ts';

/**
 * One alert instance per rule and label set, with Prometheus semantics: the condition turns
 * an inactive alert pending (active_at = now); it fires once the condition has held for `for`
 * (a duration since active_at, or a number of consecutive evaluations); a pending alert whose
 * condition stops holding goes back to inactive; a firing one is resolved. `for: 0` fires at once.
 */
export { ALERT_STATES, type AlertState } from '@kpi/schemas';

export interface AlertInstance {
  fingerprint: string;
  rule: string;
  kpi: string;
  /** The team label: a team name, or "all" for the whole organisation. */
  team: string;
  severity: Severity;
  labels: Labels;
  annotations: Record<string, string>;
  state: AlertState;
  /** When the condition started holding (pending); kept while firing. */
  active_at: string | null;
  fired_at: string | null;
  resolved_at: string | null;
  last_change_at: string;
  last_evaluated_at: string;
  /** Consecutive evaluations the condition has held. */
  holds: number;
  /** Numbers this instance's state changes (the history row's key). */
  version: number;
  value: number | null;
  target: number | null;
  threshold: number | null;
  /** The KPI's status for the period (met, breached, no_target, no_data). */
  status: Status | null;
  /** Where the period under way will end (SPEC 5c), where it has a forecast. */
  forecast: Forecast | null;
  period_start: string;
  period_end: string;
  no_data: boolean;
  error: string | null;
  dashboard_url: string;
}

/** What one evaluation saw for one instance. */
export type Observation =
  | { kind: 'value'; value: number | null; target: number | null; status: Status; forecast: Forecast | null; period: Period }
  | { kind: 'error'; message: string; period: Period }
  /** The rule is gone, disabled, or no longer covers this label set. */
  | { kind: 'gone'; reason: string };

export interface Transition {
  instance: AlertInstance;
  from: AlertState;
  to: AlertState;
  at: string;
  reason: string;
}

/** What an instance is, before any evaluation: its identity and how its annotations render. */
export interface InstanceSpec {
  rule: AlertRule;
  kpi: KpiDefinition;
  /** ALL_TEAMS ('*') or a team. */
  teamScope: string;
  externalUrl: string;
}

const ALL_TEAMS = '*';

export function labelsOf(rule: AlertRule, teamScope: string): Labels {
  return {
    ...rule.labels,
    alertname: rule.name,
    kpi: rule.kpi,
    team: teamScope === ALL_TEAMS ? 'all' : teamScope,
    tier: rule.tier,
    granularity: rule.granularity,
    severity: rule.severity,
  };
}

/** The dashboard's view of the KPI, scope and period behind an alert. */
export function dashboardUrl(externalUrl: string, rule: AlertRule, team: string, periodStart: Date | undefined): string {
  const query = new URLSearchParams({ view: 'kpi', kpi: rule.kpi, granularity: rule.granularity, team, tier: rule.tier });
  if (periodStart) query.set('period', periodStart.toISOString().slice(0, 10));
  return `${externalUrl.replace(/\/+$/, '')}/?${query.toString()}`;
}

const DEFAULT_SUMMARY: Record<AlertRule['condition'], string> = {
  target_breached: '{{kpi_name}} is {{value}} for {{team}} in {{period}}; target {{target}}',
  forecast: '{{kpi_name}} for {{team}} is projected to end {{period}} at {{forecast}}; {{probability_met}} chance of meeting the target {{target}}',
  threshold: '{{kpi_name}} is {{value}} for {{team}} in {{period}}; threshold {{threshold}}',
};
/** Without a rule description: what is judged, for which scope, and against what. */
const DEFAULT_DESCRIPTION: Record<AlertRule['condition'], string> = {
  target_breached: '{{kpi_name}} ({{kpi}}) of team {{team}}, tier {{tier}}, {{granularity}} {{period}}: {{value}} against a target of {{target}} (rule {{rule}}, {{severity}})',
  forecast:
    '{{kpi_name}} ({{kpi}}) of team {{team}}, tier {{tier}}, {{granularity}} {{period}}: {{value}} so far, projected to end at {{forecast}} (80 % between {{forecast_low}} and {{forecast_high}}), {{probability_met}} chance of meeting the target of {{target}} (rule {{rule}}, {{severity}})',
  threshold: '{{kpi_name}} ({{kpi}}) of team {{team}}, tier {{tier}}, {{granularity}} {{period}}: {{value}} against a threshold of {{threshold}} (rule {{rule}}, {{severity}})',
};

function annotationsOf(spec: InstanceSpec, instance: AlertInstance, period: Period | undefined): Record<string, string> {
  const { rule, kpi } = spec;
  const variables: Record<TemplateVariable, string> = {
    value: formatNumber(instance.value),
    target: formatNumber(instance.target),
    forecast: formatNumber(instance.forecast?.value),
    forecast_low: formatNumber(instance.forecast?.low),
    forecast_high: formatNumber(instance.forecast?.high),
    probability_met: instance.forecast ? `${Math.round(instance.forecast.probability_met * 100)} %` : 'n/a',
    threshold: formatNumber(rule.threshold),
    team: instance.team,
    tier: rule.tier,
    kpi: kpi.id,
    kpi_name: kpi.name,
    unit: kpi.unit,
    period: period ? periodLabel(rule.granularity, period.start) : '',
    period_start: instance.period_start,
    period_end: instance.period_end,
    granularity: rule.granularity,
    severity: rule.severity,
    rule: rule.name,
    state: instance.state,
    dashboard_url: instance.dashboard_url,
  };
  const templates = { summary: DEFAULT_SUMMARY[rule.condition], description: DEFAULT_DESCRIPTION[rule.condition], dashboard_url: '{{dashboard_url}}', ...rule.annotations };
  const rendered = Object.fromEntries(Object.entries(templates).map(([name, template]) => [name, renderTemplate(template, variables, instance.labels)]));
  // The rule's own description is plain text, not a template.
  if (rule.description && !('description' in rule.annotations)) rendered.description = rule.description;
  return rendered;
}

function compare(value: number, op: NonNullable<AlertRule['op']>, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** true / false, or undefined for "keep the current state" (no_data or on_error = keep_state). */
export function conditionHolds(rule: AlertRule, observation: Observation): boolean | undefined {
  const policy = (choice: 'ok' | 'alerting' | 'keep_state') => (choice === 'keep_state' ? undefined : choice === 'alerting');
  if (observation.kind === 'gone') return false;
  if (observation.kind === 'error') return policy(rule.on_error);
  if (observation.value === null) return policy(rule.no_data);
  if (rule.condition === 'threshold') return compare(observation.value, rule.op!, rule.threshold!);
  // No forecast (too early in the period, no target): nothing is at risk yet.
  if (rule.condition === 'forecast') return observation.forecast?.outlook === 'at_risk';
  // A KPI with no target for this scope (no_target) cannot breach it.
  return observation.status === 'breached';
}

const iso = (date: Date) => date.toISOString();

/** An instance seen for the first time: inactive, nothing observed yet. */
function newInstance(rule: AlertRule, labels: Labels, now: Date): AlertInstance {
  const at = iso(now);
  return {
    fingerprint: fingerprintOf(labels),
    rule: rule.name,
    kpi: rule.kpi,
    team: labels.team!,
    severity: rule.severity,
    labels,
    annotations: {},
    state: 'inactive',
    active_at: null,
    fired_at: null,
    resolved_at: null,
    last_change_at: at,
    last_evaluated_at: at,
    holds: 0,
    // Versions of a new instance start from the clock, so a pruned and re-created instance never reuses one.
    version: now.getTime() * 1000,
    value: null,
    target: null,
    threshold: null,
    status: null,
    forecast: null,
    period_start: '',
    period_end: '',
    no_data: false,
    error: null,
    dashboard_url: '',
  };
}

/**
 * One evaluation of one instance. `previous` is the stored instance (undefined: never seen or
 * pruned). Returns the instance to store (undefined: nothing to keep) and the state change, if any.
 */
export function step(spec: InstanceSpec | undefined, previous: Readonly<AlertInstance> | undefined, observation: Observation, now: Date): { next: AlertInstance | undefined; transition?: Transition } {
  const at = iso(now);
  if (observation.kind === 'gone' || !spec) {
    if (!previous) return { next: undefined };
    const reason = observation.kind === 'gone' ? observation.reason : 'rule gone';
    const evaluated = { ...previous, last_evaluated_at: at };
    if (previous.state === 'firing') return change(evaluated, 'resolved', at, reason, { resolved_at: at });
    if (previous.state === 'pending') return change(evaluated, 'inactive', at, reason, { active_at: null, holds: 0 });
    return { next: evaluated };
  }
  const { rule } = spec;
  const holds = conditionHolds(rule, observation);
  // Nothing held and nothing to keep: most scopes of most rules, on every evaluation.
  if (!previous && !holds) return { next: undefined };
  const period = observation.period;
  const labels = labelsOf(rule, spec.teamScope);
  const base: AlertInstance = previous ? { ...previous, labels, severity: rule.severity } : newInstance(rule, labels, now);
  const observed: AlertInstance = {
    ...base,
    last_evaluated_at: at,
    threshold: rule.condition === 'threshold' ? rule.threshold! : null,
    period_start: iso(period.start),
    period_end: iso(period.end),
    dashboard_url: dashboardUrl(spec.externalUrl, rule, labels.team!, period.start),
    ...(observation.kind === 'value'
      ? { value: observation.value, target: observation.target, status: observation.status, forecast: observation.forecast, no_data: observation.value === null, error: null }
      : { error: observation.message }),
  };
  const render = (result: { next: AlertInstance | undefined; transition?: Transition }) => {
    if (result.next) result.next.annotations = annotationsOf(spec, result.next, period);
    if (result.transition) result.transition.instance = result.next!;
    return result;
  };

  if (holds === undefined) {
    // keep_state: nothing moves, and a pending alert's count of evaluations does not grow.
    return render({ next: previous ? observed : undefined });
  }
  if (!holds) {
    if (observed.state === 'pending') return render(change(observed, 'inactive', at, 'condition no longer holds', { active_at: null, holds: 0 }));
    if (observed.state === 'firing') return render(change(observed, 'resolved', at, 'condition no longer holds', { resolved_at: at, holds: 0 }));
    return render({ next: previous ? { ...observed, holds: 0 } : undefined });
  }
  const hold = holdOf(rule);
  const count = observed.state === 'pending' || observed.state === 'firing' ? observed.holds + 1 : 1;
  const activeAt = observed.state === 'pending' || observed.state === 'firing' ? observed.active_at! : at;
  const due = hold.kind === 'duration' ? now.getTime() - Date.parse(activeAt) >= hold.ms : count >= hold.count;
  const counted = { ...observed, holds: count };
  if (observed.state === 'firing') return render({ next: counted });
  if (due) {
    return render(change(counted, 'firing', at, observed.state === 'pending' ? 'held for the rule\'s for' : 'condition holds (for: 0)', { active_at: activeAt, fired_at: at, resolved_at: null }));
  }
  if (observed.state === 'pending') return render({ next: counted });
  return render(change(counted, 'pending', at, 'condition holds', { active_at: activeAt, fired_at: null, resolved_at: null }));
}

function change(instance: AlertInstance, to: AlertState, at: string, reason: string, fields: Partial<AlertInstance>): { next: AlertInstance; transition: Transition } {
  const next: AlertInstance = { ...instance, ...fields, state: to, last_change_at: at, version: instance.version + 1 };
  return { next, transition: { instance: next, from: instance.state, to, at, reason } };
}
