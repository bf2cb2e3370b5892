import { z } from 'zod';
import { namedReceiverSchema, parsedRuleSchema, ruleSchema, silenceInputSchema } from '@kpi/alerts';
import { ALERT_STATES, matcherSchema, SEVERITIES } from '@kpi/schemas';
import { defineRoute } from '../route.ts';
import { errorBody, instant, iso, limit, status, team } from '../shared.ts';
import { forecast } from './kpis.ts';

const alertState = z.enum(ALERT_STATES);
const severity = z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(', ')}` });
const labels = z.record(z.string(), z.string());

export const alertInstance = z.object({
  fingerprint: z.string(),
  rule: z.string(),
  kpi: z.string(),
  team: z.string().describe('a team, or all for the organisation'),
  severity,
  labels,
  annotations: labels,
  state: alertState,
  active_at: iso.nullable(),
  fired_at: iso.nullable(),
  resolved_at: iso.nullable(),
  last_change_at: iso,
  last_evaluated_at: iso,
  value: z.number().nullable(),
  target: z.number().nullable(),
  threshold: z.number().nullable(),
  status: status.nullable(),
  forecast: forecast.default(null).describe('the period\'s forecast (SPEC 5c) at the last evaluation, where it has one'),
  period_start: iso,
  period_end: iso,
  no_data: z.boolean(),
  error: z.string().nullable(),
  dashboard_url: z.string(),
  evaluations_held: z.number().int(),
  silenced: z.boolean(),
  silenced_by: z.array(z.string()),
});

export const historyEntry = z.object({
  at: iso,
  fingerprint: z.string(),
  rule: z.string(),
  kpi: z.string(),
  team: z.string(),
  severity: z.string(),
  labels,
  from: alertState,
  to: alertState,
  value: z.number().nullable(),
  target: z.number().nullable(),
  period_start: iso,
  active_at: iso.nullable(),
  reason: z.string(),
});

const ruleOrigin = z.enum(['default', 'file', 'api']);
export const ruleInForce = z.object({ origin: ruleOrigin, rule: parsedRuleSchema });
export const silence = z.object({
  id: z.string(),
  matchers: z.array(matcherSchema),
  starts_at: iso,
  ends_at: iso,
  created_by: z.string(),
  comment: z.string(),
  created_at: iso,
  updated_at: iso,
  state: z.enum(['pending', 'active', 'expired']),
});

const ruleName = z.object({ name: z.string().min(1).max(128) });
const silenceId = z.object({ id: z.string().min(1).max(64) });
const noRule = errorBody.describe('No rule of this name');
const noSilence = errorBody.describe('No silence with this id');
const RULE_RULES =
  'Beyond the schema, a rule is refused with a 400 naming the field when: scope team lacks team (or another scope has one); a threshold condition lacks op or threshold (or the target or forecast condition has one); a forecast condition on a KPI without forecasts (not a count or share) or for the previous period; a granularity the KPI does not offer; the KPI carries no tier and tier is not all; the threshold is outside the range of the KPI\'s unit; a label is reserved; an annotation names an unknown template variable; two receivers share a name; repeat_interval is shorter than group_interval.';

export const alertRoutes = {
  listAlerts: defineRoute({
    method: 'GET',
    path: '/v1/alerts',
    access: 'read',
    teamScope: 'teams',
    tags: ['alerts'],
    summary: 'Alert instances, one per rule and label set: by default those pending or firing (state=active)',
    querystring: z.object({
      state: z.enum(['active', ...ALERT_STATES, 'all'], { error: 'expected active, inactive, pending, firing, resolved or all' }).default('active'),
      team: team.optional().describe('a team, or all for the organisation\'s own alerts'),
      severity: severity.optional(),
      rule: z.string().optional(),
      kpi: z.string().optional(),
    }),
    responses: { 200: z.object({ alerts: z.array(alertInstance) }) },
  }),
  listAlertHistory: defineRoute({
    method: 'GET',
    path: '/v1/alerts/history',
    access: 'read',
    teamScope: 'teams',
    tags: ['alerts'],
    summary: 'Every state change of the alerts, newest first',
    description: 'from must be before to (a 400 names it otherwise).',
    querystring: z.object({
      rule: z.string().optional(),
      team: team.optional().describe('a team, or all for the organisation\'s own alerts'),
      fingerprint: z.string().regex(/^[0-9a-f]{16}$/, 'expected a 16-hex-digit fingerprint').optional(),
      state: alertState.optional().describe('the state entered'),
      severity: severity.optional(),
      from: instant.optional(),
      to: instant.optional(),
      limit: limit(1000, 100),
    }),
    responses: { 200: z.object({ history: z.array(historyEntry) }) },
  }),
  listAlertRules: defineRoute({
    method: 'GET',
    path: '/v1/alert-rules',
    access: 'read',
    teamScope: 'teams',
    tags: ['alerts'],
    summary: "The rules in force: built-in defaults, the rules file and the API's, by name (the API's win); receiver secrets for admins only",
    responses: { 200: z.object({ rules: z.array(ruleInForce), default_receivers: z.array(namedReceiverSchema) }) },
  }),
  getAlertRule: defineRoute({
    method: 'GET',
    path: '/v1/alert-rules/:name',
    access: 'read',
    teamScope: 'entity',
    tags: ['alerts'],
    summary: 'One rule in force and where it comes from',
    params: ruleName,
    responses: { 200: ruleInForce, 404: noRule },
  }),
  createAlertRule: defineRoute({
    method: 'POST',
    path: '/v1/alert-rules',
    access: 'admin',
    teamScope: 'entity',
    tags: ['alerts'],
    summary: 'Creates a rule; a name already in force (from any source) is a 409: PUT replaces',
    description: RULE_RULES,
    body: ruleSchema,
    responses: { 201: ruleInForce, 409: errorBody.describe('A rule of this name is in force') },
    links: {
      201: {
        get: { operation: 'getAlertRule', parameters: { name: '$response.body#/rule/name' } },
        remove: { operation: 'deleteAlertRule', parameters: { name: '$response.body#/rule/name' } },
      },
    },
  }),
  putAlertRule: defineRoute({
    method: 'PUT',
    path: '/v1/alert-rules/:name',
    access: 'admin',
    teamScope: 'entity',
    tags: ['alerts'],
    summary: "Creates (201) or replaces (200) the API's rule of this name; a file or default rule of the name is overridden until it is deleted",
    description: `The body's name must be the path's. ${RULE_RULES}`,
    params: ruleName,
    body: ruleSchema,
    responses: { 200: ruleInForce, 201: ruleInForce },
    links: { 200: { get: { operation: 'getAlertRule', parameters: { name: '$request.path.name' } } }, 201: { get: { operation: 'getAlertRule', parameters: { name: '$request.path.name' } } } },
  }),
  deleteAlertRule: defineRoute({
    method: 'DELETE',
    path: '/v1/alert-rules/:name',
    access: 'admin',
    teamScope: 'entity',
    tags: ['alerts'],
    summary: "Deletes the API's rule of this name; a file or default rule of the name comes back (header x-alert-rule-now-from)",
    params: ruleName,
    responses: {
      204: z.undefined(),
      404: noRule,
      409: errorBody.describe('The rule comes from the rules file or the defaults: disable it with PUT and enabled: false'),
    },
  }),
  listSilences: defineRoute({
    method: 'GET',
    path: '/v1/silences',
    access: 'read',
    teamScope: 'teams',
    tags: ['alerts'],
    summary: 'Silences: by default those in force or starting later (state=current)',
    querystring: z.object({ state: z.enum(['current', 'active', 'pending', 'expired', 'all'], { error: 'expected current, active, pending, expired or all' }).default('current') }),
    responses: { 200: z.object({ silences: z.array(silence) }) },
  }),
  getSilence: defineRoute({
    method: 'GET',
    path: '/v1/silences/:id',
    access: 'read',
    teamScope: 'entity',
    tags: ['alerts'],
    summary: 'One silence and its state',
    params: silenceId,
    responses: { 200: silence, 404: noSilence },
  }),
  createSilence: defineRoute({
    method: 'POST',
    path: '/v1/silences',
    access: 'admin',
    teamScope: 'entity',
    tags: ['alerts'],
    summary: 'Silences the alerts whose labels match every matcher, from starts_at (default now) to ends_at (or for a duration)',
    description:
      'Beyond the schema, refused with a 400 naming the field: neither or both of ends_at and duration; ends_at in the past or not after starts_at; a duration of 0; matchers that all match the empty string (they would mute every alert); an invalid regular expression.',
    body: silenceInputSchema,
    responses: { 201: silence },
    links: {
      201: {
        get: { operation: 'getSilence', parameters: { id: '$response.body#/id' } },
        expire: { operation: 'deleteSilence', parameters: { id: '$response.body#/id' } },
      },
    },
  }),
  deleteSilence: defineRoute({
    method: 'DELETE',
    path: '/v1/silences/:id',
    access: 'admin',
    teamScope: 'entity',
    tags: ['alerts'],
    summary: 'Expires a silence now',
    params: silenceId,
    responses: { 204: z.undefined(), 404: noSilence },
  }),
};
