-- The event times of every incident, release and experiment, sorted by entity: what recompute
-- planning reads for each ingested chunk of their events (which periods does this entity's
-- history touch?). Over `events`, sorted by (source, id), that lookup scanned the whole table;
-- here it reads a few granules. Filled by a materialized view on each insert, for the event
-- types of those three entities only (packages/kpi SOURCES; a test keeps the two lists equal);
-- duplicates are harmless, readers take distinct times.
CREATE TABLE IF NOT EXISTS {db:Identifier}.entity_events {on_cluster} (
  type LowCardinality(String),
  entity_id String,
  team LowCardinality(String),
  time DateTime64(3, 'UTC')
) ENGINE = {replicated}MergeTree
ORDER BY (type, entity_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.entity_events_mv {on_cluster} TO {db:Identifier}.entity_events AS
SELECT type, entity_id, team, time FROM {db:Identifier}.events
WHERE type IN ('incident.opened', 'incident.updated', 'incident.mitigated', 'incident.resolved', 'release.deployed', 'release.rolled_back', 'experiment.started', 'experiment.readout', 'experiment.decided');

-- Events stored before the view existed (some may be copied twice: harmless, as above).
INSERT INTO {db:Identifier}.entity_events
SELECT type, entity_id, team, time FROM {db:Identifier}.events
WHERE type IN ('incident.opened', 'incident.updated', 'incident.mitigated', 'incident.resolved', 'release.deployed', 'release.rolled_back', 'experiment.started', 'experiment.readout', 'experiment.decided');
