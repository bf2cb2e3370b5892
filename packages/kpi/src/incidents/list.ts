import { param, raw, sql, type Storage } from '@kpi/storage';
import { HOUR } from '../definition.ts';
import { instant, iso, type Row } from '../rows.ts';
import { teamCondition, type TeamFilter } from '../engine/scopes.ts';
import { incidents } from './rows.ts';

/** Incidents, newest first, with the numbers the operational views show; `open`: not yet mitigated nor resolved. */
export async function listIncidents(storage: Storage, options: { team: TeamFilter; open: boolean; limit: number; now: Date }) {
  const rows = await storage.query<Row>(sql`
    SELECT * FROM (${incidents.rows()})
    WHERE ${teamCondition(options.team)}
      AND ${options.open ? raw('mitigated_at IS NULL AND resolved_at IS NULL') : raw('1')}
    ORDER BY opened_at DESC, entity_id
    LIMIT ${param(options.limit, 'UInt32')}`);
  const now = options.now.getTime();
  return rows.map((row) => {
    const [started, detected, mitigated] = [instant(row.started_at), instant(row.detected_at)!, instant(row.mitigated_at)];
    return {
      incident_id: String(row.entity_id),
      team: String(row.team),
      tier: Number(row.tier) || null,
      severity: String(row.severity),
      category: String(row.category),
      model_id: (row.model_id as string | null) || null,
      opened_at: iso(row.opened_at),
      started_at: iso(row.started_at),
      detected_at: iso(row.detected_at),
      mitigated_at: iso(row.mitigated_at),
      resolved_at: iso(row.resolved_at),
      // null: the incident tool did not report when the degradation began.
      ttd_hours: started === null ? null : (detected - started) / HOUR,
      ttm_hours: mitigated === null ? null : (mitigated - detected) / HOUR,
      open_hours: mitigated === null ? (now - detected) / HOUR : null,
    };
  });
}
