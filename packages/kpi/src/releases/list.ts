import { param, raw, sql, type Storage } from '@kpi/storage';
import { teamCondition, type TeamFilter } from '../engine/scopes.ts';
import { chTime } from '../periods.ts';
import { iso, type Row } from '../rows.ts';
import { releases } from './rows.ts';

/** The live production release of each model at `now`, with its drift-monitoring gaps. */
export async function listLiveReleases(storage: Storage, options: { team: TeamFilter; now: Date }) {
  const live = releases.live;
  const rows = await storage.query<Row>(sql`
    SELECT * FROM (${releases.rows()})
    WHERE ${live.at(param(chTime(options.now), "DateTime64(3, 'UTC')"))}
      AND ${teamCondition(options.team)}
    ORDER BY ${raw(live.per)}, ${raw(live.latestFirst)}
    LIMIT 1 BY ${raw(live.per)}`);
  return rows
    .map((row) => ({
      model_id: String(row.model_id),
      release_id: String(row.entity_id),
      team: String(row.team),
      tier: Number(row.tier) || null,
      model_version: String(row.model_version),
      deployed_at: iso(row.deployed_at),
      // null: the live release reports no monitoring (it counts as not covered).
      drift_enabled: row.reports_monitoring ? Boolean(row.drift_enabled) : null,
      drift_alerting: row.reports_monitoring ? Boolean(row.drift_alerting) : null,
      critical_features: Number(row.critical_features),
      monitored_critical_features: Number(row.monitored_critical_features),
      unmonitored_critical_features: row.unmonitored_critical_features as string[],
    }))
    .sort((a, b) => a.team.localeCompare(b.team) || a.model_id.localeCompare(b.model_id));
}

/** The production releases deployed in [from, to), oldest first, with their rollbacks and docs (null: not reported). */
export async function listReleases(storage: Storage, options: { team: TeamFilter; from: Date; to: Date }) {
  const rows = await storage.query<Row>(sql`
    SELECT entity_id, model_id, team, tier, deployed_at, rollbacks, reports_docs, docs
    FROM (${releases.rows()})
    WHERE deployed_at >= ${param(chTime(options.from), "DateTime64(3, 'UTC')")} AND deployed_at < ${param(chTime(options.to), "DateTime64(3, 'UTC')")}
      AND ${teamCondition(options.team)}
    ORDER BY deployed_at, entity_id`);
  return rows.map((row) => ({
    release_id: String(row.entity_id),
    model_id: String(row.model_id),
    team: String(row.team),
    tier: Number(row.tier) || null,
    deployed_at: iso(row.deployed_at)!,
    rollbacks: (row.rollbacks as string[]).map((at) => iso(at)!),
    docs: row.reports_docs ? (row.docs as { model_card: boolean; runbook: boolean; readout: boolean }) : null,
  }));
}
