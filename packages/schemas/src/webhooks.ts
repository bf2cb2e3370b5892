import { z } from 'zod';

/** The tools with a connector (SPEC §8, §8b): the sections of KPI_CONNECTORS_FILE, in its order. */
export const CONNECTOR_NAMES = [
  'github',
  'mlflow',
  'argocd',
  'pagerduty',
  'alertmanager',
  'growthbook',
  'jira',
  'datadog',
  'servicenow',
  'cdevents',
  'openlineage',
  'great_expectations',
  'evidently',
  'databricks',
] as const;
export type ConnectorName = (typeof CONNECTOR_NAMES)[number];

/** A webhook delivery's outcome: produced events, nothing to measure, not mappable (kept for replay), or to be retried. */
export const DELIVERY_OUTCOMES = ['accepted', 'ignored', 'unmappable', 'bad_request', 'retry'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export const deliveryRow = z.object({
  id: z.string(),
  connector: z.string(),
  delivery_id: z.string(),
  received_at: z.string(),
  outcome: z.enum(DELIVERY_OUTCOMES),
  reason: z.string(),
  events: z.array(z.string()),
  attempts: z.number().int(),
  updated_at: z.string(),
});
export type DeliverySummary = z.infer<typeof deliveryRow>;
export const storedDelivery = deliveryRow.extend({ headers: z.record(z.string(), z.string()), query: z.record(z.string(), z.string()), body: z.string() });
export type StoredDelivery = z.infer<typeof storedDelivery>;
