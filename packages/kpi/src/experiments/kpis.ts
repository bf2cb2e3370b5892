import { pearson } from '@kpi/stats';
import { raw } from '@kpi/storage';
import { defineKpi, type Contribution, type Evaluation, type EvaluationContext, type KpiDefinition, type Measure } from '../definition.ts';
import { guardrailRegressions, primaryResult, srmOf, type Experiment } from './entity.ts';
import { experiments } from './rows.ts';

// Experiments carry no tier: these KPIs answer tier = all only.
const base = { source: experiments, tiered: false } as const;

type Explained = Evaluation & { contributions: Contribution[] };

/** A KPI over the experiments' statistics, evaluated in the process on parsed experiments (O(experiments)). */
function overExperiments(evaluate: (experiments: Experiment[], context: EvaluationContext) => Explained, valueIs?: 'count' | 'share'): Measure {
  return { kind: 'entities', evaluate: (entities, context) => evaluate(entities as unknown as Experiment[], context), ...(valueIs ? { valueIs } : {}) };
}

function contribution(experiment: Experiment, anchor: number | null, value: number | null, counted: { num: boolean; den: boolean }, note?: string): Contribution {
  return {
    entity: experiment.entity_id,
    kind: 'experiment',
    team: experiment.team,
    tier: null,
    anchor: new Date(anchor ?? 0).toISOString(),
    in_numerator: counted.num,
    in_denominator: counted.den,
    value,
    ...(note ? { note } : {}),
  };
}

/** Sum of the primary improvement of experiments decided `ship`, counting significant wins only. */
function shippedLift(list: Experiment[], context: EvaluationContext): Explained {
  let total = 0;
  let wins = 0;
  const contributions: Contribution[] = [];
  const shipped = list.filter((experiment) => experiment.decision === 'ship');
  for (const experiment of shipped) {
    const result = primaryResult(experiment);
    const win = result?.significance === 'win';
    if (win) {
      total += result!.improvement;
      wins++;
    }
    if (context.explain) {
      contributions.push(contribution(experiment, experiment.decided_at, win ? result!.improvement : 0, { num: win, den: false }, win ? 'significant win' : result ? 'not a significant win' : 'no primary result'));
    }
  }
  return { value: total, numerator: null, denominator: null, sample_size: shipped.length, details: { significant_wins: wins }, contributions };
}

function guardrailBreaches(list: Experiment[], context: EvaluationContext): Explained {
  const breached = list.filter((experiment) => experiment.decision === 'ship' && guardrailRegressions(experiment).length > 0);
  return {
    value: breached.length,
    numerator: null,
    denominator: null,
    sample_size: list.length,
    details: {},
    contributions: context.explain ? breached.map((experiment) => contribution(experiment, experiment.decided_at, 1, { num: true, den: false }, `regressed: ${guardrailRegressions(experiment).join(', ')}`)) : [],
  };
}

function srmFailureRate(list: Experiment[], context: EvaluationContext): Explained {
  let failed = 0;
  const contributions: Contribution[] = [];
  for (const experiment of list) {
    const srm = srmOf(experiment);
    if (srm?.failed) failed++;
    if (context.explain) contributions.push(contribution(experiment, experiment.latest_readout_at, srm?.failed ? 1 : 0, { num: srm?.failed === true, den: true }, srm ? `SRM p = ${srm.pValue}` : 'no readout'));
  }
  return {
    value: list.length === 0 ? null : failed / list.length,
    numerator: failed,
    denominator: list.length,
    sample_size: list.length,
    details: list.length === 0 ? { null_reason: 'no entities in the denominator for this period and scope' } : {},
    contributions,
  };
}

/** Pearson r of (offline_delta, primary improvement) over experiments that have both. */
function alignment(list: Experiment[], context: EvaluationContext): Explained {
  const pairs: [number, number][] = [];
  const contributions: Contribution[] = [];
  for (const experiment of list) {
    const result = primaryResult(experiment);
    if (experiment.offline_delta === undefined || result === null) continue;
    pairs.push([experiment.offline_delta, result.improvement]);
    if (context.explain) contributions.push(contribution(experiment, experiment.latest_readout_at, result.improvement, { num: true, den: true }, `offline_delta ${experiment.offline_delta}`));
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
    contributions,
  };
}

export const experimentKpis: KpiDefinition[] = [
  defineKpi({
    ...base,
    anchor: 'first_readout_at',
    id: 'experiment_throughput',
    group: 'Experimentation',
    name: 'Experiment throughput',
    description: 'Count of experiments whose first readout falls in the period.',
    unit: 'count',
    direction: 'higher_is_better',
    targets: [
      { kind: 'threshold', op: '>=', value: 4, granularities: ['month'] },
      { kind: 'threshold', op: '>=', value: 12, granularities: ['quarter'] },
    ],
    measure: { kind: 'count' },
  }),
  defineKpi({
    ...base,
    anchor: 'decided_at',
    id: 'experiment_actionable_rate',
    group: 'Experimentation',
    name: 'Actionable experiment rate',
    description: 'Share of experiments decided in the period (latest decision) whose decision was actionable.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.6 }],
    measure: { kind: 'share', numerator: raw('coalesce(actionable, false)') },
  }),
  defineKpi({
    ...base,
    anchor: 'first_readout_at',
    id: 'time_to_experiment_days',
    group: 'Experimentation',
    name: 'Time to experiment',
    description: 'Median days from hypothesis to first readout, by first readout.',
    unit: 'days',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 21 }],
    measure: { kind: 'median', of: raw('(toUnixTimestamp64Milli(first_readout_at) - toUnixTimestamp64Milli(hypothesis_at)) / 86400000') },
  }),
  defineKpi({
    ...base,
    anchor: 'decided_at',
    id: 'shipped_lift',
    group: 'Experimentation',
    name: 'Shipped lift',
    description: 'Sum of the primary relative improvement of experiments whose latest decision is ship, counting significant wins only.',
    unit: 'relative_lift',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.005, granularities: ['quarter'] }],
    measure: overExperiments(shippedLift),
  }),
  defineKpi({
    ...base,
    anchor: 'decided_at',
    id: 'guardrail_breaches',
    group: 'Experimentation',
    name: 'Guardrail breaches',
    description: 'Count of experiments decided ship with at least one significant guardrail regression.',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0 }],
    defaultAlert: { rule: 'guardrail-breaches', granularity: 'quarter', for: '0s', severity: 'critical', summary: '{{team}} shipped {{value}} experiment(s) with a significant guardrail regression in {{period}}' },
    measure: overExperiments(guardrailBreaches, 'count'),
  }),
  defineKpi({
    ...base,
    anchor: 'latest_readout_at',
    id: 'srm_failure_rate',
    group: 'Experimentation',
    name: 'SRM failure rate',
    description: 'Share of experiments whose latest readout falls in the period that fail the sample-ratio-mismatch test (p < 0.001).',
    unit: 'ratio',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0.05 }],
    defaultAlert: { rule: 'srm-failures', granularity: 'month', for: '0s', severity: 'warning', summary: "{{value}} of {{team}}'s experiment readouts in {{period}} fail the sample-ratio check (target {{target}})" },
    measure: overExperiments(srmFailureRate, 'share'),
  }),
  defineKpi({
    ...base,
    anchor: 'latest_readout_at',
    id: 'offline_online_alignment',
    group: 'Experimentation',
    name: 'Offline-online alignment',
    description: 'Pearson r between offline_delta and the primary online improvement, over experiments whose latest readout falls in the period and that have both.',
    unit: 'correlation',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.5 }],
    measure: overExperiments(alignment),
  }),
];
