import { DEFAULTS } from '@kpi/events';
import { aggregateOf, defineKpi, shareOf, type Evaluation, type EvaluationContext } from '../definition.ts';
import type { Sample } from '../entities.ts';

const at = (sample: Sample) => sample.time;
const num = (sample: Sample, field: string) => Number(sample.data[field]);

/** sum(weight x quantity) / sum(weight), with `scale`: request-weighted latency, cost per 1k requests. */
function weighted(kind: string, quantity: (s: Sample) => number, weight: (s: Sample) => number, scale = 1) {
  return (samples: Sample[], context: EvaluationContext): Evaluation => {
    let numerator = 0;
    let denominator = 0;
    for (const sample of samples) {
      numerator += quantity(sample) * scale;
      denominator += weight(sample);
    }
    return {
      value: denominator === 0 ? null : numerator / denominator,
      numerator,
      denominator,
      sample_size: samples.length,
      details: denominator === 0 ? { null_reason: samples.length === 0 ? `no ${kind} in this period and scope` : 'no requests served in this period and scope' } : {},
      contributions: !context.explain ? [] : samples.map((sample) => ({
        entity: sample.entity_id,
        kind,
        team: sample.team,
        tier: sample.tier,
        anchor: new Date(sample.time).toISOString(),
        in_numerator: true,
        in_denominator: true,
        value: weight(sample),
        note: `model ${String(sample.data.model_id)}`,
      })),
    };
  };
}

export const signalKpis = [
  defineKpi<Sample>({
    source: 'triagedAlerts',
    anchor: 'time',
    anchorOf: at,
    tiered: false,
    id: 'alert_precision',
    name: 'Alert precision',
    description: 'Share of triaged alerts (latest triage per alert) that were actionable.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.7 }],
    evaluate: shareOf('alert', at, () => true, (sample) => sample.data.actionable === true),
  }),
  defineKpi<Sample>({
    source: 'datasetArrivals',
    anchor: 'time',
    anchorOf: at,
    tiered: false,
    id: 'data_freshness_sla',
    name: 'Data freshness SLA',
    description: 'Share of dataset arrivals no later than sla_minutes (default 120) after expected_at.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.99 }],
    evaluate: shareOf(
      'dataset_arrival',
      at,
      () => true,
      (sample) => sample.time - Date.parse(String(sample.data.expected_at)) <= ((sample.data.sla_minutes as number | undefined) ?? DEFAULTS.sla_minutes) * 60_000,
    ),
  }),
  defineKpi<Sample>({
    source: 'servingWindows',
    anchor: 'time',
    anchorOf: at,
    tiered: true,
    id: 'inference_latency_p95_ms',
    name: 'Inference latency p95',
    description: 'Request-weighted mean of latency_p95_ms over serving windows, by window end.',
    unit: 'ms',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 100 }],
    evaluate: weighted('serving_window', (s) => num(s, 'latency_p95_ms') * num(s, 'requests'), (s) => num(s, 'requests')),
  }),
  defineKpi<Sample>({
    source: 'servingWindows',
    anchor: 'time',
    anchorOf: at,
    tiered: true,
    id: 'inference_cost_per_1k',
    name: 'Inference cost per 1k requests',
    description: '1000 x sum(cost_usd) / sum(requests) over serving windows, by window end.',
    unit: 'usd_per_1k_requests',
    direction: 'lower_is_better',
    targets: [{ kind: 'previous_period', op: '<=' }],
    evaluate: weighted('serving_window', (s) => num(s, 'cost_usd'), (s) => num(s, 'requests'), 1000),
  }),
  defineKpi<Sample>({
    source: 'trainingRuns',
    anchor: 'time',
    anchorOf: at,
    tiered: false,
    id: 'training_cost_per_run',
    name: 'Training cost per run',
    description: 'Mean cost_usd of training runs, by finish time.',
    unit: 'usd',
    direction: 'lower_is_better',
    targets: [{ kind: 'previous_period', op: '<=' }],
    evaluate: aggregateOf('training_run', at, (sample) => num(sample, 'cost_usd'), 'mean'),
  }),
  defineKpi<Sample>({
    source: 'surveyResponses',
    anchor: 'time',
    anchorOf: at,
    tiered: false,
    id: 'stakeholder_satisfaction',
    name: 'Stakeholder satisfaction',
    description: 'Mean survey score (1-5), by answer time.',
    unit: 'score',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 4.2 }],
    evaluate: aggregateOf('survey_response', at, (sample) => num(sample, 'score'), 'mean'),
  }),
];
