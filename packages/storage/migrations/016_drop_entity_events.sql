-- entity_events (migrations 007, 010) is read by nothing since the typed tables of migration 011:
-- recompute planning reads each entity's events from its own table. Its view cost every insert a
-- pass over the block.
DROP VIEW IF EXISTS {db:Identifier}.entity_events_mv {on_cluster};
DROP TABLE IF EXISTS {db:Identifier}.entity_events {on_cluster};
