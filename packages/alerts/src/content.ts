import type { Labels } from './labels.ts';

/** One alert as a notification carries it: the Alertmanager alert fields, and the numbers behind it. */
export interface AlertView extends WebhookAlert {
  value: number | null;
  target: number | null;
  threshold: number | null;
}

/** What one notification says, before a receiver type renders it into its own request body. */
export interface NotificationContent {
  status: 'firing' | 'resolved';
  /** Alertmanager's groupKey: the route and the group labels. */
  groupKey: string;
  receiver: string;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  /** Firing first, then resolved; each by team, then fingerprint. */
  alerts: AlertView[];
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
  /** ZERO_TIME for a firing alert of a grouped notification; its lease for a pushed one; the resolve time once resolved. */
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager's endsAt of an alert that has not ended. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
