import { createHash, randomBytes } from 'node:crypto';
import { formatLabels, sortedLabels, type Labels } from './labels.ts';
import type { AlertRule, Receiver } from './rule.ts';
import { silencedBy, type Silence } from './silences.ts';
import type { AlertInstance } from './state.ts';

/**
 * Notification grouping, as Alertmanager does it. Alerts of one rule going to one receiver are
 * grouped by the rule's `group_by` labels. A group notifies when its set of firing alerts changes
 * (a new one fires, or one it notified resolves): the first time after `group_wait`, later at most
 * every `group_interval`; a group whose firing alerts did not change repeats its notification
 * every `repeat_interval`. Silenced alerts are left out of notifications altogether.
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
  /** Alerts last notified as firing, by fingerprint. */
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
}

/** Alertmanager webhook payload, version 4. */
export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Labels;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager's endsAt of an alert that has not ended. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

const hash = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

export const pick = (labels: Labels, names: string[]): Labels => sortedLabels(Object.fromEntries(names.filter((name) => name in labels).map((name) => [name, labels[name]!])));

export function groupIdOf(rule: string, receiver: string, groupLabels: Labels): string {
  return hash(`${rule}\u0000${receiver}\u0000${JSON.stringify(sortedLabels(groupLabels))}`, 24);
}

export const notificationIdOf = (group: string, epoch: string, seq: number) => hash(`${group}|${epoch}|${seq}`, 32);

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
}

export interface Plan {
  groups: GroupState[];
  removedGroups: string[];
  notifications: Notification[];
}

/** Groups idle this long (nothing firing, nothing to announce) are forgotten. */
const IDLE_GROUP_MS = 7 * 86_400_000;

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
      const labelSets = new Map<string, Labels>();
      for (const instance of byRule.get(rule.name) ?? []) {
        const labels = pick(instance.labels, rule.group_by);
        labelSets.set(JSON.stringify(labels), labels);
      }
      for (const group of input.groups.values()) {
        // A group of another grouping (group_by changed) is left to wind down as an orphan.
        const same = group.rule === rule.name && group.receiver.name === receiver.name && JSON.stringify(group.group_by) === JSON.stringify(rule.group_by);
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
          group_by: rule.group_by,
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

    if (orphan) {
      // The rule or receiver was removed: announce what resolved with it, then say nothing more. The
      // record stays until idle (its sequence numbering continues if the rule comes back).
      if (resolved.length > 0 && group.receiver.send_resolved) {
        group.seq += 1;
        notifications.push(build(group, [], resolved, byFingerprint, input.externalUrl, at, group.seq));
        group.last_notified_at = at;
      }
      if (Object.keys(group.notified).length > 0) {
        group.notified = {};
        group.first_seen_at = null;
        group.updated_at = at;
      }
      if (nowMs - Date.parse(group.last_notified_at ?? group.updated_at) > IDLE_GROUP_MS) removedGroups.push(group.id);
      else groups.push(group);
      continue;
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

    if (due) {
      const sendable = firing.length > 0 || group.receiver.send_resolved;
      if (sendable) {
        group.seq += 1;
        notifications.push(build(group, firing, group.receiver.send_resolved ? resolved : [], byFingerprint, input.externalUrl, at, group.seq));
        group.last_notified_at = at;
      }
      group.notified = Object.fromEntries(
        firing.map((instance) => [instance.fingerprint, { labels: instance.labels, annotations: instance.annotations, starts_at: instance.fired_at ?? at, generator_url: instance.dashboard_url }]),
      );
      if (firing.length === 0) group.first_seen_at = null;
      group.updated_at = at;
    }

    const idle = firing.length === 0 && Object.keys(group.notified).length === 0;
    if (idle && nowMs - Date.parse(group.last_notified_at ?? group.updated_at) > IDLE_GROUP_MS) removedGroups.push(group.id);
    else groups.push(group);
  }
  return { groups, removedGroups, notifications };
}

