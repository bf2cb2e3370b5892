import { SEVERITIES, TIER_SCOPES } from '@kpi/schemas';
import { z } from 'zod';
import { TEAM_PATTERN } from '@kpi/events';
import { CATALOG, forecastModelOf, granularityRefusal, GRANULARITIES, KPI_ID, kpiById, type KpiDefinition } from '@kpi/kpi';
import { DURATION_HINT, parseDuration } from '@kpi/config';
import { LABEL_NAME } from './labels.ts';
import { namedReceiverSchema, receiverSchema, type Receiver } from './receivers/index.ts';
import { unknownPlaceholders, TEMPLATE_VARIABLES } from './template.ts';

export { LABEL_NAME } from './labels.ts';
export { receiverSchema, namedReceiverSchema, RECEIVER_TYPES, type Receiver, type ReceiverInput } from './receivers/index.ts';

/**
 * An alert rule on one KPI, in the words of Prometheus alerting rules and Alertmanager routes:
 * a scope (one team, each team separately, or the whole organisation), a condition (the KPI's
 * target is breached, its period under way is forecast to miss it, or an explicit comparison),
 * how long it must hold (`for`), labels, templated annotations and the receivers that hear about
 * it, with their grouping timers.
 */

export const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Labels every alert carries, set from the rule; a rule's own labels cannot replace them. */
export const RESERVED_LABELS = ['alertname', 'kpi', 'team', 'tier', 'granularity', 'severity'] as const;
export const OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Operator = (typeof OPERATORS)[number];
export const CONDITIONS = ['target_breached', 'forecast', 'threshold'] as const;
export { SEVERITIES, type Severity } from '@kpi/schemas';

const duration = z.string({ error: DURATION_HINT }).refine((value) => parseDuration(value) !== undefined, {
  error: (issue) => `${DURATION_HINT}; got ${JSON.stringify(issue.input)}`,
});
const labelName = z.string().regex(LABEL_NAME, 'expected a label name (^[a-zA-Z_][a-zA-Z0-9_]*$)');

// A tier as a string or (as YAML writes it) a number; parsed to the string.
const tier = z.union([z.enum(TIER_SCOPES), z.literal([1, 2, 3]).transform((value) => String(value) as '1' | '2' | '3')], { error: 'expected 1, 2, 3 or all' });

