import type { BuiltInKpiId, Direction, Forecast, Status, Unit } from '@kpi/kpi';

/**
 * The quarterly review of one team (or the organisation) as data: what the JSON format is, and
 * what the HTML and Markdown renderers read. Every KPI number is the KPI API's own (read with
 * the same `readValuesOf` as GET /v1/scorecard and /v1/kpis/:id/values); the sections list the
 * entities behind them. Nothing in it depends on when it was generated except `generated_at`.
 */
export const REPORT_SCHEMA_VERSION = 3;

/** What a review calls its period in prose: quarter, or year. */
export const periodNoun = (report: { review: 'quarterly' | 'yearly' }): 'quarter' | 'year' => (report.review === 'yearly' ? 'year' : 'quarter');
/** Its title: Quarterly review, or Yearly review. */
export const reviewTitle = (report: { review: 'quarterly' | 'yearly' }): string => (report.review === 'yearly' ? 'Yearly review' : 'Quarterly review');

export interface TrendPoint {
  quarter: string;
  value: number | null;
  target: number | null;
  status: Status;
}

export interface ReportKpi {
  id: string;
  name: string;
  description: string;
  unit: Unit;
  direction: Direction;
  group: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  sample_size: number;
  target: number | null;
  /** `threshold`, `previous_period` (no worse than the previous quarter), or null when none applies. */
  target_kind: 'threshold' | 'previous_period' | null;
  status: Status;
  previous_value: number | null;
  previous_status: Status | null;
  /** value - previous_value; relative to |previous_value| when that is not 0; better/worse by the KPI's direction. */
  change: { absolute: number | null; relative: number | null; direction: 'better' | 'worse' | 'unchanged' | null };
  /** The last eight quarters (four years for a yearly review), oldest first, ending with this one. */
  trend: TrendPoint[];
  /** Where the period will end (SPEC 5c), while it is in progress, for counts and shares with a target. */
  forecast: Forecast | null;
}

/** A review of a period still in progress: how far it is, and the KPIs forecast to miss their target. */
export interface InProgress {
  /** The fraction of the period elapsed when the report was made. */
  elapsed: number;
  /** The KPIs whose forecast is at risk, least likely to meet their target first. */
  at_risk: { id: string; name: string; unit: Unit; direction: Direction; value: number | null; target: number | null; forecast: Forecast }[];
}

/** A KPI value for tier 1 only (the scope of the tier-1 targets: TTD, TTM, drift model coverage). */
export interface TierValue {
  id: string;
  value: number | null;
  sample_size: number;
  target: number | null;
  status: Status;
  previous_value: number | null;
  details: Record<string, unknown>;
}

export interface BreachedTarget {
  id: string;
  name: string;
  unit: Unit;
  direction: Direction;
  tier: 'all' | '1';
  value: number | null;
  target: number | null;
  previous_value: number | null;
  /** Breached in the previous quarter too. */
  repeated: boolean;
}

export interface FiredAlert {
  at: string;
  rule: string;
  kpi: string;
  team: string;
  severity: string;
  value: number | null;
  target: number | null;
  period_start: string | null;
  reason: string;
}

export type AlertsSection =
  | { configured: false; note: string }
  | { configured: true; fired: number; by_rule: { rule: string; kpi: string; fired: number }[]; alerts: FiredAlert[]; truncated: boolean };

export interface IncidentRow {
  incident_id: string;
  team: string;
  tier: number;
  severity: string;
  category: string;
  model_id: string | null;
  opened_at: string;
  detected_at: string;
  mitigated_at: string | null;
  /** null: the incident tool did not report when the degradation began. */
  ttd_hours: number | null;
  ttm_hours: number | null;
}

export interface IncidentsSection {
  /** Incidents opened in the period. */
  opened: number;
  by_severity: Record<'sev0' | 'sev1' | 'sev2' | 'sev3', number>;
  by_category: Record<string, number>;
  /** Incidents whose first mitigation is in the period (the TTM sample). */
  mitigated: number;
  ttd: { value: number | null; p90: number | null; sample_size: number; tier1: TierValue };
  ttm: { value: number | null; p90: number | null; sample_size: number; tier1: TierValue };
  /** Incidents detected longer ago than the TTM target (`ttm.tier1.target`, a team's override included) at the quarter end and not mitigated by then. */
  open_past_target: { incident_id: string; team: string; tier: number; hours_open: number }[];
  /** The slowest first mitigations of the quarter, slowest first. */
  slowest_mitigations: (IncidentRow & { over_tier1_target: boolean })[];
  sev0: IncidentRow[];
}

