-- The KPI engine reads typed tables, one per source of KPI rows, instead of `events`: each is
-- filled by a materialized view on every insert into `events` (the event's fields extracted from
-- its JSON once, at ingestion), so that an aggregation reads a few narrow columns and no JSON.
-- Every table is a ReplacingMergeTree whose key holds the event identity (source, id), so a
-- duplicate copy of an event collapses like in `events`; the KPI queries read them with FINAL.
-- Lifecycle tables (releases, incidents, experiments) are sorted by entity, so that an entity's
-- state and recompute planning read a few granules; sample tables are sorted by time, so that a
-- recompute of a period reads that period only.

CREATE TABLE IF NOT EXISTS {db:Identifier}.release_events {on_cluster} (
  entity_id String,
  source String,
  id String,
  type LowCardinality(String),
  time DateTime64(3, 'UTC'),
  ingested_at DateTime64(3, 'UTC'),
  offset UInt64,
  team LowCardinality(String),
  model_id String,
  model_version String,
  environment LowCardinality(String),
  tier Nullable(UInt8),
  readiness_first_pass Nullable(Bool),
  reproducible Nullable(Bool),
  docs_reported Bool,
  docs_model_card Bool,
  docs_runbook Bool,
  docs_readout Bool,
  monitoring_reported Bool,
  drift_enabled Bool,
  drift_alerting Bool,
  features Array(Tuple(name String, critical Bool, drift_monitored Bool)),
  offline_metric_reported Bool,
  offline_metric_value Float64,
  offline_metric_baseline Float64,
  offline_metric_higher_is_better Bool,
  calibration_ece Nullable(Float64),
  slices_reported Bool,
  slices Array(Tuple(segment String, value Float64, baseline Float64, higher_is_better Bool))
) ENGINE = {replicated}ReplacingMergeTree(ingested_at)
ORDER BY (entity_id, source, id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.release_events_mv {on_cluster} TO {db:Identifier}.release_events AS
SELECT
  entity_id, source, id, type, time, ingested_at, offset, team,
  JSONExtractString(data, 'model_id') AS model_id,
  JSONExtractString(data, 'model_version') AS model_version,
  JSONExtractString(data, 'environment') AS environment,
  JSONExtract(data, 'tier', 'Nullable(UInt8)') AS tier,
  JSONExtract(data, 'readiness_first_pass', 'Nullable(Bool)') AS readiness_first_pass,
  JSONExtract(data, 'reproducible', 'Nullable(Bool)') AS reproducible,
  JSONHas(data, 'docs') AS docs_reported,
  JSONExtractBool(data, 'docs', 'model_card') AS docs_model_card,
  JSONExtractBool(data, 'docs', 'runbook') AS docs_runbook,
  JSONExtractBool(data, 'docs', 'readout') AS docs_readout,
  JSONHas(data, 'monitoring') AS monitoring_reported,
  JSONExtractBool(data, 'monitoring', 'drift_enabled') AS drift_enabled,
  JSONExtractBool(data, 'monitoring', 'drift_alerting') AS drift_alerting,
  JSONExtract(data, 'monitoring', 'features', 'Array(Tuple(name String, critical Bool, drift_monitored Bool))') AS features,
  JSONHas(data, 'offline_metric') AS offline_metric_reported,
  JSONExtractFloat(data, 'offline_metric', 'value') AS offline_metric_value,
  JSONExtractFloat(data, 'offline_metric', 'baseline') AS offline_metric_baseline,
  JSONExtractBool(data, 'offline_metric', 'higher_is_better') AS offline_metric_higher_is_better,
  JSONExtract(data, 'calibration_ece', 'Nullable(Float64)') AS calibration_ece,
  JSONHas(data, 'slices') AS slices_reported,
  JSONExtract(data, 'slices', 'Array(Tuple(segment String, value Float64, baseline Float64, higher_is_better Bool))') AS slices
FROM {db:Identifier}.events
WHERE type IN ('release.deployed', 'release.updated', 'release.rolled_back');

CREATE TABLE IF NOT EXISTS {db:Identifier}.incident_events {on_cluster} (
  entity_id String,
  source String,
  id String,
  type LowCardinality(String),
  time DateTime64(3, 'UTC'),
  ingested_at DateTime64(3, 'UTC'),
  offset UInt64,
  team LowCardinality(String),
  tier Nullable(UInt8),
  severity LowCardinality(Nullable(String)),
  category LowCardinality(Nullable(String)),
  model_id Nullable(String),
  started_at Nullable(DateTime64(3, 'UTC')),
  detected_at Nullable(DateTime64(3, 'UTC'))
) ENGINE = {replicated}ReplacingMergeTree(ingested_at)
ORDER BY (entity_id, source, id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.incident_events_mv {on_cluster} TO {db:Identifier}.incident_events AS
SELECT
  entity_id, source, id, type, time, ingested_at, offset, team,
  JSONExtract(data, 'tier', 'Nullable(UInt8)') AS tier,
  JSONExtract(data, 'severity', 'Nullable(String)') AS severity,
  JSONExtract(data, 'category', 'Nullable(String)') AS category,
  JSONExtract(data, 'model_id', 'Nullable(String)') AS model_id,
  parseDateTime64BestEffortOrNull(JSONExtract(data, 'started_at', 'Nullable(String)'), 3, 'UTC') AS started_at,
  parseDateTime64BestEffortOrNull(JSONExtract(data, 'detected_at', 'Nullable(String)'), 3, 'UTC') AS detected_at
FROM {db:Identifier}.events
WHERE type IN ('incident.opened', 'incident.updated', 'incident.mitigated', 'incident.resolved');

-- Experiments are few and their readouts nested: the JSON stays, and only the state of each
-- experiment (its latest readout, its latest decision) is parsed, in the process that needs the
-- statistics.
CREATE TABLE IF NOT EXISTS {db:Identifier}.experiment_events {on_cluster} (
  entity_id String,
  source String,
  id String,
  type LowCardinality(String),
  time DateTime64(3, 'UTC'),
  ingested_at DateTime64(3, 'UTC'),
  offset UInt64,
  team LowCardinality(String),
  data String
) ENGINE = {replicated}ReplacingMergeTree(ingested_at)
ORDER BY (entity_id, source, id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.experiment_events_mv {on_cluster} TO {db:Identifier}.experiment_events AS
SELECT entity_id, source, id, type, time, ingested_at, offset, team, data
FROM {db:Identifier}.events
WHERE type IN ('experiment.started', 'experiment.readout', 'experiment.decided');

CREATE TABLE IF NOT EXISTS {db:Identifier}.serving_windows {on_cluster} (
  time DateTime64(3, 'UTC'),
  source String,
  id String,
  ingested_at DateTime64(3, 'UTC'),
  team LowCardinality(String),
  tier UInt8,
  model_id String,
  requests UInt64,
  latency_p95_ms Float64,
  latency_p99_ms Nullable(Float64),
  cost_usd Float64
) ENGINE = {replicated}ReplacingMergeTree(ingested_at)
ORDER BY (time, source, id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.serving_windows_mv {on_cluster} TO {db:Identifier}.serving_windows AS
SELECT
  time, source, id, ingested_at, team,
  JSONExtractUInt(data, 'tier') AS tier,
  JSONExtractString(data, 'model_id') AS model_id,
  JSONExtractUInt(data, 'requests') AS requests,
  JSONExtractFloat(data, 'latency_p95_ms') AS latency_p95_ms,
  JSONExtract(data, 'latency_p99_ms', 'Nullable(Float64)') AS latency_p99_ms,
  JSONExtractFloat(data, 'cost_usd') AS cost_usd
FROM {db:Identifier}.events
WHERE type = 'serving.window';

CREATE TABLE IF NOT EXISTS {db:Identifier}.dataset_arrivals {on_cluster} (
  time DateTime64(3, 'UTC'),
  source String,
  id String,
  ingested_at DateTime64(3, 'UTC'),
  team LowCardinality(String),
  dataset String,
  expected_at DateTime64(3, 'UTC'),
  sla_minutes Nullable(Float64)
) ENGINE = {replicated}ReplacingMergeTree(ingested_at)
ORDER BY (time, source, id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.dataset_arrivals_mv {on_cluster} TO {db:Identifier}.dataset_arrivals AS
SELECT
  time, source, id, ingested_at, team,
  JSONExtractString(data, 'dataset') AS dataset,
  parseDateTime64BestEffort(JSONExtractString(data, 'expected_at'), 3, 'UTC') AS expected_at,
  JSONExtract(data, 'sla_minutes', 'Nullable(Float64)') AS sla_minutes
FROM {db:Identifier}.events
WHERE type = 'dataset.arrived';

-- Every other event that is a KPI sample (surveys, training runs, alerts, evaluations, work items,
-- reuse, mentorship, custom.* types): low volume, read by type and time, JSON fields extracted by
-- the query that needs them.
CREATE TABLE IF NOT EXISTS {db:Identifier}.signal_events {on_cluster} (
  type LowCardinality(String),
  time DateTime64(3, 'UTC'),
  source String,
  id String,
  ingested_at DateTime64(3, 'UTC'),
  offset UInt64,
  entity_id String,
  team LowCardinality(String),
  data String,
  INDEX entity_idx entity_id TYPE bloom_filter GRANULARITY 4
) ENGINE = {replicated}ReplacingMergeTree(ingested_at)
ORDER BY (type, time, source, id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.signal_events_mv {on_cluster} TO {db:Identifier}.signal_events AS
SELECT type, time, source, id, ingested_at, offset, entity_id, team, data
FROM {db:Identifier}.events
WHERE type IN ('survey.response', 'training.run_completed', 'alert.fired', 'alert.triaged', 'model.evaluated', 'workitem.closed', 'asset.reused', 'mentorship.recorded')
   OR startsWith(type, 'custom.');

-- Recompute planning now reads an entity's event times from the lifecycle tables above.
DROP VIEW IF EXISTS {db:Identifier}.entity_events_mv {on_cluster};
DROP TABLE IF EXISTS {db:Identifier}.entity_events {on_cluster};

-- Events stored before these views existed go through them once: copying them onto themselves
-- runs every view, and the copies collapse with the originals (same key, same version).
INSERT INTO {db:Identifier}.events SETTINGS insert_deduplicate = 0
SELECT * FROM {db:Identifier}.events
WHERE type IN ('release.deployed', 'release.updated', 'release.rolled_back', 'incident.opened', 'incident.updated', 'incident.mitigated', 'incident.resolved',
               'experiment.started', 'experiment.readout', 'experiment.decided', 'serving.window', 'dataset.arrived', 'survey.response', 'training.run_completed',
               'alert.fired', 'alert.triaged', 'model.evaluated', 'workitem.closed', 'asset.reused', 'mentorship.recorded')
   OR startsWith(type, 'custom.');
