import { raw, sql } from '@kpi/storage';
import { aggregate, defineKpi, type KpiDefinition } from '../definition.ts';
import { releases, ROLLBACK_WINDOW_DAYS, SLICE_REGRESSION_SHARE } from './rows.ts';

// Production releases, each assigned to the period of its deploy time.
const base = { source: releases, anchor: 'deployed_at', tiered: true } as const;
const coalesced = (condition: string) => raw(`coalesce(${condition}, false)`);

/** Rolled back at most 7 days (inclusive) after its deploy. */
const rolledBackInWindow = raw(`arrayExists(rollback -> rollback >= deployed_at AND rollback <= deployed_at + INTERVAL ${ROLLBACK_WINDOW_DAYS} DAY, rollbacks)`);
/** Direction-aware worsening beyond 5 % of |baseline|; a zero baseline never counts. */
const regressedSlices = raw(
  `arrayCount(slice -> slice.baseline != 0 AND if(slice.higher_is_better, slice.baseline - slice.value, slice.value - slice.baseline) > ${SLICE_REGRESSION_SHARE} * abs(slice.baseline), slices)`,
);

export const releaseKpis: KpiDefinition[] = [
  defineKpi({
    ...base,
    id: 'releases_delivered',
    group: 'Delivery and model quality',
    name: 'Releases delivered',
    description: 'Count of production releases, by deploy time.',
    unit: 'count',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 1, granularities: ['quarter'] }],
    measure: { kind: 'count' },
  }),
  defineKpi({
    ...base,
    id: 'change_failure_rate',
    group: 'Delivery and model quality',
    name: 'Change failure rate',
    description: 'Production releases rolled back (same release_id) at most 7 days after deploy / production releases.',
    unit: 'ratio',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0.15 }],
    defaultAlert: { rule: 'change-failure-rate-over-target', granularity: 'quarter', for: '0s', severity: 'warning', summary: 'Change failure rate of {{team}} is {{value}} in {{period}} (target {{target}})' },
    measure: { kind: 'share', numerator: rolledBackInWindow },
  }),
  defineKpi({
    ...base,
    id: 'readiness_first_pass_rate',
    group: 'Delivery and model quality',
    name: 'Readiness review first-pass rate',
    description: 'Share of production releases that passed the readiness review on the first pass, over those that report it.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.8 }],
    measure: { kind: 'share', numerator: coalesced('readiness_first_pass'), reported: raw('readiness_first_pass IS NOT NULL') },
  }),
  defineKpi({
    ...base,
    id: 'documentation_completeness',
    group: 'Delivery and model quality',
    name: 'Documentation completeness',
    description: 'Share of production releases with model card, runbook and readout all present, over those that report their docs.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 1.0 }],
    measure: { kind: 'share', numerator: raw('docs_complete'), reported: raw('reports_docs') },
  }),
  defineKpi({
    ...base,
    id: 'reproducibility_rate',
    group: 'Delivery and model quality',
    name: 'Reproducibility rate',
    description: 'Share of production releases marked reproducible, over those that report it.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.9 }],
    measure: { kind: 'share', numerator: coalesced('reproducible'), reported: raw('reproducible IS NOT NULL') },
  }),
  defineKpi({
    ...base,
    id: 'offline_win_rate',
    group: 'Delivery and model quality',
    name: 'Offline win rate',
    description: 'Share of production releases with an offline metric that strictly beats its baseline (direction-aware).',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.8 }],
    measure: {
      kind: 'share',
      numerator: raw('if(offline_metric.higher_is_better, offline_metric.value > offline_metric.baseline, offline_metric.value < offline_metric.baseline)'),
      reported: raw('reports_offline_metric'),
    },
  }),
  defineKpi({
    ...base,
    id: 'calibration_ece',
    group: 'Delivery and model quality',
    name: 'Calibration error (ECE)',
    description: 'Mean expected calibration error of the production releases that report it.',
    unit: 'ratio',
    direction: 'lower_is_better',
    targets: [{ kind: 'previous_period', op: '<=' }],
    measure: { kind: 'mean', of: raw('calibration_ece') },
  }),
  defineKpi({
    ...base,
    id: 'slice_regressions',
    group: 'Delivery and model quality',
    name: 'Slice regressions',
    description: 'Count of slices, over production releases that report slices, worse than baseline by more than 5 % of |baseline| (direction-aware; a zero baseline never counts).',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0 }],
    measure: { kind: 'count', count: regressedSlices, reported: raw('reports_slices') },
  }),
];

// The models live at the period end (now, for the open period): a model's live release is its
// latest production release deployed before that instant and not rolled back before it. A live
// release that reports no monitoring is not covered and adds no features (SPEC §5).
const live = { source: releases, anchor: 'period_end', tiered: true } as const;

export const driftKpis: KpiDefinition[] = [
  defineKpi({
    ...live,
    id: 'drift_feature_coverage',
    group: 'Monitoring and data',
    name: 'Drift monitoring coverage (features)',
    description: 'Over the models live at the period end (now, for the open period): drift-monitored critical features / critical features.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.8 }],
    defaultAlert: { rule: 'drift-feature-coverage-below-target', granularity: 'month', for: '1h', severity: 'warning', summary: "Drift monitoring covers {{value}} of the critical features of {{team}}'s live models (target {{target}})" },
    measure: { kind: 'ratio', numerator: raw('monitored_critical_features'), denominator: raw('critical_features') },
    details: {
      models: aggregate('count', []),
      unmonitored_critical_features: aggregate('groupArrayIf', [
        raw("CAST((model_id, entity_id, unmonitored_critical_features), 'Tuple(model_id String, release_id String, features Array(String))')"),
        raw('length(unmonitored_critical_features) > 0'),
      ]),
    },
    note: raw("concat('model ', model_id, ': ', toString(monitored_critical_features), '/', toString(critical_features), ' critical features monitored')"),
  }),
  defineKpi({
    ...live,
    id: 'drift_model_coverage',
    group: 'Monitoring and data',
    name: 'Drift monitoring coverage (models)',
    description: 'Share of the models live at the period end (now, for the open period) with drift detection enabled and alerting.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 1.0, tier1Only: true }],
    defaultAlert: { rule: 'drift-model-coverage-below-target-tier1', tier: '1', granularity: 'month', for: '1h', severity: 'warning', summary: "Only {{value}} of {{team}}'s live tier-1 models have drift detection with alerting (target {{target}})" },
    measure: { kind: 'share', numerator: raw('reports_monitoring AND drift_enabled AND drift_alerting') },
    note: sql`concat('model ', model_id, ': ', if(reports_monitoring, concat('drift ', if(drift_enabled, 'on', 'off'), ', alerting ', if(drift_alerting, 'on', 'off')), 'monitoring not reported'))`,
  }),
];
