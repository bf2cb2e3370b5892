-- Quarterly review reports (packages/reports). `reports` holds each report's state, one row per
-- change (queued, generating, ready, failed), the latest by updated_at winning; reads use FINAL.
-- The id is `<quarter>-<team>` (`all` for the organisation), so a schedule and a request for the
-- same report are the same report. A ready report points at its content by `content_hash`; while
-- it is regenerated, the previous content stays readable.
CREATE TABLE IF NOT EXISTS {db:Identifier}.reports {on_cluster} (
  id String,
  quarter LowCardinality(String),
  team String,
  status LowCardinality(String),
  trigger LowCardinality(String),
  requested_at DateTime64(3, 'UTC'),
  content_hash String,
  generated_at Nullable(DateTime64(3, 'UTC')),
  has_data UInt8,
  summary String,
  formats Array(String),
  error String,
  updated_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(updated_at)
ORDER BY id;

-- The rendered files of a report's content: json, html, md and, when chromium is installed, pdf
-- (base64). Keyed by content hash: the same data renders the same content under the same key.
CREATE TABLE IF NOT EXISTS {db:Identifier}.report_files {on_cluster} (
  id String,
  content_hash String,
  format LowCardinality(String),
  body String CODEC(ZSTD(3)),
  generated_at DateTime64(3, 'UTC'),
  updated_at DateTime64(6, 'UTC')
) ENGINE = {replicated}ReplacingMergeTree(updated_at)
ORDER BY (id, content_hash, format);