const ruleObject = z
  .object({
    name: z.string({ error: 'expected a rule name' }).regex(RULE_NAME, 'expected 1-128 letters, digits, _ . - (starting with a letter or digit)'),
    description: z.string().max(2000).optional(),
    kpi: z
      .string({ error: 'expected a KPI id' })
      .refine((id) => kpiById(id) !== undefined, { error: (issue) => `unknown KPI ${JSON.stringify(issue.input)}; GET /v1/kpis lists them` })
      // The JSON Schema (the API's OpenAPI document) states the refinement: a built-in id, or a custom KPI's (defined at run time).
      .meta({ anyOf: [{ enum: CATALOG.map((kpi) => kpi.id) }, { pattern: KPI_ID.source }], description: 'a KPI of GET /v1/kpis: a built-in one, or a custom one' }),
    /** team: one team (`team`); each_team: one alert per team seen in the events; all: the whole organisation. */
    scope: z.enum(['team', 'each_team', 'all'], { error: 'expected team, each_team or all' }).default('each_team'),
    team: z.string().regex(TEAM_PATTERN, `expected a team name (${TEAM_PATTERN.source})`).optional(),
    tier: tier.default('all'),
    granularity: z.enum(GRANULARITIES, { error: `expected one of ${GRANULARITIES.join(', ')}` }).default('month'),
    /** Which period is judged: the open one (default) or the last closed one. */
    period: z.enum(['current', 'previous'], { error: 'expected current or previous' }).default('current'),
    /**
     * target_breached (default without op/threshold): the KPI's status is breached; forecast: the
     * period under way is at risk of missing the target (SPEC 5c); threshold: `value op threshold`.
     */
    condition: z.enum(CONDITIONS, { error: `expected ${CONDITIONS.join(', ')}` }).optional(),
    op: z.enum(OPERATORS, { error: `expected one of ${OPERATORS.join(' ')}` }).optional(),
    threshold: z.number({ error: 'expected a finite number' }).optional(),
    /** How long the condition must hold before the alert fires: a duration ("15m") or a number of consecutive evaluations. */
    for: z.union([z.string(), z.number()], { error: `${DURATION_HINT}, or a number of evaluations` }).default('0s'),
    severity: z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(', ')}` }).default('warning'),
    labels: z.record(labelName, z.string().max(1024)).default({}),
    annotations: z.record(labelName, z.string().max(4096)).default({}),
    /** Where notifications go; none: the rules file's default_receivers (if any). */
    receivers: z.array(receiverSchema).max(10, 'at most 10 receivers').default([]),
    group_by: z.array(labelName).default(['alertname']),
    group_wait: duration.default('30s'),
    group_interval: duration.default('5m'),
    repeat_interval: duration.default('4h'),
    /** When the KPI has no value (null) for the period: ok (condition false), alerting (condition true) or keep_state. */
    no_data: z.enum(['ok', 'alerting', 'keep_state'], { error: 'expected ok, alerting or keep_state' }).default('ok'),
    /** When the KPI cannot be read (ClickHouse error): keep_state, alerting or ok. */
    on_error: z.enum(['keep_state', 'alerting', 'ok'], { error: 'expected keep_state, alerting or ok' }).default('keep_state'),
    enabled: z.boolean().default(true),
  })
  .strict();

const NON_NEGATIVE_UNITS = new Set(['count', 'hours', 'days', 'ms', 'usd', 'usd_per_1k_requests']);

/** The values a threshold can meaningfully take for a KPI's unit, or undefined when any number can. */
function thresholdRange(kpi: KpiDefinition): { min: number; max: number; what: string } | undefined {
  if (kpi.unit === 'ratio') return { min: 0, max: 1, what: 'a ratio in [0, 1]' };
  if (kpi.unit === 'correlation') return { min: -1, max: 1, what: 'a correlation in [-1, 1]' };
  if (kpi.unit === 'score') return { min: 1, max: 5, what: 'a survey score in [1, 5]' };
  if (NON_NEGATIVE_UNITS.has(kpi.unit)) return { min: 0, max: Number.MAX_VALUE, what: `a non-negative ${kpi.unit === 'count' ? 'count' : `number of ${kpi.unit}`}` };
  return undefined;
}

export const ruleSchema = ruleObject
  .superRefine((rule, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const kpi = kpiById(rule.kpi);
    if (rule.scope === 'team' && !rule.team) issue('team', 'required when scope is team');
    if (rule.scope !== 'team' && rule.team) issue('team', `only with scope team (scope is ${rule.scope})`);
    if (kpi && rule.tier !== 'all' && !kpi.tiered) issue('tier', `${kpi.id} is computed over events that carry no tier; only tier all applies`);
    const refusal = kpi && granularityRefusal(kpi, rule.granularity);
    if (refusal) issue('granularity', refusal);
    const condition = rule.condition ?? (rule.op !== undefined || rule.threshold !== undefined ? 'threshold' : 'target_breached');
    if (condition === 'forecast') {
      if (kpi && !forecastModelOf(kpi)) issue('condition', `${kpi.id} has no forecast: only counts and shares of counts have one (SPEC 5c)`);
      if (rule.period !== 'current') issue('period', 'a forecast is of the period under way: current');
    }
    if (condition === 'threshold') {
      if (rule.op === undefined) issue('op', `required with a threshold: one of ${OPERATORS.join(' ')}`);
      if (rule.threshold === undefined) issue('threshold', 'required with condition threshold: a finite number');
      const range = kpi && thresholdRange(kpi);
      if (rule.threshold !== undefined && range && (rule.threshold < range.min || rule.threshold > range.max)) {
        issue('threshold', `${rule.kpi} is ${range.what}; ${rule.threshold} is outside it`);
      }
    } else {
      if (rule.op !== undefined) issue('op', 'only with condition threshold (the target supplies the comparison)');
      if (rule.threshold !== undefined) issue('threshold', 'only with condition threshold (the target supplies the value)');
    }
    if (typeof rule.for === 'string' && parseDuration(rule.for) === undefined) issue('for', `${DURATION_HINT}, or a number of evaluations; got ${JSON.stringify(rule.for)}`);
    if (typeof rule.for === 'number' && !(Number.isInteger(rule.for) && rule.for >= 0)) issue('for', `a number of evaluations must be a whole number >= 0; got ${rule.for}`);
    for (const name of Object.keys(rule.labels)) {
      if ((RESERVED_LABELS as readonly string[]).includes(name)) ctx.addIssue({ code: 'custom', path: ['labels', name], message: `${name} is set from the rule itself` });
    }
    for (const [name, template] of Object.entries(rule.annotations)) {
      const unknown = unknownPlaceholders(template);
      if (unknown.length > 0) {
        ctx.addIssue({ code: 'custom', path: ['annotations', name], message: `unknown template variable ${unknown.map((v) => `{{${v}}}`).join(', ')}; known: ${TEMPLATE_VARIABLES.join(', ')}, labels.<name>` });
      }
    }
    const names = rule.receivers.map((receiver, index) => receiver.name ?? `${receiver.type}-${index + 1}`);
    names.forEach((name, index) => {
      if (names.indexOf(name) !== index) ctx.addIssue({ code: 'custom', path: ['receivers', index, 'name'], message: `duplicate receiver name ${name}` });
    });
    const millis = (text: string) => parseDuration(text) ?? 0;
    if (parseDuration(rule.group_interval) === 0) issue('group_interval', 'must be longer than 0s');
    if (parseDuration(rule.repeat_interval) !== undefined && millis(rule.repeat_interval) < millis(rule.group_interval)) {
      issue('repeat_interval', `must not be shorter than group_interval (${rule.group_interval})`);
    }
  })
  .transform((rule) => {
    const condition = rule.condition ?? (rule.op !== undefined || rule.threshold !== undefined ? 'threshold' : 'target_breached');
    const { team, ...rest } = rule;
    return {
      ...rest,
      ...(rule.scope === 'team' ? { team } : {}),
      condition,
      receivers: rule.receivers.map((receiver, index) => ({ ...receiver, name: receiver.name ?? `${receiver.type}-${index + 1}` })) as Receiver[],
    };
  });

/**
 * A rule as it is served and stored: what `ruleSchema` parses to (defaults applied, condition
 * decided, receivers named), as a schema of its own so the API can declare and check its answers.
 */
export const parsedRuleSchema = ruleObject.extend({
  tier: z.enum(TIER_SCOPES),
  condition: z.enum(CONDITIONS),
  receivers: z.array(namedReceiverSchema),
});

export type AlertRuleInput = z.input<typeof ruleSchema>;
export type AlertRule = z.output<typeof ruleSchema>;
export type RuleOrigin = 'default' | 'file' | 'api';

/** `for` as Prometheus reads it (a duration) or as a count of consecutive evaluations. */
export function holdOf(rule: AlertRule): { kind: 'duration'; ms: number } | { kind: 'evaluations'; count: number } {
  return typeof rule.for === 'number' ? { kind: 'evaluations', count: rule.for } : { kind: 'duration', ms: parseDuration(rule.for) ?? 0 };
}

export function timersOf(rule: AlertRule): { groupWaitMs: number; groupIntervalMs: number; repeatIntervalMs: number } {
  return { groupWaitMs: parseDuration(rule.group_wait) ?? 0, groupIntervalMs: parseDuration(rule.group_interval) ?? 0, repeatIntervalMs: parseDuration(rule.repeat_interval) ?? 0 };
}

/** Zod issues as one line each, `path: message`, nested union branches included. */
export function describeIssues(error: z.ZodError, prefix = ''): string[] {
  const lines: string[] = [];
  const visit = (issues: z.core.$ZodIssue[], base: PropertyKey[]) => {
    for (const issue of issues) {
      const path = [...base, ...issue.path];
      const where = [prefix, path.map(String).join('.')].filter(Boolean).join('.');
      lines.push(`${where || '(root)'}: ${issue.message}`);
    }
  };
  visit(error.issues, []);
  return lines;
}

/** Parses one rule; throws RuleError naming every problem. */
export function parseRule(input: unknown): AlertRule {
  const result = ruleSchema.safeParse(input);
  if (!result.success) throw new RuleError(describeIssues(result.error));
  return result.data;
}

export class RuleError extends Error {
  override name = 'RuleError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}
