import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Storage } from '../client.ts';

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

const [EARLIEST, LATEST] = [new Date(0), new Date('2200-01-01T00:00:00Z')];

/**
 * An entry's id: the time it was made (milliseconds, base 36, nine digits: sorted as the time is)
 * and a random part. A page ends at an entry; the next starts below its id, whose time it carries.
 */
export const AUDIT_ID = /^[0-9a-z]{9}-[0-9a-f]{12}$/;
const newId = (at: Date) => `${at.getTime().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
const timeOfId = (id: string) => new Date(Math.min(parseInt(id.slice(0, 9), 36), LATEST.getTime()));

/** How the principal presented itself: a static token, a provider's access token, the dashboard's session. */
export const PRINCIPAL_VIAS = ['token', 'bearer', 'session'] as const;

const json = z.string().transform((text) => JSON.parse(text) as unknown);
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
const storedEntry = auditEntry.extend({ before: json, after: json });

export interface AuditRecord {
  actor: string;
  via: (typeof PRINCIPAL_VIAS)[number];
  action: AuditAction;
  target: string;
  team: string;
  before: unknown;
  after: unknown;
}

export interface AuditFilter {
  actor?: string;
  action?: AuditAction;
  target?: string;
  team?: string;
  from?: Date;
  to?: Date;
  /** Entries older than this one (the id of the last of the previous page), for paging. */
  after?: string;
  limit: number;
}

const chTime = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');

/** The audit log (migration 017): appended to by the API, never changed. */
export const auditLog = {
  async append(storage: Storage, record: AuditRecord, at = new Date()): Promise<AuditEntry> {
    const id = newId(at);
    const row = { id, at: chTime(at), ...record, before: JSON.stringify(record.before ?? null), after: JSON.stringify(record.after ?? null) };
    await storage.insert('audit_log', [row]);
    return { ...row, at: at.toISOString(), before: record.before ?? null, after: record.after ?? null };
  },

  /** Newest first; `limit` entries from where `after` left off. */
  async list(storage: Storage, filter: AuditFilter): Promise<AuditEntry[]> {
    const rows = await storage.query<Record<string, unknown>>(
      `SELECT id, at, actor, via, action, target, team, before, after FROM {db:Identifier}.audit_log FINAL
       WHERE ({actor:String} = '' OR actor = {actor:String}) AND ({action:String} = '' OR action = {action:String})
         AND ({target:String} = '' OR target = {target:String}) AND ({team:String} = '' OR team = {team:String})
         AND at >= {from:DateTime64(3, 'UTC')} AND at < {to:DateTime64(3, 'UTC')}
         AND (at, id) < ({cursor_at:DateTime64(3, 'UTC')}, {cursor_id:String})
       ORDER BY at DESC, id DESC LIMIT {limit:UInt32}`,
      {
        actor: filter.actor ?? '',
        action: filter.action ?? '',
        target: filter.target ?? '',
        team: filter.team ?? '',
        from: chTime(filter.from ?? EARLIEST),
        to: chTime(filter.to ?? LATEST),
        // Without a cursor, from after everything: (LATEST, '') is above every entry.
        cursor_at: chTime(filter.after ? timeOfId(filter.after) : LATEST),
        cursor_id: filter.after ?? '',
        limit: filter.limit,
      },
    );
    return rows.map((row) => storedEntry.parse(row));
  },
};
