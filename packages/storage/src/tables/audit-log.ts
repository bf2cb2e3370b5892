import { randomBytes } from 'node:crypto';
import { auditEntry, type AuditAction, type AuditEntry, type PRINCIPAL_VIAS } from '@kpi/schemas';
import { z } from 'zod';
import type { Storage } from '../client.ts';

export { AUDIT_ACTIONS, AUDIT_ID, PRINCIPAL_VIAS, auditEntry, type AuditAction, type AuditEntry } from '@kpi/schemas';

const [EARLIEST, LATEST] = [new Date(0), new Date('2200-01-01T00:00:00Z')];

/** An id (AUDIT_ID): the time in base 36, then a random part. */
const newId = (at: Date) => `${at.getTime().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
const timeOfId = (id: string) => new Date(Math.min(parseInt(id.slice(0, 9), 36), LATEST.getTime()));

const json = z.string().transform((text) => JSON.parse(text) as unknown);
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
