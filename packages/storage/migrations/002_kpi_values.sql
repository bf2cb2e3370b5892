-- One row per (KPI, granularity, period, team, tier): the value as last computed. `computed_at`
-- is when the computation started reading, so of two concurrent recomputes the one that saw
-- more data wins. Targets and statuses are applied when read, so target changes need no
-- recompute.
CREATE TABLE IF NOT EXISTS {db:Identifier}.kpi_values {on_cluster} (
  kpi LowCardinality(String),
  granularity LowCardinality(String),
  period_start DateTime('UTC'),
  team LowCardinality(String),
  tier LowCardinality(String),
  value Nullable(Float64),
  numerator Nullable(Float64),
  denominator Nullable(Float64),
  sample_size UInt32,
  details String,
  computed_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(computed_at)
ORDER BY (kpi, granularity, team, tier, period_start);
