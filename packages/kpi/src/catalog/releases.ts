import { countOf, defineKpi, shareOf, aggregateOf, DAY } from '../definition.ts';
import type { Release } from '../entities.ts';

// Production releases (environment = production), each assigned to the period of its deploy time.
const deployed = (release: Release) => release.deployed_at;
const all = () => true;
const base = { source: 'releases', anchor: 'deployed_at', anchorOf: deployed, tiered: true } as const;

/** A release counts as failed when rolled back at most 7 days (inclusive) after its deploy. */
export const rolledBackWithin7Days = (release: Release) => release.rollbacks.some((at) => at >= release.deployed_at && at - release.deployed_at <= 7 * DAY);

/** Direction-aware relative worsening beyond 5 % of |baseline|; a zero baseline never counts. */
export const sliceRegressed = (slice: NonNullable<Release['slices']>[number]) =>
  slice.baseline !== 0 &&
  (slice.higher_is_better ? slice.baseline - slice.value : slice.value - slice.baseline) > 0.05 * Math.abs(slice.baseline);

export const releaseKpis = [
  defineKpi<Release>({
    ...base,
    id: 'releases_delivered',
    name: 'Releases delivered',
    description: 'Count of production releases, by deploy time.',
    unit: 'count',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 1, granularities: ['quarter'] }],
    evaluate: countOf('release', deployed, all),
  }),
  defineKpi<Release>({
    ...base,
    id: 'change_failure_rate',
    name: 'Change failure rate',
    description: 'Production releases rolled back (same release_id) at most 7 days after deploy / production releases.',
    unit: 'ratio',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0.15 }],
    evaluate: shareOf('release', deployed, all, rolledBackWithin7Days),
  }),
  defineKpi<Release>({
    ...base,
    id: 'readiness_first_pass_rate',
    name: 'Readiness review first-pass rate',
    description: 'Share of production releases that passed the readiness review on the first pass.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.8 }],
    evaluate: shareOf('release', deployed, (release) => release.readiness_first_pass !== undefined, (release) => release.readiness_first_pass === true),
  }),
  defineKpi<Release>({
    ...base,
    id: 'documentation_completeness',
    name: 'Documentation completeness',
    description: 'Share of production releases with model card, runbook and readout all present.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 1.0 }],
    evaluate: shareOf('release', deployed, (release) => release.docs !== undefined, ({ docs }) => docs!.model_card && docs!.runbook && docs!.readout),
  }),
  defineKpi<Release>({
    ...base,
    id: 'reproducibility_rate',
    name: 'Reproducibility rate',
    description: 'Share of production releases marked reproducible.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.9 }],
    evaluate: shareOf('release', deployed, (release) => release.reproducible !== undefined, (release) => release.reproducible === true),
  }),
  defineKpi<Release>({
    ...base,
    id: 'offline_win_rate',
    name: 'Offline win rate',
    description: 'Share of production releases with an offline metric that strictly beats its baseline (direction-aware).',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.8 }],
    evaluate: shareOf(
      'release',
      deployed,
      (release) => release.offline_metric !== undefined,
      ({ offline_metric: m }) => (m!.higher_is_better ? m!.value > m!.baseline : m!.value < m!.baseline),
    ),
  }),
  defineKpi<Release>({
    ...base,
    id: 'calibration_ece',
    name: 'Calibration error (ECE)',
    description: 'Mean expected calibration error of the production releases that report it.',
    unit: 'ratio',
    direction: 'lower_is_better',
    targets: [{ kind: 'previous_period', op: '<=' }],
    evaluate: aggregateOf('release', deployed, (release) => release.calibration_ece, 'mean'),
  }),
  defineKpi<Release>({
    ...base,
    id: 'slice_regressions',
    name: 'Slice regressions',
    description: 'Count of slices, over production releases, worse than baseline by more than 5 % of |baseline| (direction-aware; a zero baseline never counts).',
    unit: 'count',
    direction: 'lower_is_better',
    targets: [{ kind: 'threshold', op: '<=', value: 0 }],
    evaluate: countOf('release', deployed, (release) => release.slices!.filter(sliceRegressed).length, (release) => release.slices !== undefined),
  }),
];
