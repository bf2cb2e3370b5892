import { z } from 'zod';
import type { NotificationContent } from '../content.ts';
import { formatLabels } from '../labels.ts';
import { httpUrl, originOnly, receiverName, truncate } from './common.ts';
import { defineReceiver } from './kind.ts';

const escapeSlack = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A Slack incoming-webhook message: `text` as the fallback, blocks for the alerts. */
export function slackMessage(content: NotificationContent, options: { channel?: string; username?: string } = {}): Record<string, unknown> {
  const firing = content.alerts.filter((alert) => alert.status === 'firing');
  const resolved = content.alerts.filter((alert) => alert.status === 'resolved');
  const name = content.commonLabels.alertname ?? content.groupLabels.alertname ?? 'alert';
  const title = content.status === 'firing' ? `[FIRING:${firing.length}] ${name}` : `[RESOLVED] ${name}`;
  const lines = content.alerts.map((alert) => {
    const summary = alert.annotations.summary ?? formatLabels(alert.labels);
    const link = alert.generatorURL ? ` <${alert.generatorURL}|dashboard>` : '';
    return `${alert.status === 'firing' ? ':red_circle:' : ':large_green_circle:'} *${escapeSlack(alert.labels.team ?? '')}* ${escapeSlack(summary)}${link}`;
  });
  const severity = content.commonLabels.severity;
  const message: Record<string, unknown> = {
    text: truncate(`${title}${severity ? ` (${severity})` : ''}: ${content.alerts.map((alert) => alert.annotations.summary ?? '').filter(Boolean).join('; ')}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n') || '(no alerts)', 3000) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: truncate(`${firing.length} firing, ${resolved.length} resolved${severity ? ` · severity ${severity}` : ''} · ${escapeSlack(formatLabels(content.groupLabels))}`, 3000) }],
      },
    ],
  };
  if (options.channel) message.channel = options.channel;
  if (options.username) message.username = options.username;
  return message;
}

/** A Slack incoming webhook (or a Slack-compatible one: Mattermost, Rocket.Chat). */
export const slack = defineReceiver({
  schema: z
    .object({
      type: z.literal('slack'),
      name: receiverName.optional(),
      url: httpUrl,
      send_resolved: z.boolean().default(true),
      channel: z.string().max(128).optional(),
      username: z.string().max(128).optional(),
    })
    .strict(),
  grouping: 'group_by',
  endpoint: (receiver) => receiver.url,
  headers: () => ({}),
  body: (content, receiver) => slackMessage(content, receiver),
  sendsResolved: (receiver) => receiver.send_resolved,
  // The hook's path is its secret.
  redact: (receiver) => ({ ...receiver, url: originOnly(receiver.url) }),
});
