import { z } from 'zod';

export const API_ROLES = ['read', 'ingest', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** What an admin can change (SPEC 10), each recorded once per change. */
export const AUDIT_ACTIONS = [
  'target.set',
  'target.remove',
  'alert_rule.create',
  'alert_rule.replace',
  'alert_rule.delete',
  'silence.create',
  'silence.expire',
  'kpi.define',
  'kpi.delete',
  'triage',
  'webhook.replay',
  'report.request',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * An entry's id: the time it was made (milliseconds, base 36, nine digits: sorted as the time is)
 * and a random part. A page ends at an entry; the next starts below its id, whose time it carries.
 */
export const AUDIT_ID = /^[0-9a-z]{9}-[0-9a-f]{12}$/;

/** How the principal presented itself: a static token, a provider's access token, the dashboard's session. */
export const PRINCIPAL_VIAS = ['token', 'bearer', 'session'] as const;

export const auditEntry = z.object({
  id: z.string(),
  at: z.string().describe('RFC 3339 UTC'),
  actor: z.string().describe('who: token:<fingerprint> for a static token, oidc:<subject> for a person or client of the OpenID provider'),
  via: z.enum(PRINCIPAL_VIAS),
  action: z.enum(AUDIT_ACTIONS),
  target: z.string().describe('what was changed: a KPI id, kpi/team, a rule name, a silence, alert, delivery or report id'),
  team: z.string().describe('the team the change concerns; all for the organisation, empty when none'),
  before: z.unknown().describe('the state before (null: there was none)'),
  after: z.unknown().describe('the state after (null: there is none any more)'),
});
export type AuditEntry = z.output<typeof auditEntry>;
