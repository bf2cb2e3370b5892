-- entity_events (migration 007) also holds release.updated: a late fact correction of a release
-- changes the KPIs of its deploy period, which planning finds from the release's event times.
DROP VIEW IF EXISTS {db:Identifier}.entity_events_mv {on_cluster};

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.entity_events_mv {on_cluster} TO {db:Identifier}.entity_events AS
SELECT type, entity_id, team, time FROM {db:Identifier}.events
WHERE type IN ('incident.opened', 'incident.updated', 'incident.mitigated', 'incident.resolved', 'release.deployed', 'release.updated', 'release.rolled_back', 'experiment.started', 'experiment.readout', 'experiment.decided');

INSERT INTO {db:Identifier}.entity_events
SELECT type, entity_id, team, time FROM {db:Identifier}.events
WHERE type = 'release.updated';
