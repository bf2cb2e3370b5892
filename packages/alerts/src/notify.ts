import { createHash, randomBytes } from 'node:crypto';
import { ZERO_TIME, type AlertView, type NotificationContent } from './content.ts';
import { formatLabels, sortedLabels, type Labels } from './labels.ts';
import { bodyOf, groupingOf, sendsResolved } from './receivers/index.ts';
import type { AlertRule, Receiver } from './rule.ts';
import { silencedBy, type Silence } from './silences.ts';
import type { AlertInstance } from './state.ts';

export { ZERO_TIME, type AlertView, type NotificationContent, type WebhookAlert, type WebhookPayload } from './content.ts';

/**
 * Notification grouping, as Alertmanager does it. Alerts of one rule going to one receiver are
 * grouped by the rule's `group_by` labels. A group notifies when its set of firing alerts changes
 * (a new one fires, or one it notified resolves): the first time after `group_wait`, later at most
 * every `group_interval`; a group whose firing alerts did not change repeats its notification
 * every `repeat_interval`. Silenced alerts are left out of notifications altogether. Receivers
 * that take one alert per request (PagerDuty) are grouped by every label.
 *
 * Receivers that do their own grouping (Alertmanager) get snapshots instead, as Prometheus sends
 * them: every evaluation, every firing alert of the rule with endsAt = now + 3 evaluation
 * intervals (a lease: if the pipeline stops, the alert ends by itself), and every alert resolved
 * in the last 5 minutes with its resolve time. Silences here do not apply to them: the
 * receiver's own silences do.
 *
 * Every notification gets a sequence number in its group and an id (its idempotency key)
 * derived from the group, the group's epoch and that number: the same notification always has
 * the same key, however often its delivery is retried.
 */

