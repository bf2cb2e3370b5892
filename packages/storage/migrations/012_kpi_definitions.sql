-- Custom KPI definitions set through the admin API (SPEC §5b; the definitions file is read at
-- start-up, not stored). `definition` is the validated definition as JSON. A delete is a row with
-- deleted = 1 (it also hides a file definition of the same id); reads use FINAL.
CREATE TABLE IF NOT EXISTS {db:Identifier}.kpi_definitions {on_cluster} (
  id String,
  definition String,
  deleted UInt8,
  updated_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(updated_at)
ORDER BY id;