export interface ExperimentRow {
  experiment_id: string;
  team: string;
  model_id: string | null;
  primary_metric: string | null;
  decided_at: string | null;
  decision: string | null;
  lift: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number | null;
  improvement: number | null;
  significance: string | null;
}

export interface ExperimentsSection {
  /** Experiments whose latest decision falls in the period, by decision. */
  decided: number;
  by_decision: Record<string, number>;
  /** Decided `ship` in the period; counted in shipped lift when a significant win. */
  shipped: (ExperimentRow & { counted_in_shipped_lift: boolean })[];
  srm_failures: { experiment_id: string; team: string; latest_readout_at: string; p_value: number }[];
  guardrail_breaches: { experiment_id: string; team: string; decided_at: string; metrics: string[] }[];
}

export interface ModelReleaseGaps {
  model_id: string;
  team: string;
  tier: number | null;
  releases: number;
  rolled_back: number;
  not_first_pass: number;
  not_reproducible: number;
  missing_model_card: number;
  missing_runbook: number;
  missing_readout: number;
}

export interface ReleasesSection {
  count: number;
  rolled_back: { release_id: string; model_id: string; team: string; deployed_at: string; rolled_back_at: string }[];
  /** Per model, releases of the quarter and their gaps; models with gaps first. */
  by_model: ModelReleaseGaps[];
}

export interface DriftGap {
  model_id: string;
  release_id: string;
  team: string;
  model_version: string;
  /** null: the live release reports no monitoring (it counts as not covered). */
  drift_enabled: boolean | null;
  drift_alerting: boolean | null;
  critical_features: number;
  unmonitored_critical_features: string[];
}

export interface DriftSection {
  /** The instant live models are taken at: the quarter end, or the generation time for the open quarter. */
  as_of: string;
  live_models: number;
  tier1_models: number;
  tier1: { feature_coverage: TierValue; model_coverage: TierValue };
  /** Live tier-1 models with unmonitored critical features, or drift detection or alerting off. */
  tier1_gaps: DriftGap[];
}

export interface DataCostSection {
  arrivals: number;
  late_arrivals: number;
  late_by_dataset: { dataset: string; arrivals: number; late: number; worst_delay_minutes: number }[];
  validations: number;
  failed_validations: number;
  /** Datasets with a failed validation, and the suites that failed. */
  failed_validations_by_dataset: { dataset: string; validations: number; failed: number; failed_suites: string[] }[];
  serving: {
    requests: number;
    cost_usd: number;
    by_model: { model_id: string; tier: number; requests: number; cost_usd: number; cost_per_1k: number | null; latency_p95_ms: number | null }[];
  };
  training: { runs: number; cost_usd: number };
}

export interface Narrative {
  headline: string;
  highlights: string[];
  lowlights: string[];
}

export interface Report {
  schema_version: number;
  /** Deterministic: the period and the scope. */
  id: string;
  /**
   * The period reviewed: a quarter (2026-Q3), or a year (2026) for a yearly review. This field,
   * `previous_quarter`, `open_quarter` and the trend points' `quarter` keep the names of the JSON
   * format from when reviews were quarterly only (readers of GET /v1/reports/:id/json use them);
   * each may name a year.
   */
  quarter: string;
  /** A quarterly review, or a yearly one: the KPIs at that granularity (yearly targets), trends over four years. */
  review: 'quarterly' | 'yearly';
  team: string;
  scope: string;
  period: { start: string; end: string };
  previous_quarter: string;
  /** Whether the quarter has any data for this scope; false gives a report that says so. */
  has_data: boolean;
  /** Whether the quarter was still open when the report was made. */
  open_quarter: boolean;
  /** For a period still in progress: how far, and what is at risk; null once it has closed. */
  in_progress: InProgress | null;
  summary: { kpis: number; met: number; breached: number; no_target: number; no_data: number };
  narrative: Narrative;
  kpis: ReportKpi[];
  breached: BreachedTarget[];
  alerts: AlertsSection;
  incidents: IncidentsSection;
  experiments: ExperimentsSection;
  releases: ReleasesSection;
  drift: DriftSection;
  data_and_cost: DataCostSection;
  /** sha256 of the report's content without `generated_at` and `content_hash`: the same data gives the same hash. */
  content_hash: string;
  generated_at: string;
}

/** A built-in KPI's entry in a report (every report lists the whole built-in catalog). */
export const reportKpi = (report: Pick<Report, 'kpis'>, id: BuiltInKpiId): ReportKpi => report.kpis.find((kpi) => kpi.id === id)!;
