import { z } from 'zod';
import type { WebhookPayload } from '../content.ts';
import { headers, httpUrl, receiverName, redactHeaders } from './common.ts';
import { defineReceiver } from './kind.ts';

/** A generic webhook receiving Alertmanager's webhook payload (version 4). */
export const webhook = defineReceiver({
  schema: z
    .object({
      type: z.literal('webhook'),
      name: receiverName.optional(),
      url: httpUrl,
      send_resolved: z.boolean().default(true),
      headers,
      /** At most this many alerts per notification (Alertmanager's max_alerts); 0 = all. */
      max_alerts: z.number().int().min(0).default(0),
    })
    .strict(),
  grouping: 'group_by',
  endpoint: (receiver) => receiver.url,
  headers: (receiver) => receiver.headers ?? {},
  body: (content, receiver): WebhookPayload => {
    const alerts = content.alerts.map(({ status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint }) => ({ status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint }));
    const shown = receiver.max_alerts > 0 ? alerts.slice(0, receiver.max_alerts) : alerts;
    return {
      version: '4',
      groupKey: content.groupKey,
      truncatedAlerts: alerts.length - shown.length,
      status: content.status,
      receiver: content.receiver,
      groupLabels: content.groupLabels,
      commonLabels: content.commonLabels,
      commonAnnotations: content.commonAnnotations,
      externalURL: content.externalURL,
      alerts: shown,
    };
  },
  sendsResolved: (receiver) => receiver.send_resolved,
  redact: (receiver) => ({ ...receiver, headers: redactHeaders(receiver.headers) }),
});
