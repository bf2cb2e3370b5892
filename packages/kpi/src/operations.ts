import type { Storage } from '@kpi/storage';
import { liveReleases } from './catalog/drift.ts';
import { guardrailRegressions, primaryResult, srmOf } from './catalog/experiments.ts';
import { HOUR } from './definition.ts';
import { parseEntity, type Experiment, type Incident, type Release } from './entities.ts';
import { SOURCES, type SourceName } from './sources.ts';

/**
 * Entity state for the operational views (open incidents, recent experiments, live releases):
 * the same derivation the KPIs use, listed per entity with the numbers the views show.
 */
async function entities<E>(storage: Storage, source: SourceName, team: string, order: string, limit: number): Promise<E[]> {
  const rows = await storage.query<Record<string, unknown>>(
    `SELECT * FROM (${SOURCES[source].sql}) WHERE ({team:String} = '*' OR team = {team:String}) ORDER BY {order:Identifier} DESC LIMIT {limit:UInt32}`,
    { team, order, limit },
  );
  return rows.map((row) => parseEntity[source](row as never) as E);
}

const iso = (instant: number | null) => (instant === null ? null : new Date(instant).toISOString());

export async function listIncidents(storage: Storage, options: { team: string; open: boolean; limit: number; now: Date }) {
  const all = await entities<Incident>(storage, 'incidents', options.team, 'opened_at', options.open ? 100_000 : options.limit);
  const now = options.now.getTime();
  return all
    .filter((incident) => !options.open || (incident.mitigated_at === null && incident.resolved_at === null))
    .slice(0, options.limit)
    .map((incident) => ({
      incident_id: incident.entity_id,
      team: incident.team,
      tier: incident.tier,
      severity: incident.severity,
      category: incident.category,
      model_id: incident.model_id || null,
      opened_at: iso(incident.opened_at),
      started_at: iso(incident.started_at),
      detected_at: iso(incident.detected_at),
      mitigated_at: iso(incident.mitigated_at),
      resolved_at: iso(incident.resolved_at),
      ttd_hours: incident.started_at === null ? null : (incident.detected_at - incident.started_at) / HOUR,
      ttm_hours: incident.mitigated_at === null ? null : (incident.mitigated_at - incident.detected_at) / HOUR,
      open_hours: incident.mitigated_at === null ? (now - incident.detected_at) / HOUR : null,
    }));
}

export async function listExperiments(storage: Storage, options: { team: string; limit: number }) {
  const recent = await entities<Experiment>(storage, 'experiments', options.team, 'latest_readout_at', options.limit);
  return recent.map((experiment) => {
    const result = primaryResult(experiment);
    const srm = srmOf(experiment);
    return {
      experiment_id: experiment.entity_id,
      team: experiment.team,
      model_id: experiment.model_id,
      primary_metric: experiment.primary?.metric ?? null,
      first_readout_at: iso(experiment.first_readout_at),
      latest_readout_at: iso(experiment.latest_readout_at),
      decided_at: iso(experiment.decided_at),
      decision: experiment.decision ?? null,
      actionable: experiment.actionable ?? null,
      lift: result?.lift.lift ?? null,
      ci_low: result?.lift.ciLow ?? null,
      ci_high: result?.lift.ciHigh ?? null,
      p_value: result?.lift.pValue ?? null,
      improvement: result?.improvement ?? null,
      significance: result?.significance ?? null,
      srm: srm ? { p_value: srm.pValue, failed: srm.failed } : null,
      guardrail_regressions: guardrailRegressions(experiment),
    };
  });
}

export async function listLiveReleases(storage: Storage, options: { team: string; now: Date }) {
  const releases = await entities<Release>(storage, 'releases', options.team, 'deployed_at', 1_000_000);
  return liveReleases(releases, options.now.getTime())
    .sort((a, b) => a.team.localeCompare(b.team) || a.model_id.localeCompare(b.model_id))
    .map((release) => {
      const critical = (release.monitoring?.features ?? []).filter((feature) => feature.critical);
      return {
        model_id: release.model_id,
        release_id: release.entity_id,
        team: release.team,
        tier: release.tier,
        model_version: release.model_version,
        deployed_at: iso(release.deployed_at),
        // null: the live release reports no monitoring (it counts as not covered).
        drift_enabled: release.monitoring?.drift_enabled ?? null,
        drift_alerting: release.monitoring?.drift_alerting ?? null,
        critical_features: critical.length,
        monitored_critical_features: critical.filter((feature) => feature.drift_monitored).length,
        unmonitored_critical_features: critical.filter((feature) => !feature.drift_monitored).map((feature) => feature.name),
      };
    });
}
