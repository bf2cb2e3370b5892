-- Alert rules set through the admin API (the rules file and the built-in defaults are read at
-- start-up, not stored). `definition` is the validated rule as JSON. A delete is a row with
-- deleted = 1; reads use FINAL.
CREATE TABLE IF NOT EXISTS {db:Identifier}.alert_rules {on_cluster} (
  name String,
  definition String,
  deleted UInt8,
  updated_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(updated_at)
ORDER BY name;

-- Silences: label matchers (JSON) and a time window. Expiring one early writes a new version
-- with ends_at = now; reads use FINAL.
CREATE TABLE IF NOT EXISTS {db:Identifier}.alert_silences {on_cluster} (
  id String,
  matchers String,
  starts_at DateTime64(3, 'UTC'),
  ends_at DateTime64(3, 'UTC'),
  created_by String,
  comment String,
  created_at DateTime64(3, 'UTC'),
  updated_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(updated_at)
ORDER BY id;

-- Every state change of every alert instance (inactive, pending, firing, resolved). `version`
-- numbers the changes of one instance, so an evaluation retried after a crash rewrites the same
-- (fingerprint, version) row instead of adding a second one; reads use FINAL.
CREATE TABLE IF NOT EXISTS {db:Identifier}.alert_history {on_cluster} (
  fingerprint String,
  version UInt64,
  at DateTime64(3, 'UTC'),
  rule String,
  kpi LowCardinality(String),
  team String,
  severity LowCardinality(String),
  labels Map(String, String),
  from_state LowCardinality(String),
  to_state LowCardinality(String),
  value Nullable(Float64),
  target Nullable(Float64),
  period_start DateTime('UTC'),
  active_at Nullable(DateTime64(3, 'UTC')),
  reason String,
  recorded_at DateTime64(6, 'UTC') DEFAULT now64(6)
) ENGINE = {replicated}ReplacingMergeTree(recorded_at)
ORDER BY (fingerprint, version);

-- One row per notification once its delivery is over: sent, or given up after its last attempt.
CREATE TABLE IF NOT EXISTS {db:Identifier}.alert_notifications {on_cluster} (
  id String,
  idempotency_key String,
  group_key String,
  rule String,
  receiver String,
  receiver_type LowCardinality(String),
  sequence UInt64,
  status LowCardinality(String),
  alerts UInt32,
  outcome LowCardinality(String),
  attempts UInt32,
  error String,
  created_at DateTime64(3, 'UTC'),
  finished_at DateTime64(3, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(finished_at)
ORDER BY id;
