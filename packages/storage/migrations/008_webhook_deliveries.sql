-- Every authenticated webhook delivery of a connector (SPEC §8): what arrived (raw body and the
-- headers a replay needs) and how it ended. `id` is ours, derived from (connector, the sender's
-- delivery id), so a delivery re-sent by its tool, or replayed, rewrites its own row; reads use FINAL.
-- Deliveries that fail their signature check are counted in /metrics, never stored.
CREATE TABLE IF NOT EXISTS {db:Identifier}.webhook_deliveries {on_cluster} (
  id String,
  connector LowCardinality(String),
  delivery_id String,
  received_at DateTime64(3, 'UTC'),
  outcome LowCardinality(String),
  reason String,
  events Array(String),
  headers Map(String, String),
  body String,
  attempts UInt32,
  updated_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(updated_at)
ORDER BY id;
