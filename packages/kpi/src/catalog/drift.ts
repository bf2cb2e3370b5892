import { contributionsFor, defineKpi, type Contribution, type Evaluation, type EvaluationContext } from '../definition.ts';
import type { Release } from '../entities.ts';

/**
 * The live release of each model at an instant: its latest production release deployed before
 * that instant and not rolled back before it. A rolled-back release hands over to the
 * previous live one.
 */
export function liveReleases(releases: Release[], at: number): Release[] {
  const live = new Map<string, Release>();
  for (const release of releases) {
    if (release.deployed_at >= at) continue;
    if (release.rollbacks.some((rollback) => rollback < at)) continue;
    const current = live.get(release.model_id);
    if (!current || release.deployed_at > current.deployed_at || (release.deployed_at === current.deployed_at && release.entity_id > current.entity_id)) {
      live.set(release.model_id, release);
    }
  }
  return [...live.values()];
}

const base = { source: 'releases', anchor: 'period_end', anchorOf: () => null, tiered: true } as const;

function contribution(release: Release, context: EvaluationContext, value: number, counted: { num: boolean; den: boolean }, note: string): Contribution {
  return {
    entity: release.entity_id,
    kind: 'release',
    team: release.team,
    tier: release.tier,
    anchor: context.at.toISOString(),
    in_numerator: counted.num,
    in_denominator: counted.den,
    value,
    note,
  };
}

function featureCoverage(live: Release[], context: EvaluationContext): Evaluation {
  let monitored = 0;
  let critical = 0;
  const contributions = contributionsFor(context);
  const gaps: { model_id: string; release_id: string; features: string[] }[] = [];
  for (const release of live) {
    // A live release that reports no monitoring adds no features.
    const criticalFeatures = (release.monitoring?.features ?? []).filter((feature) => feature.critical);
    const covered = criticalFeatures.filter((feature) => feature.drift_monitored).length;
    monitored += covered;
    critical += criticalFeatures.length;
    const missing = criticalFeatures.filter((feature) => !feature.drift_monitored).map((feature) => feature.name);
    if (missing.length > 0) gaps.push({ model_id: release.model_id, release_id: release.entity_id, features: missing });
    contributions.add(() => contribution(release, context, covered, { num: covered > 0, den: criticalFeatures.length > 0 }, `model ${release.model_id}: ${covered}/${criticalFeatures.length} critical features monitored`));
  }
  return {
    value: critical === 0 ? null : monitored / critical,
    numerator: monitored,
    denominator: critical,
    sample_size: live.length,
    details: { models: live.length, unmonitored_critical_features: gaps, ...(critical === 0 ? { null_reason: live.length === 0 ? 'no live production model at the period end' : 'live models declare no critical features' } : {}) },
    contributions: contributions.list,
  };
}

function modelCoverage(live: Release[], context: EvaluationContext): Evaluation {
  // A live release that reports no monitoring counts as not covered.
  const isCovered = (release: Release) => release.monitoring?.drift_enabled === true && release.monitoring.drift_alerting;
  const covered = live.filter(isCovered);
  return {
    value: live.length === 0 ? null : covered.length / live.length,
    numerator: covered.length,
    denominator: live.length,
    sample_size: live.length,
    details: live.length === 0 ? { null_reason: 'no live production model at the period end' } : {},
    contributions: !context.explain ? [] : live.map((release) => {
      const ok = isCovered(release);
      const state = release.monitoring ? `drift ${release.monitoring.drift_enabled ? 'on' : 'off'}, alerting ${release.monitoring.drift_alerting ? 'on' : 'off'}` : 'monitoring not reported';
      return contribution(release, context, ok ? 1 : 0, { num: ok, den: true }, `model ${release.model_id}: ${state}`);
    }),
  };
}

export const driftKpis = [
  defineKpi<Release>({
    ...base,
    id: 'drift_feature_coverage',
    name: 'Drift monitoring coverage (features)',
    description: 'Over the models live at the period end (now, for the open period): drift-monitored critical features / critical features.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 0.8 }],
    evaluate: featureCoverage,
  }),
  defineKpi<Release>({
    ...base,
    id: 'drift_model_coverage',
    name: 'Drift monitoring coverage (models)',
    description: 'Share of the models live at the period end (now, for the open period) with drift detection enabled and alerting.',
    unit: 'ratio',
    direction: 'higher_is_better',
    targets: [{ kind: 'threshold', op: '>=', value: 1.0, tier1Only: true }],
    evaluate: modelCoverage,
  }),
];
