-- Per-team target overrides set through the admin API (the targets file is read at start-up and
-- not stored). A delete is a row with deleted = 1; reads use FINAL.
CREATE TABLE IF NOT EXISTS {db:Identifier}.target_overrides {on_cluster} (
  kpi LowCardinality(String),
  team String,
  granularity LowCardinality(String),
  op LowCardinality(String),
  value Float64,
  deleted UInt8,
  updated_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(updated_at)
ORDER BY (kpi, team, granularity);
