import { DEFAULTS } from '@kpi/events';
import type { SourceName } from './sources.ts';

/** Typed entity state, parsed once from a source's rows; every KPI of the source reads these. */
// ClickHouse returns UTC instants as ISO text ('iso' output format) or, by default, 'YYYY-MM-DD hh:mm:ss'.
const time = (value: string | null): number | null =>
  value === null ? null : Date.parse(/^\d{4}-\d\d-\d\d \d/.test(value) ? `${value.replace(' ', 'T')}Z` : value);

interface Base {
  entity_id: string;
  team: string;
  /** 1-3, or null for events that carry no tier. */
  tier: number | null;
}

export interface Incident extends Base {
  severity: string;
  category: string;
  model_id: string;
  opened_at: number;
  /** null: the incident tool did not report when the degradation began. */
  started_at: number | null;
  detected_at: number;
  /** The earliest mitigation, else the earliest resolution (a resolved incident was mitigated by then). */
  mitigated_at: number | null;
  resolved_at: number | null;
}

interface Comparison {
  value: number;
  baseline: number;
  higher_is_better: boolean;
}

export interface Release extends Base {
  model_id: string;
  model_version: string;
  deployed_at: number;
  rollbacks: number[];
  // Facts after corrections; undefined where the release never reported one (left out, not guessed).
  readiness_first_pass: boolean | undefined;
  reproducible: boolean | undefined;
  docs: { model_card: boolean; runbook: boolean; readout: boolean } | undefined;
  monitoring: { drift_enabled: boolean; drift_alerting: boolean; features: { name: string; critical: boolean; drift_monitored: boolean }[] } | undefined;
  offline_metric: (Comparison & { name: string }) | undefined;
  calibration_ece: number | undefined;
  slices: (Comparison & { segment: string })[] | undefined;
}

export interface ArmStats {
  n: number;
  mean: number;
  variance: number;
}
interface MetricReadout {
  metric: string;
  higher_is_better: boolean;
  control: ArmStats;
  treatment: ArmStats;
}

export interface Experiment extends Base {
  model_id: string | null;
  hypothesis_at: number;
  offline_delta: number | undefined;
  allocation: { control: number; treatment: number };
  first_readout_at: number | null;
  latest_readout_at: number | null;
  primary: MetricReadout | undefined;
  guardrails: MetricReadout[];
  decided_at: number | null;
  decision: string | undefined;
  actionable: boolean | undefined;
}

/** One event as a sample (serving window, arrival, survey answer, triaged alert, training run). */
export interface Sample extends Base {
  time: number;
  data: Record<string, unknown>;
}

type Raw = Record<string, unknown> & { entity_id: string; team: string; tier: number };
const base = (raw: Raw): Base => ({ entity_id: raw.entity_id, team: raw.team, tier: raw.tier === 0 ? null : raw.tier });

function parseIncident(raw: Raw): Incident {
  return {
    ...base(raw),
    severity: String(raw.severity),
    category: String(raw.category),
    model_id: String(raw.model_id),
    opened_at: time(raw.opened_at as string)!,
    started_at: time(raw.started_at as string | null),
    detected_at: time(raw.detected_at as string)!,
    mitigated_at: time(raw.mitigated_at as string | null),
    resolved_at: time(raw.resolved_at as string | null),
  };
}

function parseRelease(raw: Raw): Release {
  const deployed = JSON.parse(raw.deployed as string);
  const facts = JSON.parse(raw.facts as string);
  return {
    ...base(raw),
    model_id: deployed.model_id,
    model_version: deployed.model_version,
    deployed_at: time(raw.deployed_at as string)!,
    rollbacks: (raw.rollbacks as string[]).map((value) => time(value)!),
    readiness_first_pass: facts.readiness_first_pass,
    reproducible: facts.reproducible,
    docs: facts.docs,
    monitoring: facts.monitoring,
    offline_metric: facts.offline_metric,
    calibration_ece: facts.calibration_ece,
    slices: facts.slices,
  };
}

function parseReadout(metric: Record<string, unknown>): MetricReadout {
  return {
    metric: String(metric.metric),
    higher_is_better: (metric.higher_is_better as boolean | undefined) ?? DEFAULTS.higher_is_better,
    control: metric.control as ArmStats,
    treatment: metric.treatment as ArmStats,
  };
}

function parseExperiment(raw: Raw): Experiment {
  const started = JSON.parse(raw.started as string);
  const readout = raw.latest_readout_at === null ? undefined : JSON.parse(raw.readout as string);
  const decision = raw.decided_at === null ? undefined : JSON.parse(raw.decision as string);
  return {
    ...base(raw),
    model_id: started.model_id ?? null,
    hypothesis_at: Date.parse(started.hypothesis_at),
    offline_delta: started.offline_delta,
    allocation: started.allocation ?? DEFAULTS.allocation,
    first_readout_at: time(raw.first_readout_at as string | null),
    latest_readout_at: time(raw.latest_readout_at as string | null),
    primary: readout ? parseReadout(readout.primary) : undefined,
    guardrails: readout ? (readout.guardrails ?? []).map(parseReadout) : [],
    decided_at: time(raw.decided_at as string | null),
    decision: decision?.decision,
    actionable: decision?.actionable,
  };
}

function parseSample(raw: Raw): Sample {
  return { ...base(raw), time: time(raw.time as string)!, data: JSON.parse(raw.data as string) };
}

export const parseEntity: Record<SourceName, (raw: Raw) => Base> = {
  incidents: parseIncident,
  releases: parseRelease,
  experiments: parseExperiment,
  servingWindows: parseSample,
  datasetArrivals: parseSample,
  surveyResponses: parseSample,
  triagedAlerts: parseSample,
  trainingRuns: parseSample,
};

export type Entity = Base;
