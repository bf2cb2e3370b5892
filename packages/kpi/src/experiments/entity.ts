import { DEFAULTS } from '@kpi/events';
import { improvement, relativeLift, srmTest } from '@kpi/stats';
import { instant, type Row } from '../rows.ts';

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

/** An experiment's state, parsed from its row (rows.ts) for the statistics of its latest readout. */
export interface Experiment {
  entity_id: string;
  team: string;
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

function parseReadout(metric: Record<string, unknown>): MetricReadout {
  return {
    metric: String(metric.metric),
    higher_is_better: (metric.higher_is_better as boolean | undefined) ?? DEFAULTS.higher_is_better,
    control: metric.control as ArmStats,
    treatment: metric.treatment as ArmStats,
  };
}

export function parseExperiment(row: Row): Experiment {
  const started = JSON.parse(row.started as string);
  const readout = row.latest_readout_at === null ? undefined : JSON.parse(row.readout as string);
  const decision = row.decided_at === null ? undefined : JSON.parse(row.decision as string);
  return {
    entity_id: row.entity_id as string,
    team: row.team as string,
    model_id: started.model_id ?? null,
    hypothesis_at: Date.parse(started.hypothesis_at),
    offline_delta: started.offline_delta,
    allocation: started.allocation ?? DEFAULTS.allocation,
    first_readout_at: instant(row.first_readout_at),
    latest_readout_at: instant(row.latest_readout_at),
    primary: readout ? parseReadout(readout.primary) : undefined,
    guardrails: readout ? (readout.guardrails ?? []).map(parseReadout) : [],
    decided_at: instant(row.decided_at),
    decision: decision?.decision,
    actionable: decision?.actionable,
  };
}

/** The primary metric's improvement (L, or -L when lower is better) with its significance; null without a result. */
export function primaryResult(experiment: Experiment) {
  const primary = experiment.primary;
  if (!primary) return null;
  const lift = relativeLift(primary.control, primary.treatment);
  return lift ? { lift, ...improvement(lift, primary.higher_is_better) } : null;
}

export function guardrailRegressions(experiment: Experiment): string[] {
  return experiment.guardrails
    .filter((guardrail) => {
      const lift = relativeLift(guardrail.control, guardrail.treatment);
      return lift !== null && improvement(lift, guardrail.higher_is_better).significance === 'regression';
    })
    .map((guardrail) => guardrail.metric);
}

export function srmOf(experiment: Experiment) {
  return experiment.primary ? srmTest(experiment.primary.control.n, experiment.primary.treatment.n, experiment.allocation) : null;
}
