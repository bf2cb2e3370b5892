-- A delivery's query string is part of what a replay needs: Evidently snapshots are posted with
-- ?team=&model_id=[&run=] (SPEC §8b). Deliveries stored before keep an empty map.
ALTER TABLE {db:Identifier}.webhook_deliveries {on_cluster} ADD COLUMN IF NOT EXISTS query Map(String, String) AFTER headers;
