import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the pipeline exports, defined once. One registry per process: the roles of a
 * process share it and the API serves it at /metrics.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'kpi_process_' });

export const eventsIngested = new Counter({
  name: 'kpi_events_ingested_total',
  help: 'Valid events inserted into ClickHouse, by topic and type',
  labelNames: ['topic', 'type'] as const,
  registers: [registry],
});
export const eventsRejected = new Counter({
  name: 'kpi_events_rejected_total',
  help: 'Messages sent to the DLQ, by source topic and reason',
  labelNames: ['topic', 'reason'] as const,
  registers: [registry],
});
export const dlqMessages = new Counter({
  name: 'kpi_dlq_messages_total',
  help: 'Messages produced to the dead-letter topic',
  registers: [registry],
});
export const ingestStepFailures = new Counter({
  name: 'kpi_ingest_step_failures_total',
  help: 'Chunks whose handling failed at a step (insert: ClickHouse, dlq: producing invalid messages to the DLQ topic, plan: planning or enqueueing recomputes) and are retried from the same offsets, by source topic and step',
  labelNames: ['topic', 'step'] as const,
  registers: [registry],
});
export const ingestBatchSize = new Histogram({
  name: 'kpi_ingest_batch_size',
  help: 'Messages per ingested batch',
  labelNames: ['topic'] as const,
  buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000],
  registers: [registry],
});
export const insertSeconds = new Histogram({
  name: 'kpi_clickhouse_insert_seconds',
  help: 'Latency of ClickHouse inserts of event batches',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
export const insertRetries = new Counter({
  name: 'kpi_clickhouse_insert_retries_total',
  help: 'Failed batch inserts that were retried (ClickHouse unavailable)',
  registers: [registry],
});
export const consumerLag = new Gauge({
  name: 'kpi_consumer_lag',
  help: 'Messages behind the high watermark, per topic and partition',
  labelNames: ['topic', 'partition'] as const,
  registers: [registry],
});
export const eventsProduced = new Counter({
  name: 'kpi_http_events_produced_total',
  help: 'Events accepted by POST /v1/events and produced to Kafka, by topic',
  labelNames: ['topic'] as const,
  registers: [registry],
});
export const jobsProcessed = new Counter({
  name: 'kpi_jobs_total',
  help: 'BullMQ jobs finished, by queue and outcome (completed, failed; delayed: a dependency was away, the job runs again later; postponed: paced, the job runs at a later time without having run)',
  labelNames: ['queue', 'outcome'] as const,
  registers: [registry],
});
export const jobSeconds = new Histogram({
  name: 'kpi_job_seconds',
  help: 'BullMQ job processing time, by queue',
  labelNames: ['queue'] as const,
  buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});
export const queueErrors = new Counter({
  name: 'kpi_queue_errors_total',
  help: 'Errors BullMQ queues and workers reported (a lost Redis connection, a failed lock renewal, ...), by queue and emitter; BullMQ retries',
  labelNames: ['queue', 'emitter'] as const,
  registers: [registry],
});
export const jobsEnqueued = new Counter({
  name: 'kpi_jobs_enqueued_total',
  help: 'Jobs requested, by queue (repeats collapse into one job)',
  labelNames: ['queue'] as const,
  registers: [registry],
});
export const httpSeconds = new Histogram({
  name: 'kpi_http_request_seconds',
  help: 'HTTP request latency by route and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});
export const alertNotificationsSent = new Counter({
  name: 'kpi_alert_notifications_sent_total',
  help: 'Alert notifications delivered (2xx from the receiver), by receiver type and status (firing, resolved)',
  labelNames: ['receiver_type', 'status'] as const,
  registers: [registry],
});
export const alertNotificationsFailed = new Counter({
  name: 'kpi_alert_notifications_failed_total',
  help: 'Failed alert notification attempts, by receiver type and outcome (retry: will be retried; gave_up: last attempt or refused by the receiver; superseded: a snapshot not sent or not retried, as a later one of its group carries it)',
  labelNames: ['receiver_type', 'outcome'] as const,
  registers: [registry],
});
export const alertInstances = new Gauge({
  name: 'kpi_alerts',
  help: 'Alert instances by state (pending, firing, resolved) and severity, as of the last evaluation',
  labelNames: ['state', 'severity'] as const,
  registers: [registry],
});
export const alertTransitions = new Counter({
  name: 'kpi_alert_transitions_total',
  help: 'Alert state changes, by the state entered',
  labelNames: ['to'] as const,
  registers: [registry],
});
export const alertEvaluationSeconds = new Histogram({
  name: 'kpi_alert_evaluation_seconds',
  help: 'Duration of one evaluation of every alert rule',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
export const alertRuleErrors = new Counter({
  name: 'kpi_alert_rule_errors_total',
  help: 'Alert rule evaluations that could not read their KPI (handled per the rule\'s on_error)',
  registers: [registry],
});
export const alertLockRenewalFailures = new Counter({
  name: 'kpi_alert_lock_renewal_failures_total',
  help: 'Renewals of the alert evaluation lock that failed (Redis unreachable or slow); the lease may lapse and another worker evaluate at the same time',
  registers: [registry],
});
export const customKpisUnparsable = new Gauge({
  name: 'kpi_custom_kpis_unparsable',
  help: 'Custom KPI definitions stored through the API that no longer parse and are left out of the catalog (reasons in the log)',
  registers: [registry],
});
export const webhookDeliveries = new Counter({
  name: 'kpi_webhook_deliveries_total',
  help: 'Authenticated connector webhook deliveries (and replays), by connector and outcome (accepted, ignored, unmappable, bad_request, retry)',
  labelNames: ['connector', 'outcome'] as const,
  registers: [registry],
});
export const webhookSignatureFailures = new Counter({
  name: 'kpi_webhook_signature_failures_total',
  help: 'Connector webhook deliveries refused (401) because their signature or token did not check out; never stored',
  labelNames: ['connector'] as const,
  registers: [registry],
});
export const connectorPulls = new Counter({
  name: 'kpi_connector_pulls_total',
  help: 'Polls of a connector that pulls from its tool (servicenow), by connector and outcome (ok: every page read; failed: stopped at a page that failed every attempt, resumed from the cursor by the next poll)',
  labelNames: ['connector', 'outcome'] as const,
  registers: [registry],
});
export const connectorPullFailures = new Counter({
  name: 'kpi_connector_pull_failures_total',
  help: 'Failed requests of a pulling connector to its tool, by connector and kind (http_429: rate limited, retried after Retry-After; http_5xx, network: retried with backoff; http_4xx: credentials or access, not retried)',
  labelNames: ['connector', 'kind'] as const,
  registers: [registry],
});
export const connectorRecordsSkipped = new Counter({
  name: 'kpi_connector_records_skipped_total',
  help: 'Records a pulling connector read but could not map (e.g. a ServiceNow assignment group not in the file); their page is kept for replay',
  labelNames: ['connector'] as const,
  registers: [registry],
});
export const connectorLastPull = new Gauge({
  name: 'kpi_connector_last_successful_pull_timestamp_seconds',
  help: 'When a pulling connector last read every page (Unix seconds)',
  labelNames: ['connector'] as const,
  registers: [registry],
});
/** Seconds, from a point lookup to a rebuild's largest statement. */
const STATEMENT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const statementSeconds = new Histogram({
  name: 'kpi_clickhouse_statement_seconds',
  help: 'Embedded ClickHouse statements: time run, by lane (serve: API reads, compute: recomputes and alerts, ingest: raw inserts and planning)',
  labelNames: ['lane'] as const,
  buckets: STATEMENT_BUCKETS,
  registers: [registry],
});
export const statementWaitSeconds = new Histogram({
  name: 'kpi_clickhouse_statement_wait_seconds',
  help: "Embedded ClickHouse statements: time waited for their lane's connection (one statement runs at a time per lane), by lane",
  labelNames: ['lane'] as const,
  buckets: STATEMENT_BUCKETS,
  registers: [registry],
});
/** Which part of the process's memory embedded ClickHouse accounts for (the soak found native memory outside it and outside V8's heap). */
export const clickhouseMemory = new Gauge({
  name: 'kpi_clickhouse_memory_tracked_bytes',
  help: "Memory embedded ClickHouse accounts for (its MemoryTracking metric), part of this process's RSS; 0 with a ClickHouse server, which reports its own",
  registers: [registry],
});
export const clickhouseCacheBytes = new Gauge({
  name: 'kpi_clickhouse_cache_bytes',
  help: "Embedded ClickHouse's caches (mark, primary_index, query_condition, compiled_expression, uncompressed), part of kpi_clickhouse_memory_tracked_bytes",
  labelNames: ['cache'] as const,
  registers: [registry],
});
export const servedValues = new Gauge({
  name: 'kpi_served_values',
  help: 'KPI values (KPI, granularity, period, team, tier) this process keeps ready to serve',
  registers: [registry],
});
export const servingResyncs = new Counter({
  name: 'kpi_serving_resyncs_total',
  help: 'Full reloads of the served KPI values from ClickHouse: at start, and after the update channel (Redis) was lost',
  registers: [registry],
});
export const servingUpdates = new Counter({
  name: 'kpi_serving_updates_total',
  help: 'KPI values applied to the served copy, by origin (this process\'s jobs, or another process\'s through Redis)',
  labelNames: ['origin'] as const,
  registers: [registry],
});
export const localRestarts = new Counter({
  name: 'kpi_local_service_restarts_total',
  help: 'Restarts of the start command\'s local Kafka broker or Redis after an unexpected exit, by service',
  labelNames: ['service'] as const,
  registers: [registry],
});
