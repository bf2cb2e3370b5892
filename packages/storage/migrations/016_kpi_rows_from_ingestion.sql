-- The typed KPI tables (migrations 011, 013) are now written by ingestion itself, with each chunk's
-- events (services/ingest, kpi-rows.ts). Their materialized views planned and ran seven SELECTs
-- over every insert into `events`: ~40 ms of CPU per insert whatever its size, most of what a
-- small insert of a live stream cost.
DROP VIEW IF EXISTS {db:Identifier}.release_events_mv {on_cluster};
DROP VIEW IF EXISTS {db:Identifier}.incident_events_mv {on_cluster};
DROP VIEW IF EXISTS {db:Identifier}.experiment_events_mv {on_cluster};
DROP VIEW IF EXISTS {db:Identifier}.serving_windows_mv {on_cluster};
DROP VIEW IF EXISTS {db:Identifier}.dataset_arrivals_mv {on_cluster};
DROP VIEW IF EXISTS {db:Identifier}.signal_events_mv {on_cluster};
DROP VIEW IF EXISTS {db:Identifier}.data_validations_mv {on_cluster};
