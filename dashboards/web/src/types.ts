/** The JSON the API returns (services/api), as the dashboard reads it. */

export type Status = 'met' | 'breached' | 'no_target' | 'no_data';
export type Unit = 'count' | 'ratio' | 'hours' | 'days' | 'ms' | 'usd' | 'usd_per_1k_requests' | 'score' | 'correlation' | 'relative_lift' | (string & {});
export type Direction = 'higher_is_better' | 'lower_is_better';
export type Granularity = 'week' | 'month' | 'quarter';

export type TargetRule =
  | { kind: 'threshold'; op: '>=' | '<='; value: number; granularities?: Granularity[]; tier1Only?: boolean }
  | { kind: 'previous_period'; op: '<=' };

export interface KpiDefinition {
  id: string;
  name: string;
  description: string;
  unit: Unit;
  direction: Direction;
  tiered: boolean;
  targets: TargetRule[];
  /** Presentation group (packages/format KPI_GROUP_ORDER). */
  group: string;
  /** Defined by the organisation (SPEC §5b). */
  custom: boolean;
}

export interface ScorecardKpi {
  id: string;
  name: string;
  unit: Unit;
  direction: Direction;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  sample_size?: number;
  target: number | null;
  status: Status;
  previous_value: number | null;
}

export interface Scorecard {
  quarter: string;
  team: string;
  kpis: ScorecardKpi[];
}

export interface KpiValue {
  period_start: string;
  period_end: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  sample_size: number;
  target: number | null;
  status: Status;
  previous_value?: number | null;
  details: Record<string, unknown>;
}

export interface KpiValues {
  kpi: string;
  granularity: Granularity;
  team: string;
  tier: string;
  values: KpiValue[];
}

export interface Contribution {
  entity: string;
  kind: string;
  team: string;
  tier: number | null;
  anchor: string;
  in_numerator: boolean;
  in_denominator: boolean;
  value: number | null;
  note?: string;
}

export interface Breakdown extends Omit<KpiValue, 'previous_value'> {
  kpi: string;
  granularity: Granularity;
  team: string;
  tier: string;
  entities: Contribution[];
  diagnostics: {
    null_reason: string | null;
    waiting_for_defining_event: { explanation?: string; total: number; entities: unknown[] };
  };
}

export interface Team {
  team: string;
  models: string[];
  events: number;
  last_event_at: string;
}

export interface Incident {
  incident_id: string;
  team: string;
  tier: number;
  severity: string;
  category: string;
  model_id: string | null;
  opened_at: string;
  started_at: string | null;
  detected_at: string;
  mitigated_at: string | null;
  resolved_at: string | null;
  ttd_hours: number | null;
  ttm_hours: number | null;
  open_hours: number | null;
}

export interface Experiment {
  experiment_id: string;
  team: string;
  model_id: string | null;
  primary_metric: string;
  first_readout_at: string | null;
  latest_readout_at: string | null;
  decided_at: string | null;
  decision: string | null;
  actionable: boolean | null;
  lift: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number | null;
  improvement: number | null;
  significance: 'win' | 'regression' | 'none' | null;
  srm: { p_value: number | null; failed: boolean } | null;
  guardrail_regressions: string[];
}

export interface LiveRelease {
  model_id: string;
  release_id: string;
  team: string;
  tier: number;
  model_version: string;
  deployed_at: string;
  /** null: the live release reports no monitoring. */
  drift_enabled: boolean | null;
  drift_alerting: boolean | null;
  critical_features: number | string[];
  monitored_critical_features: number | string[];
  unmonitored_critical_features: string[];
}

/** An alert of the organisation's monitors, as GET /v1/triage lists it. */
export interface TriageAlert {
  alert_id: string;
  team: string;
  model_id: string | null;
  name: string;
  severity: string | null;
  labels: Record<string, string>;
  fired_at: string;
  triaged: boolean;
  actionable: boolean | null;
  triaged_at: string | null;
}
