export { createStorage, wrapClient, type Storage, type QueryParams } from './client.ts';
export { migrate, loadMigrations, type Migration } from './migrate.ts';
export { webhookDeliveries, deliveryKey, deliveryRow, storedDelivery, DELIVERY_OUTCOMES, type DeliveryOutcome, type DeliveryRecord, type DeliverySummary, type StoredDelivery } from './tables/webhook-deliveries.ts';
export { productionReleasesOfModel, runningExperiments, type ReleaseOfModel } from './tables/connector-state.ts';
export { alertTriage, type TriageAlert } from './tables/alert-triage.ts';
export { sql, param, identifier, raw, join, type Sql } from './sql.ts';
export { EVENTS_TABLE, EVENT_COLUMNS, insertEventLines, eventQueries } from './tables/events.ts';
export { tsvField, tsvNumber } from './tsv.ts';
export { kpiValues, type KpiValueRow, type StoredKpiValue } from './tables/kpi-values.ts';
