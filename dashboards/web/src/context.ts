import type { KpiDefinition, Team } from './types.ts';
import type { State } from './state.ts';

/** What every view gets: the state from the URL, the catalog (loaded once), the teams, and navigation. */
export interface Context {
  state: State;
  catalog: KpiDefinition[];
  teams: Team[];
  navigate(patch: Partial<State>, options?: { replace?: boolean }): void;
  href(patch: Partial<State>): string;
  /** Re-render the current view in place (e.g. after an in-memory toggle). */
  rerender(): void;
}

export interface Rendered {
  node: Node;
  title: string;
  /** Runs once the node is in the document (charts need their width). */
  mount?(): void;
  /** Runs before the node is replaced. */
  unmount?(): void;
}

/** Presentation groups of the catalog (the order science leads read a scorecard in); unknown ids go last. */
export const GROUPS: { title: string; ids: string[] }[] = [
  { title: 'Delivery and model quality', ids: ['releases_delivered', 'change_failure_rate', 'readiness_first_pass_rate', 'documentation_completeness', 'reproducibility_rate', 'offline_win_rate', 'calibration_ece', 'slice_regressions'] },
  { title: 'Experimentation', ids: ['experiment_throughput', 'experiment_actionable_rate', 'time_to_experiment_days', 'shipped_lift', 'guardrail_breaches', 'srm_failure_rate', 'offline_online_alignment'] },
  { title: 'Incidents and alerting', ids: ['sev0_incidents', 'model_incidents', 'data_quality_incidents', 'time_to_detect_hours', 'time_to_mitigate_hours', 'alert_precision'] },
  { title: 'Monitoring and data', ids: ['drift_feature_coverage', 'drift_model_coverage', 'data_freshness_sla'] },
  { title: 'Serving and cost', ids: ['inference_latency_p95_ms', 'inference_cost_per_1k', 'training_cost_per_run'] },
  { title: 'Stakeholders', ids: ['stakeholder_satisfaction'] },
];

export function groupKpis<T extends { id: string }>(items: T[]): { title: string; items: T[] }[] {
  const seen = new Set<string>();
  const groups = GROUPS.map((group) => {
    const inGroup = group.ids.map((id) => items.find((item) => item.id === id)).filter((item): item is T => !!item);
    inGroup.forEach((item) => seen.add(item.id));
    return { title: group.title, items: inGroup };
  });
  const rest = items.filter((item) => !seen.has(item.id));
  if (rest.length) groups.push({ title: 'Other', items: rest });
  return groups.filter((group) => group.items.length > 0);
}

export const teamLabel = (team: string) => (team === 'all' ? 'Organisation (all teams)' : `Team ${team}`);