function build(
  group: GroupState,
  firing: AlertInstance[],
  resolved: string[],
  instances: Map<string, AlertInstance>,
  externalUrl: string,
  at: string,
  seq: number,
): Notification {
  const alerts: WebhookAlert[] = [
    ...firing.map((instance) => ({
      status: 'firing' as const,
      labels: instance.labels,
      annotations: instance.annotations,
      startsAt: instance.fired_at ?? at,
      endsAt: ZERO_TIME,
      generatorURL: instance.dashboard_url,
      fingerprint: instance.fingerprint,
    })),
    ...resolved.map((fingerprint) => {
      const instance = instances.get(fingerprint);
      const known = group.notified[fingerprint]!;
      return {
        status: 'resolved' as const,
        labels: instance?.labels ?? known.labels,
        annotations: instance?.annotations ?? known.annotations,
        startsAt: known.starts_at,
        endsAt: instance?.resolved_at ?? at,
        generatorURL: instance?.dashboard_url ?? known.generator_url,
        fingerprint,
      };
    }),
  ].sort((a, b) => (a.status === b.status ? (a.labels.team ?? '').localeCompare(b.labels.team ?? '') || a.fingerprint.localeCompare(b.fingerprint) : a.status === 'firing' ? -1 : 1));
  const status = firing.length > 0 ? 'firing' : 'resolved';
  const max = group.receiver.type === 'webhook' ? group.receiver.max_alerts : 0;
  const shown = max > 0 ? alerts.slice(0, max) : alerts;
  const payload: WebhookPayload = {
    version: '4',
    groupKey: group.key,
    truncatedAlerts: alerts.length - shown.length,
    status,
    receiver: group.receiver.name,
    groupLabels: group.labels,
    commonLabels: common(alerts.map((alert) => alert.labels)),
    commonAnnotations: common(alerts.map((alert) => alert.annotations)),
    externalURL: externalUrl,
    alerts: shown,
  };
  const body = group.receiver.type === 'slack' ? JSON.stringify(slackMessage(payload, group.receiver)) : JSON.stringify(payload);
  return {
    id: notificationIdOf(group.id, group.epoch, seq),
    group: group.id,
    group_key: group.key,
    seq,
    rule: group.rule,
    receiver: group.receiver,
    status,
    alerts: alerts.length,
    body,
    created_at: at,
  };
}

/** The name/value pairs every one of the maps shares. */
function common(maps: Record<string, string>[]): Record<string, string> {
  if (maps.length === 0) return {};
  const [first, ...rest] = maps;
  return sortedLabels(Object.fromEntries(Object.entries(first!).filter(([name, value]) => rest.every((map) => map[name] === value))));
}

const truncate = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const escapeSlack = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A Slack incoming-webhook message: `text` as the fallback, blocks for the alerts. */
export function slackMessage(payload: WebhookPayload, receiver: Extract<Receiver, { type: 'slack' }> | Receiver): Record<string, unknown> {
  const firing = payload.alerts.filter((alert) => alert.status === 'firing');
  const resolved = payload.alerts.filter((alert) => alert.status === 'resolved');
  const name = payload.commonLabels.alertname ?? payload.groupLabels.alertname ?? 'alert';
  const title = payload.status === 'firing' ? `[FIRING:${firing.length}] ${name}` : `[RESOLVED] ${name}`;
  const lines = payload.alerts.map((alert) => {
    const summary = alert.annotations.summary ?? formatLabels(alert.labels);
    const link = alert.generatorURL ? ` <${alert.generatorURL}|dashboard>` : '';
    return `${alert.status === 'firing' ? ':red_circle:' : ':large_green_circle:'} *${escapeSlack(alert.labels.team ?? '')}* ${escapeSlack(summary)}${link}`;
  });
  const severity = payload.commonLabels.severity;
  const message: Record<string, unknown> = {
    text: truncate(`${title}${severity ? ` (${severity})` : ''}: ${payload.alerts.map((alert) => alert.annotations.summary ?? '').filter(Boolean).join('; ')}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n') || '(no alerts)', 3000) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: truncate(`${firing.length} firing, ${resolved.length} resolved${severity ? ` · severity ${severity}` : ''} · ${escapeSlack(formatLabels(payload.groupLabels))}`, 3000) }],
      },
    ],
  };
  if ('channel' in receiver && receiver.channel) message.channel = receiver.channel;
  if ('username' in receiver && receiver.username) message.username = receiver.username;
  return message;
}
