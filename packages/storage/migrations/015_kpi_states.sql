-- Partial aggregation states of anchored KPIs: for one group of KPIs (one source and anchor,
-- identified by the fingerprint of their rows and aggregates), one row per (day, team, tier) and
-- one per (month, team, tier), each aggregate's -State as binary. A recompute refreshes the days an
-- event touched from the rows, then their months from the days; a week or a month merges days, a
-- quarter or a year merges months. The latest computation of a row wins.
CREATE TABLE IF NOT EXISTS {db:Identifier}.kpi_states {on_cluster} (
  fingerprint String,
  grain Enum8('day' = 1, 'month' = 2),
  start Date,
  team LowCardinality(String),
  tier UInt8,
  rows UInt64,
  states Map(String, String),
  computed_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(computed_at)
ORDER BY (fingerprint, grain, start, team, tier);

-- Which fingerprints have had their states built from every row, and the types of their states
-- (what merging them needs): a group without a build here builds its states before any merge.
CREATE TABLE IF NOT EXISTS {db:Identifier}.kpi_state_builds {on_cluster} (
  fingerprint String,
  types Map(String, String),
  built_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(built_at)
ORDER BY fingerprint;
