import type { Storage } from '@kpi/storage';
import type { Notification } from './notify.ts';
import type { AlertState, Transition } from './state.ts';

const chTime = (iso: string) => iso.replace('T', ' ').replace('Z', '');
const fromCh = (text: string | null) => (text === null ? null : new Date(/Z$/.test(text) ? text : `${text.replace(' ', 'T')}Z`).toISOString());

/** Appends state changes to alert_history; (fingerprint, version) makes a retried evaluation's rows replace, not add. */
export async function recordTransitions(storage: Storage, transitions: Transition[]): Promise<void> {
  if (transitions.length === 0) return;
  await storage.insert(
    'alert_history',
    transitions.map(({ instance, from, to, at, reason }) => ({
      fingerprint: instance.fingerprint,
      version: instance.version,
      at: chTime(at),
      rule: instance.rule,
      kpi: instance.kpi,
      team: instance.team,
      severity: instance.severity,
      labels: instance.labels,
      from_state: from,
      to_state: to,
      value: instance.value,
      target: instance.target,
      period_start: chTime(instance.period_start || new Date(0).toISOString()).slice(0, 19),
      active_at: instance.active_at ? chTime(instance.active_at) : null,
      reason: instance.error && to !== 'inactive' ? `${reason} (error: ${instance.error})` : reason,
    })),
  );
}

export interface HistoryEntry {
  at: string;
  fingerprint: string;
  rule: string;
  kpi: string;
  team: string;
  severity: string;
  labels: Record<string, string>;
  from: AlertState;
  to: AlertState;
  value: number | null;
  target: number | null;
  period_start: string;
  active_at: string | null;
  reason: string;
}

export interface HistoryQuery {
  rule?: string;
  team?: string;
  /** Only changes of these teams' alerts (a principal's team scopes); undefined: every team and the organisation. */
  teams?: readonly string[];
  fingerprint?: string;
  state?: AlertState;
  severity?: string;
  from?: Date;
  to?: Date;
  limit: number;
}

/** State changes, newest first. */
export async function readHistory(storage: Storage, query: HistoryQuery): Promise<HistoryEntry[]> {
  const rows = await storage.query<{
    at: string; fingerprint: string; rule: string; kpi: string; team: string; severity: string; labels: Record<string, string>;
    from_state: AlertState; to_state: AlertState; value: number | null; target: number | null; period_start: string; active_at: string | null; reason: string;
  }>(
    `SELECT at, fingerprint, rule, kpi, team, severity, labels, from_state, to_state, value, target, period_start, active_at, reason
     FROM {db:Identifier}.alert_history FINAL
     WHERE ({rule:String} = '' OR rule = {rule:String})
       AND ({team:String} = '' OR team = {team:String})
       AND ({every_team:UInt8} = 1 OR has({teams:Array(String)}, team))
       AND ({fingerprint:String} = '' OR fingerprint = {fingerprint:String})
       AND ({state:String} = '' OR to_state = {state:String})
       AND ({severity:String} = '' OR severity = {severity:String})
       AND at >= {from:DateTime64(3, 'UTC')} AND at < {to:DateTime64(3, 'UTC')}
     ORDER BY at DESC, version DESC
     LIMIT {limit:UInt32}`,
    {
      rule: query.rule ?? '',
      team: query.team ?? '',
      every_team: query.teams === undefined ? 1 : 0,
      teams: query.teams ?? [],
      fingerprint: query.fingerprint ?? '',
      state: query.state ?? '',
      severity: query.severity ?? '',
      from: chTime((query.from ?? new Date(0)).toISOString()),
      to: chTime((query.to ?? new Date('2200-01-01T00:00:00Z')).toISOString()),
      limit: query.limit,
    },
  );
  return rows.map((row) => ({
    at: fromCh(row.at)!,
    fingerprint: row.fingerprint,
    rule: row.rule,
    kpi: row.kpi,
    team: row.team,
    severity: row.severity,
    labels: row.labels,
    from: row.from_state,
    to: row.to_state,
    value: row.value,
    target: row.target,
    period_start: fromCh(row.period_start)!,
    active_at: fromCh(row.active_at),
    reason: row.reason,
  }));
}

/** The delivery record of a notification once it is over (sent, or given up on). */
export async function recordDelivery(storage: Storage, notification: Notification, outcome: 'sent' | 'gave_up', attempts: number, error = ''): Promise<void> {
  await storage.insert('alert_notifications', [
    {
      id: notification.id,
      idempotency_key: notification.id,
      group_key: notification.group_key,
      rule: notification.rule,
      receiver: notification.receiver.name,
      receiver_type: notification.receiver.type,
      sequence: notification.seq,
      status: notification.status,
      alerts: notification.alerts,
      outcome,
      attempts,
      error: error.slice(0, 2000),
      created_at: chTime(notification.created_at),
      finished_at: chTime(new Date().toISOString()),
    },
  ]);
}
