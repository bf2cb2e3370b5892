-- Raw events, one row per CloudEvent. (source, id) identifies an event: the sorting key is that
-- identity, so ReplacingMergeTree collapses duplicates in merges, and every read that counts
-- uses FINAL (or argMax) so that it never depends on a merge having happened.
-- Inserts carry insert_deduplication_token (topic|partition|offsets), so a re-delivered batch is
-- dropped before it becomes a part.
CREATE TABLE IF NOT EXISTS {db:Identifier}.events {on_cluster} (
  source String,
  id String,
  type LowCardinality(String),
  time DateTime64(3, 'UTC'),
  team LowCardinality(String),
  entity_id String,
  data String,
  topic LowCardinality(String),
  partition UInt32,
  offset UInt64,
  ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
  INDEX type_idx type TYPE set(32) GRANULARITY 1,
  INDEX entity_idx entity_id TYPE bloom_filter GRANULARITY 4
) ENGINE = {replicated}ReplacingMergeTree(ingested_at)
ORDER BY (source, id)
SETTINGS non_replicated_deduplication_window = 10000;
