import { z } from 'zod';
import type { NotificationContent } from '../content.ts';
import type { Severity } from '../rule.ts';
import { httpUrl, receiverName, truncate } from './common.ts';
import { defineReceiver } from './kind.ts';

/** A rule's severity as PagerDuty's (critical, error, warning, info). */
const SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = { critical: 'critical', warning: 'warning', info: 'info' };

/**
 * A PagerDuty Events API v2 alert event for the one alert of a notification (receivers of this
 * type are grouped by alert): `trigger` while it fires (repeats re-trigger the same alert),
 * `resolve` when it resolves, both keyed by `dedup_key` = the alert's fingerprint.
 */
export function pagerdutyEvent(content: NotificationContent, routingKey: string): Record<string, unknown> {
  const alert = content.alerts[0]!;
  if (alert.status === 'resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: alert.fingerprint };
  const { labels } = alert;
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: alert.fingerprint,
    payload: {
      summary: truncate(alert.annotations.summary ?? `${labels.alertname}: ${labels.kpi} for ${labels.team}`, 1024),
      source: `kpi-pipeline/${labels.team ?? 'all'}`,
      severity: SEVERITY[labels.severity as Severity] ?? 'warning',
      timestamp: alert.startsAt,
      component: labels.kpi,
      group: labels.team,
      class: labels.alertname,
      custom_details: { ...labels, value: alert.value, target: alert.target, ...(alert.threshold !== null ? { threshold: alert.threshold } : {}), ...alert.annotations },
    },
    client: 'KPI pipeline',
    client_url: content.externalURL,
    ...(alert.generatorURL ? { links: [{ href: alert.generatorURL, text: 'KPI dashboard' }] } : {}),
  };
}

export const pagerduty = defineReceiver({
  schema: z
    .object({
      type: z.literal('pagerduty'),
      name: receiverName.optional(),
      routing_key: z
        .string({ error: 'expected the integration key of an Events API v2 integration' })
        .regex(/^[A-Za-z0-9]{32}$/, 'expected the 32-character integration key of an Events API v2 integration'),
      url: httpUrl.default('https://events.pagerduty.com/v2/enqueue'),
      send_resolved: z.boolean().default(true),
    })
    .strict(),
  grouping: 'alert',
  endpoint: (receiver) => receiver.url,
  headers: () => ({}),
  body: (content, receiver) => pagerdutyEvent(content, receiver.routing_key),
  sendsResolved: (receiver) => receiver.send_resolved,
  redact: (receiver) => ({ ...receiver, routing_key: '<redacted>' }),
});
