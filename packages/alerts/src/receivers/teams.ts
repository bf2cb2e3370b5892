import { z } from 'zod';
import { formatTarget, formatValue } from '@kpi/format';
import { kpiById } from '@kpi/kpi';
import type { AlertView, NotificationContent } from '../content.ts';
import { httpUrl, originOnly, receiverName, truncate } from './common.ts';
import { defineReceiver } from './kind.ts';

/** Alerts shown one by one on a card; Teams refuses cards over about 28 KB. */
const MAX_ALERTS_SHOWN = 10;

function alertFacts(alert: AlertView): { title: string; value: string }[] {
  const kpi = kpiById(alert.labels.kpi ?? '');
  const unit = kpi?.unit ?? 'number';
  const facts = [
    { title: 'KPI', value: kpi ? `${kpi.name} (${kpi.id})` : (alert.labels.kpi ?? '') },
    { title: 'Team', value: alert.labels.team ?? '' },
    { title: 'Tier', value: alert.labels.tier ?? 'all' },
    { title: 'Value', value: formatValue(alert.value, unit) },
    { title: 'Target', value: kpi ? formatTarget(alert.target, unit, kpi.direction) : formatValue(alert.target, unit) },
  ];
  if (alert.threshold !== null) facts.push({ title: 'Threshold', value: formatValue(alert.threshold, unit) });
  facts.push({ title: 'State', value: alert.status }, { title: 'Severity', value: alert.labels.severity ?? '' }, { title: 'Granularity', value: alert.labels.granularity ?? '' });
  return facts;
}

/**
 * The message a Teams Workflows webhook ("Send webhook alerts to a channel") posts: one Adaptive
 * Card (schema 1.4) with, per alert, its summary, KPI, team, value against target, state and a
 * link to the KPI's dashboard view.
 */
export function teamsMessage(content: NotificationContent): Record<string, unknown> {
  const firing = content.alerts.filter((alert) => alert.status === 'firing').length;
  const name = content.commonLabels.alertname ?? content.groupLabels.alertname ?? 'alert';
  const severity = content.commonLabels.severity;
  const title = `${content.status === 'firing' ? `FIRING:${firing}` : 'RESOLVED'} ${name}${severity ? ` (${severity})` : ''}`;
  const shown = content.alerts.slice(0, MAX_ALERTS_SHOWN);
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: truncate(title, 200), size: 'Large', weight: 'Bolder', color: content.status === 'firing' ? 'Attention' : 'Good', wrap: true },
    { type: 'TextBlock', text: `${firing} firing, ${content.alerts.length - firing} resolved`, isSubtle: true, spacing: 'None', wrap: true },
    ...shown.map((alert) => ({
      type: 'Container',
      style: alert.status === 'firing' ? 'attention' : 'good',
      separator: true,
      items: [
        { type: 'TextBlock', text: truncate(alert.annotations.summary ?? name, 1000), weight: 'Bolder', wrap: true },
        { type: 'FactSet', facts: alertFacts(alert) },
        ...(alert.generatorURL ? [{ type: 'ActionSet', actions: [{ type: 'Action.OpenUrl', title: 'Open in the KPI dashboard', url: alert.generatorURL }] }] : []),
      ],
    })),
  ];
  if (content.alerts.length > shown.length) body.push({ type: 'TextBlock', text: `… and ${content.alerts.length - shown.length} more`, isSubtle: true, wrap: true });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
          actions: [{ type: 'Action.OpenUrl', title: 'KPI dashboard', url: shown.length === 1 && shown[0]!.generatorURL ? shown[0]!.generatorURL : content.externalURL }],
        },
      },
    ],
  };
}

/** A Microsoft Teams Workflows webhook: an Adaptive Card per notification. */
export const teams = defineReceiver({
  schema: z
    .object({
      type: z.literal('teams'),
      name: receiverName.optional(),
      url: httpUrl,
      send_resolved: z.boolean().default(true),
    })
    .strict(),
  grouping: 'group_by',
  endpoint: (receiver) => receiver.url,
  headers: () => ({}),
  body: (content) => teamsMessage(content),
  sendsResolved: (receiver) => receiver.send_resolved,
  // A Workflows URL carries its signature (sig=...) in the query.
  redact: (receiver) => ({ ...receiver, url: originOnly(receiver.url) }),
});
