import { improvement, pearson, relativeLift, srmTest } from '@kpi/stats';
import { aggregateOf, contributionsFor, countOf, defineKpi, shareOf, DAY, type Contribution, type Evaluation, type EvaluationContext } from '../definition.ts';
import type { Experiment } from '../entities.ts';

// Experiments carry no tier: these KPIs answer tier = all only.
const firstReadout = (experiment: Experiment) => experiment.first_readout_at;
const latestReadout = (experiment: Experiment) => experiment.latest_readout_at;
const decided = (experiment: Experiment) => experiment.decided_at;
const base = { source: 'experiments', tiered: false } as const;

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

function contributionOf(experiment: Experiment, anchor: number, value: number | null, counted: { num: boolean; den: boolean }, note?: string): Contribution {
  return {
    entity: experiment.entity_id,
    kind: 'experiment',
    team: experiment.team,
    tier: null,
    anchor: new Date(anchor).toISOString(),
    in_numerator: counted.num,
    in_denominator: counted.den,
    value,
    ...(note ? { note } : {}),
  };
}

/** Sum of the primary improvement of experiments decided `ship`, counting significant wins only. */
function shippedLift(experiments: Experiment[], context: EvaluationContext): Evaluation {
  let total = 0;
  let wins = 0;
  const contributions = contributionsFor(context);
  const shipped = experiments.filter((experiment) => experiment.decision === 'ship');
  for (const experiment of shipped) {
    const result = primaryResult(experiment);
    const win = result?.significance === 'win';
    if (win) {
      total += result!.improvement;
      wins++;
    }
    contributions.add(() =>
      contributionOf(experiment, experiment.decided_at!, win ? result!.improvement : 0, { num: win, den: false }, win ? 'significant win' : result ? 'not a significant win' : 'no primary result'),
    );
  }
  return { value: total, numerator: null, denominator: null, sample_size: shipped.length, details: { significant_wins: wins }, contributions: contributions.list };
}

/** Pearson r of (offline_delta, primary improvement) over experiments that have both. */
function alignment(experiments: Experiment[], context: EvaluationContext): Evaluation {
  const pairs: [number, number][] = [];
  const contributions = contributionsFor(context);
  for (const experiment of experiments) {
    const result = primaryResult(experiment);
    if (experiment.offline_delta === undefined || result === null) continue;
    pairs.push([experiment.offline_delta, result.improvement]);
    contributions.add(() => contributionOf(experiment, experiment.latest_readout_at!, result.improvement, { num: true, den: true }, `offline_delta ${experiment.offline_delta}`));
  }
  const r = pearson(
    pairs.map((pair) => pair[0]),
    pairs.map((pair) => pair[1]),
  );
  return {
    value: r,
    numerator: null,
    denominator: null,
    sample_size: pairs.length,
    details: r === null ? { null_reason: pairs.length < 3 ? `${pairs.length} experiment(s) with both an offline delta and a primary result; at least 3 are needed` : 'zero variance in offline deltas or online improvements' } : {},
    contributions: contributions.list,
  };
}

export const experimentKpis = [
  defineKpi<Experiment>({
    ...base,
    anchor: 'first_readout_at',
    anchorOf: firstReadout,
    id: 'experiment_throughput',
    name: 'Experiment throughput',
    description: 'Count of experiments whose first readout falls in the period.',
    unit: 'count',
    direction: 'higher_is_better',
    targets: [
      { kind: 'threshold', op: '>=', value: 4, granularities: ['month'] },
      { kind: 'threshold', op: '>=', value: 12, granularities: ['quarter'] },
    ],
    evaluate: countOf('experiment', firstReadout, () => true),
  }),
  defineKpi<Experiment>({
    ...base,
    anchor: 'decided_at',
    anchorOf: decided,
    id: 'experiment_actionable_rate',
    name: 'Actionable experiment rate',
    description: 'Share of experiments decided in the period (latest decision) whose decision was actionable.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.6 }],
    evaluate: shareOf('experiment', decided, () => true, (experiment) => experiment.actionable === true),
  }),
  defineKpi<Experiment>({
    ...base,
    anchor: 'first_readout_at',
    anchorOf: firstReadout,
    id: 'time_to_experiment_days',
    name: 'Time to experiment',
    description: 'Median days from hypothesis to first readout, by first readout.',
    unit: 'days',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 21 }],
    evaluate: aggregateOf('experiment', firstReadout, (experiment) => (experiment.first_readout_at! - experiment.hypothesis_at) / DAY, 'median'),
  }),
  defineKpi<Experiment>({
    ...base,
    anchor: 'decided_at',
    anchorOf: decided,
    id: 'shipped_lift',
    name: 'Shipped lift',
    description: 'Sum of the primary relative improvement of experiments whose latest decision is ship, counting significant wins only.',
    unit: 'relative_lift',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.005, granularities: ['quarter'] }],
    evaluate: shippedLift,
  }),
  defineKpi<Experiment>({
    ...base,
    anchor: 'decided_at',
    anchorOf: decided,
    id: 'guardrail_breaches',
    name: 'Guardrail breaches',
    description: 'Count of experiments decided ship with at least one significant guardrail regression.',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0 }],
    evaluate: countOf('experiment', decided, (experiment) => experiment.decision === 'ship' && guardrailRegressions(experiment).length > 0),
  }),
  defineKpi<Experiment>({
    ...base,
    anchor: 'latest_readout_at',
    anchorOf: latestReadout,
    id: 'srm_failure_rate',
    name: 'SRM failure rate',
    description: 'Share of experiments whose latest readout falls in the period that fail the sample-ratio-mismatch test (p < 0.001).',
    unit: 'ratio',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0.05 }],
    evaluate: shareOf('experiment', latestReadout, () => true, (experiment) => srmOf(experiment)?.failed === true),
  }),
  defineKpi<Experiment>({
    ...base,
    anchor: 'latest_readout_at',
    anchorOf: latestReadout,
    id: 'offline_online_alignment',
    name: 'Offline-online alignment',
    description: 'Pearson r between offline_delta and the primary online improvement, over experiments whose latest readout falls in the period and that have both.',
    unit: 'correlation',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.5 }],
    evaluate: alignment,
  }),
];
