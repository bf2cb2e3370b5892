import { z } from 'zod';
import type { Storage } from '../client.ts';

const alertRow = z.object({
  alert_id: z.string(),
  team: z.string(),
  model_id: z.string().transform((value) => value || null),
  name: z.string(),
  severity: z.string().transform((value) => value || null),
  labels: z.record(z.string(), z.string()),
  fired_at: z.string(),
  triaged: z.coerce.boolean(),
  actionable: z.coerce.boolean().nullable(),
  triaged_at: z.string().nullable(),
});
export type TriageAlert = z.infer<typeof alertRow>;

/**
 * Alerts of the organisation's monitors (`alert.fired`) and their triage (`alert.triaged`, the
 * latest by time wins): an alert awaits triage until one with its alert_id arrives. Read without
 * FINAL: every column is an aggregate a second copy of an event cannot change (the latest by
 * (time, ingested_at), the first time, whether any), and FINAL would merge every part the stream
 * keeps adding to the table on each read.
 */
export const alertTriage = {
  /**
   * The `limit` latest alerts of every team (fired_at descending, then alert_id), newest first:
   * any team scope's `limit` latest are among them, so one read serves every scope (a read scans
   * every alert of the organisation, ~100 ms at 50 000 of them, whatever the scope).
   */
  async latestPerTeam(storage: Storage, filter: { triaged: boolean | undefined; limit: number }): Promise<TriageAlert[]> {
    const rows = await storage.query<Record<string, unknown>>(
      `SELECT f.alert_id AS alert_id, f.team AS team, JSONExtractString(f.data, 'model_id') AS model_id, JSONExtractString(f.data, 'name') AS name,
              JSONExtractString(f.data, 'severity') AS severity, JSONExtract(f.data, 'labels', 'Map(String, String)') AS labels, f.fired_at AS fired_at,
              t.alert_id != '' AS triaged, if(triaged, t.actionable, NULL) AS actionable, if(triaged, t.triaged_at, NULL) AS triaged_at
       FROM (
         SELECT entity_id AS alert_id, argMax(team, (time, ingested_at)) AS team, argMax(data, (time, ingested_at)) AS data, min(time) AS fired_at
         FROM {db:Identifier}.signal_events WHERE type = 'alert.fired' GROUP BY entity_id
       ) AS f
       LEFT JOIN (
         SELECT entity_id AS alert_id, argMax(JSONExtractBool(data, 'actionable'), (time, ingested_at)) AS actionable, max(time) AS triaged_at
         FROM {db:Identifier}.signal_events WHERE type = 'alert.triaged' GROUP BY entity_id
       ) AS t ON t.alert_id = f.alert_id
       WHERE {triaged:Int8} = -1 OR toInt8(triaged) = {triaged:Int8}
       ORDER BY fired_at DESC, alert_id LIMIT {limit:UInt32} BY team`,
      { triaged: filter.triaged === undefined ? -1 : filter.triaged ? 1 : 0, limit: filter.limit },
    );
    return rows.map((row) => alertRow.parse(row));
  },

  /**
   * Changes whenever an `alert.fired` or `alert.triaged` event is stored (how many there are, and
   * the latest ingestion): the lists can change only then. A few milliseconds where a list takes ~100.
   */
  async version(storage: Storage): Promise<string> {
    const [row] = await storage.query<{ version: string }>(
      "SELECT concat(toString(count()), '|', toString(max(ingested_at))) AS version FROM {db:Identifier}.signal_events WHERE type IN ('alert.fired', 'alert.triaged')",
    );
    return row?.version ?? '';
  },

  /** The fired alert (team, model) a triage refers to, and its latest triage; undefined when none with that id arrived. */
  async fired(storage: Storage, alertId: string): Promise<{ team: string; model_id: string | null; triage: { triaged: boolean; actionable: boolean | null } } | undefined> {
    const [row] = await storage.query<{ team: string; model_id: string; triaged: number; actionable: boolean | null }>(
      `SELECT argMax(team, (time, ingested_at)) AS team, argMax(JSONExtractString(data, 'model_id'), (time, ingested_at)) AS model_id,
              (SELECT count() FROM {db:Identifier}.signal_events WHERE type = 'alert.triaged' AND entity_id = {id:String}) > 0 AS triaged,
              (SELECT argMax(JSONExtractBool(data, 'actionable'), (time, ingested_at)) FROM {db:Identifier}.signal_events WHERE type = 'alert.triaged' AND entity_id = {id:String}) AS actionable
       FROM {db:Identifier}.signal_events WHERE type = 'alert.fired' AND entity_id = {id:String} GROUP BY entity_id`,
      { id: alertId },
    );
    if (!row) return undefined;
    const triaged = Boolean(row.triaged);
    return { team: row.team, model_id: row.model_id || null, triage: { triaged, actionable: triaged ? Boolean(row.actionable) : null } };
  },
};
