-- data.validated (SPEC §3): one data-quality validation run of one dataset, a KPI sample sorted by
-- time like the dataset arrivals (migration 011), so that a recompute of a period reads that period.
-- No backfill: the type did not exist before this migration, so no stored event has it.
CREATE TABLE IF NOT EXISTS {db:Identifier}.data_validations {on_cluster} (
  time DateTime64(3, 'UTC'),
  source String,
  id String,
  ingested_at DateTime64(3, 'UTC'),
  team LowCardinality(String),
  validation_id String,
  dataset String,
  suite String,
  success Bool,
  evaluated UInt64,
  failed UInt64
) ENGINE = {replicated}ReplacingMergeTree(ingested_at)
ORDER BY (time, source, id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.data_validations_mv {on_cluster} TO {db:Identifier}.data_validations AS
SELECT
  time, source, id, ingested_at, team,
  entity_id AS validation_id,
  JSONExtractString(data, 'dataset') AS dataset,
  JSONExtractString(data, 'suite') AS suite,
  JSONExtractBool(data, 'success') AS success,
  JSONExtractUInt(data, 'evaluated') AS evaluated,
  JSONExtractUInt(data, 'failed') AS failed
FROM {db:Identifier}.events
WHERE type = 'data.validated';