export interface Timers {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

/** What a group last told its receiver about one alert (enough to announce its resolution even if the alert is gone). */
export interface NotifiedAlert {
  labels: Labels;
  annotations: Record<string, string>;
  starts_at: string;
  generator_url: string;
  value?: number | null;
  target?: number | null;
  threshold?: number | null;
  /** Snapshot groups: when the alert was seen resolved (its resolution is re-sent until RESOLVED_RESEND_MS after). */
  resolved_at?: string;
}

export interface GroupState {
  id: string;
  /** Alertmanager's groupKey: the route and the group labels. */
  key: string;
  rule: string;
  receiver: Receiver;
  group_by: string[];
  labels: Labels;
  timers: Timers;
  /** Random per group record: keys of a re-created group never collide with earlier ones. */
  epoch: string;
  /** The sequence number of the group's last notification. */
  seq: number;
  /** When the group first had a firing alert to announce (the group_wait clock), or null. */
  first_seen_at: string | null;
  last_notified_at: string | null;
  /** Alerts last notified as firing (snapshot groups: and those resolved in the last 5 minutes), by fingerprint. */
  notified: Record<string, NotifiedAlert>;
  updated_at: string;
}

export interface Notification {
  /** The idempotency key; also the delivery job's id. */
  id: string;
  group: string;
  group_key: string;
  seq: number;
  rule: string;
  receiver: Receiver;
  status: 'firing' | 'resolved';
  alerts: number;
  /** The request body, exactly as sent on every attempt. */
  body: string;
  created_at: string;
  /** The whole state of its group: a later notification of the group makes it pointless (superseded, not sent). */
  snapshot?: boolean;
}

const hash = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

/** Alertmanager's `group_by: ['...']`: every label, one alert per group. */
export const ALL_LABELS = '...';

export const pick = (labels: Labels, names: string[]): Labels =>
  names.includes(ALL_LABELS) ? sortedLabels(labels) : sortedLabels(Object.fromEntries(names.filter((name) => name in labels).map((name) => [name, labels[name]!])));

export function groupIdOf(rule: string, receiver: string, groupLabels: Labels): string {
  return hash(`${rule}\u0000${receiver}\u0000${JSON.stringify(sortedLabels(groupLabels))}`, 24);
}

export const notificationIdOf = (group: string, epoch: string, seq: number) => hash(`${group}|${epoch}|${seq}`, 32);

/** The labels a receiver's notifications are grouped by, for a rule. */
function groupByOf(rule: AlertRule, receiver: Receiver): string[] {
  switch (groupingOf(receiver)) {
    case 'group_by':
      return rule.group_by;
    case 'alert':
      return [ALL_LABELS];
    case 'snapshot':
      return [];
  }
}

export interface RuleReceivers {
  rule: AlertRule;
  receivers: Receiver[];
  timers: Timers;
}

export interface PlanInput {
  rules: RuleReceivers[];
  /** Every stored instance, after this evaluation's step. */
  instances: AlertInstance[];
  groups: Map<string, GroupState>;
  silences: Silence[];
  now: Date;
  externalUrl: string;
  /** ALERT_EVALUATION_INTERVAL_MS: a pushed firing alert's lease is three of them. */
  evaluationIntervalMs: number;
}

export interface Plan {
  groups: GroupState[];
  removedGroups: string[];
  notifications: Notification[];
}

/** Groups idle this long (nothing firing, nothing to announce) are forgotten. */
const IDLE_GROUP_MS = 7 * 86_400_000;
/** Snapshots: a firing alert ends this many evaluation intervals after it was last sent, unless sent again. */
export const LEASE_INTERVALS = 3;
/** Snapshots: a resolved alert is sent again, with its resolve time, for this long. */
export const RESOLVED_RESEND_MS = 5 * 60_000;

export function planNotifications(input: PlanInput): Plan {
  const { now } = input;
  const at = now.toISOString();
  const nowMs = now.getTime();
  const byRule = new Map<string, AlertInstance[]>();
  for (const instance of input.instances) byRule.set(instance.rule, [...(byRule.get(instance.rule) ?? []), instance]);

  // Groups configured by the rules in force, refreshed with their rule's receiver and timers.
  const configured = new Map<string, GroupState>();
  for (const { rule, receivers, timers } of input.rules) {
    for (const receiver of receivers) {
      const groupBy = groupByOf(rule, receiver);
      const labelSets = new Map<string, Labels>();
      for (const instance of byRule.get(rule.name) ?? []) {
        const labels = pick(instance.labels, groupBy);
        labelSets.set(JSON.stringify(labels), labels);
      }
      for (const group of input.groups.values()) {
        // A group of another grouping (group_by changed) is left to wind down as an orphan.
        const same = group.rule === rule.name && group.receiver.name === receiver.name && group.receiver.type === receiver.type && JSON.stringify(group.group_by) === JSON.stringify(groupBy);
        if (same) labelSets.set(JSON.stringify(group.labels), group.labels);
      }
      for (const labels of labelSets.values()) {
        const id = groupIdOf(rule.name, receiver.name, labels);
        const existing = input.groups.get(id);
        configured.set(id, {
          ...(existing ?? {
            id,
            rule: rule.name,
            labels,
            epoch: randomBytes(6).toString('hex'),
            seq: 0,
            first_seen_at: null,
            last_notified_at: null,
            notified: {},
          }),
          key: `{}/{alertrule=${JSON.stringify(rule.name)},receiver=${JSON.stringify(receiver.name)}}:${formatLabels(labels)}`,
          receiver,
          group_by: groupBy,
          timers,
          updated_at: existing?.updated_at ?? at,
        });
      }
    }
  }

  const groups: GroupState[] = [];
  const removedGroups: string[] = [];
  const notifications: Notification[] = [];
  const all = new Map<string, { group: GroupState; orphan: boolean }>();
  for (const group of configured.values()) all.set(group.id, { group, orphan: false });
  for (const group of input.groups.values()) if (!all.has(group.id)) all.set(group.id, { group, orphan: true });

  for (const { group: current, orphan } of all.values()) {
    const group: GroupState = { ...current, notified: { ...current.notified } };
    const members = (byRule.get(group.rule) ?? []).filter((instance) => JSON.stringify(pick(instance.labels, group.group_by)) === JSON.stringify(group.labels));
    const notification = groupingOf(group.receiver) === 'snapshot' ? planSnapshot(group, members, orphan, input) : planGroup(group, members, orphan, input);
    if (notification) notifications.push(notification);

    const idle = !members.some((instance) => instance.state === 'firing') && Object.keys(group.notified).length === 0;
    if ((idle || orphan) && nowMs - Date.parse(group.last_notified_at ?? group.updated_at) > IDLE_GROUP_MS) removedGroups.push(group.id);
    else groups.push(group);
  }
  return { groups, removedGroups, notifications };
}

/** A group of Alertmanager-style grouping: notifies on changes after group_wait/group_interval, repeats every repeat_interval. Updates `group`. */
function planGroup(group: GroupState, members: AlertInstance[], orphan: boolean, input: PlanInput): Notification | undefined {
  const at = input.now.toISOString();
  const nowMs = input.now.getTime();
  const audible = members.filter((instance) => silencedBy(input.silences, instance.labels, nowMs).length === 0);
  const firing = audible.filter((instance) => instance.state === 'firing');
  const byFingerprint = new Map(members.map((instance) => [instance.fingerprint, instance]));
  // Announced as firing, now resolved (or gone): announce the resolution, unless silenced.
  const resolved = Object.keys(group.notified).filter((fingerprint) => {
    const instance = byFingerprint.get(fingerprint);
    if (!instance) return true;
    return instance.state !== 'firing' && silencedBy(input.silences, instance.labels, nowMs).length === 0;
  });
  const fresh = firing.filter((instance) => !(instance.fingerprint in group.notified));
  const resolvedViews = () => resolved.map((fingerprint) => resolvedView(fingerprint, group.notified[fingerprint]!, byFingerprint.get(fingerprint), byFingerprint.get(fingerprint)?.resolved_at ?? at));

  if (orphan) {
    // The rule or receiver was removed: announce what resolved with it, then say nothing more. The
    // record stays until idle (its sequence numbering continues if the rule comes back).
    let notification: Notification | undefined;
    if (resolved.length > 0 && sendsResolved(group.receiver)) {
      notification = notificationOf(group, resolvedViews(), input, false);
      group.last_notified_at = at;
    }
    if (Object.keys(group.notified).length > 0) {
      group.notified = {};
      group.first_seen_at = null;
      group.updated_at = at;
    }
    return notification;
  }

  const announced = Object.keys(group.notified).length > 0;
  if (!announced && firing.length === 0) group.first_seen_at = null;
  if (!announced && fresh.length > 0 && group.first_seen_at === null) group.first_seen_at = at;
  const since = (instant: string | null) => (instant === null ? Number.POSITIVE_INFINITY : nowMs - Date.parse(instant));
  let due = false;
  if (fresh.length > 0 || resolved.length > 0) {
    // A group with nothing announced starts afresh: it waits group_wait; otherwise changes wait group_interval.
    due = announced ? since(group.last_notified_at) >= group.timers.groupIntervalMs : since(group.first_seen_at) >= group.timers.groupWaitMs;
  } else if (firing.length > 0) {
    due = since(group.last_notified_at) >= group.timers.repeatIntervalMs;
  }
  if (!due) return undefined;

  let notification: Notification | undefined;
  if (firing.length > 0 || sendsResolved(group.receiver)) {
    const views = [...firing.map((instance) => firingView(instance, instance.fired_at ?? at, ZERO_TIME)), ...(sendsResolved(group.receiver) ? resolvedViews() : [])];
    notification = notificationOf(group, views, input, false);
    group.last_notified_at = at;
  }
  group.notified = Object.fromEntries(firing.map((instance) => [instance.fingerprint, notifiedOf(instance, at)]));
  if (firing.length === 0) group.first_seen_at = null;
  group.updated_at = at;
  return notification;
}

/**
 * A snapshot group: at every evaluation, every firing alert (endsAt: a lease of LEASE_INTERVALS
 * evaluation intervals) and every alert resolved within RESOLVED_RESEND_MS (endsAt: its resolve
 * time). A group whose rule or receiver was removed sends its alerts as resolved then. Updates `group`.
 */
function planSnapshot(group: GroupState, members: AlertInstance[], orphan: boolean, input: PlanInput): Notification | undefined {
  const at = input.now.toISOString();
  const nowMs = input.now.getTime();
  const lease = new Date(nowMs + LEASE_INTERVALS * input.evaluationIntervalMs).toISOString();
  const byFingerprint = new Map(members.map((instance) => [instance.fingerprint, instance]));
  const views: AlertView[] = [];
  const notified: Record<string, NotifiedAlert> = {};
  for (const instance of orphan ? [] : members.filter((candidate) => candidate.state === 'firing')) {
    views.push(firingView(instance, instance.fired_at ?? at, lease));
    notified[instance.fingerprint] = notifiedOf(instance, at);
  }
  for (const [fingerprint, known] of Object.entries(group.notified)) {
    if (fingerprint in notified) continue;
    const instance = byFingerprint.get(fingerprint);
    const resolvedAt = known.resolved_at ?? (instance?.state === 'resolved' ? instance.resolved_at : null) ?? at;
    if (nowMs - Date.parse(resolvedAt) >= RESOLVED_RESEND_MS) continue;
    views.push(resolvedView(fingerprint, known, instance, resolvedAt));
    notified[fingerprint] = { ...known, resolved_at: resolvedAt };
  }
  group.notified = notified;
  if (views.length === 0) return undefined;
  group.last_notified_at = at;
  group.updated_at = at;
  return notificationOf(group, views, input, true);
}

function notifiedOf(instance: AlertInstance, at: string): NotifiedAlert {
  return {
    labels: instance.labels,
    annotations: instance.annotations,
    starts_at: instance.fired_at ?? at,
    generator_url: instance.dashboard_url,
    value: instance.value,
    target: instance.target,
    threshold: instance.threshold,
  };
}

function firingView(instance: AlertInstance, startsAt: string, endsAt: string): AlertView {
  return {
    status: 'firing',
    labels: instance.labels,
    annotations: instance.annotations,
    startsAt,
    endsAt,
    generatorURL: instance.dashboard_url,
    fingerprint: instance.fingerprint,
    value: instance.value,
    target: instance.target,
    threshold: instance.threshold,
  };
}

/** A resolved alert: as it is now if it is still known, else as it was last notified. */
function resolvedView(fingerprint: string, known: NotifiedAlert, instance: AlertInstance | undefined, endsAt: string): AlertView {
  return {
    status: 'resolved',
    labels: instance?.labels ?? known.labels,
    annotations: instance?.annotations ?? known.annotations,
    startsAt: known.starts_at,
    endsAt,
    generatorURL: instance?.dashboard_url ?? known.generator_url,
    fingerprint,
    value: instance ? instance.value : (known.value ?? null),
    target: instance ? instance.target : (known.target ?? null),
    threshold: instance ? instance.threshold : (known.threshold ?? null),
  };
}

/** The group's next notification (its sequence number taken), rendered for its receiver. */
function notificationOf(group: GroupState, views: AlertView[], input: PlanInput, snapshot: boolean): Notification {
  const alerts = [...views].sort((a, b) =>
    a.status === b.status ? (a.labels.team ?? '').localeCompare(b.labels.team ?? '') || a.fingerprint.localeCompare(b.fingerprint) : a.status === 'firing' ? -1 : 1,
  );
  const status = alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved';
  const content: NotificationContent = {
    status,
    groupKey: group.key,
    receiver: group.receiver.name,
    groupLabels: group.labels,
    commonLabels: common(alerts.map((alert) => alert.labels)),
    commonAnnotations: common(alerts.map((alert) => alert.annotations)),
    externalURL: input.externalUrl,
    alerts,
  };
  group.seq += 1;
  return {
    id: notificationIdOf(group.id, group.epoch, group.seq),
    group: group.id,
    group_key: group.key,
    seq: group.seq,
    rule: group.rule,
    receiver: group.receiver,
    status,
    alerts: alerts.length,
    body: bodyOf(content, group.receiver),
    created_at: input.now.toISOString(),
    ...(snapshot ? { snapshot } : {}),
  };
}

/** The name/value pairs every one of the maps shares. */
function common(maps: Record<string, string>[]): Record<string, string> {
  if (maps.length === 0) return {};
  const [first, ...rest] = maps;
  return sortedLabels(Object.fromEntries(Object.entries(first!).filter(([name, value]) => rest.every((map) => map[name] === value))));
}
