-- Every change an admin makes (SPEC 10): who (a static token's name, or the OpenID subject), when,
-- what (an action on a target) and the state before and after, as JSON ('null' where there was or
-- is none). Append-only: the API inserts and lists it, nothing updates or deletes it. `id` is unique
-- per change, so a retried insert of the same entry stays one (reads use FINAL).
CREATE TABLE IF NOT EXISTS {db:Identifier}.audit_log {on_cluster} (
  id String,
  at DateTime64(3, 'UTC'),
  actor String,
  via LowCardinality(String),
  action LowCardinality(String),
  target String,
  team String,
  before String,
  after String
) ENGINE = {replicated}ReplacingMergeTree
ORDER BY (at, id);
