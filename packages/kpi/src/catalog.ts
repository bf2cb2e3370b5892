import type { KpiDefinition } from './definition.ts';
import { experimentKpis } from './experiments/kpis.ts';
import { incidentKpis } from './incidents/kpis.ts';
import { driftKpis, releaseKpis } from './releases/kpis.ts';
import { signalKpis } from './signals/kpis.ts';
import { withYearlyTargets } from './targets.ts';

/** The catalog: every KPI of the blueprints, in the order the SPEC lists them. */
const order = [
  'releases_delivered', 'change_failure_rate', 'readiness_first_pass_rate', 'documentation_completeness', 'reproducibility_rate',
  'experiment_throughput', 'experiment_actionable_rate', 'time_to_experiment_days', 'shipped_lift', 'guardrail_breaches',
  'srm_failure_rate', 'offline_online_alignment', 'sev0_incidents', 'model_incidents', 'data_quality_incidents',
  'time_to_detect_hours', 'time_to_mitigate_hours', 'drift_feature_coverage', 'drift_model_coverage', 'alert_precision',
  'data_freshness_sla', 'offline_win_rate', 'calibration_ece', 'slice_regressions', 'inference_latency_p95_ms',
  'inference_cost_per_1k', 'training_cost_per_run', 'stakeholder_satisfaction', 'fairness_gap', 'segment_parity_rate',
  'inference_latency_p99_ms', 'tech_debt_closed', 'cross_team_reuse', 'mentorship_contributions',
];
const byId = new Map<string, KpiDefinition>(
  [...releaseKpis, ...experimentKpis, ...incidentKpis, ...driftKpis, ...signalKpis].map((kpi) => [kpi.id, { ...kpi, targets: withYearlyTargets(kpi.targets) }]),
);

export const CATALOG: readonly KpiDefinition[] = order.map((id) => byId.get(id)!);

export function kpiById(id: string): KpiDefinition | undefined {
  return byId.get(id);
}
