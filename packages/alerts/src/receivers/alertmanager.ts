import { z } from 'zod';
import type { NotificationContent } from '../content.ts';
import { headers, httpUrl, receiverName, redactHeaders } from './common.ts';
import { defineReceiver } from './kind.ts';

/** One alert of Alertmanager's API v2 `postableAlerts` (api/v2/openapi.yaml: postableAlert). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

export const postableAlerts = (content: NotificationContent): PostableAlert[] =>
  content.alerts.map(({ labels, annotations, startsAt, endsAt, generatorURL }) => ({ labels, annotations, startsAt, endsAt, ...(generatorURL ? { generatorURL } : {}) }) as PostableAlert);

/**
 * The organisation's Alertmanager. Like Prometheus, the pipeline pushes the state of its alerts at
 * every evaluation (a firing alert's endsAt is a lease of three evaluation intervals; a resolved
 * one is re-sent with its resolve time for five minutes), and Alertmanager groups, routes,
 * silences, inhibits and notifies.
 */
export const alertmanager = defineReceiver({
  schema: z
    .object({
      type: z.literal('alertmanager'),
      name: receiverName.optional(),
      /** Base URL, e.g. http://alertmanager:9093 (alerts go to <url>/api/v2/alerts). */
      url: httpUrl,
      headers,
    })
    .strict(),
  grouping: 'snapshot',
  endpoint: (receiver) => `${receiver.url.replace(/\/+$/, '')}/api/v2/alerts`,
  headers: (receiver) => receiver.headers ?? {},
  body: (content) => postableAlerts(content),
  sendsResolved: () => true,
  redact: (receiver) => ({ ...receiver, headers: redactHeaders(receiver.headers) }),
});
