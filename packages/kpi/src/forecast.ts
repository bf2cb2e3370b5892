import { FORECAST_MIN_ELAPSED, forecastCount, forecastShare, type Forecast, type Goal } from '@kpi/stats';
import type { Evaluation, KpiDefinition } from './definition.ts';
import type { Period } from './periods.ts';

export type { Forecast } from '@kpi/stats';

/**
 * What a forecast models a KPI's value as (SPEC §5c): a count, or a share of counts. Medians,
 * means, ratios of sums, sums of lift, correlations and live state (the coverage of the models
 * live at the period end) have none.
 */
export function forecastModelOf(kpi: KpiDefinition): 'count' | 'share' | undefined {
  if (kpi.anchor === 'period_end') return undefined;
  switch (kpi.measure.kind) {
    case 'count':
    case 'count_distinct':
      return 'count';
    case 'share':
      return 'share';
    case 'entities':
      return kpi.measure.valueIs;
    default:
      return undefined;
  }
}

/** The fraction of `period` elapsed at `now` (below 0 before it, 1 or more after it). */
export const elapsedOf = (period: Period, now: Date) => (now.getTime() - period.start.getTime()) / (period.end.getTime() - period.start.getTime());

/**
 * Where the value of `period` will end, as of `now`, against `goal` (the target it is judged
 * against, a previous period's value included): null when the period is not under way, less
 * than a tenth of it has elapsed, there is no target, the KPI is not a count or a share, or a
 * share has no trial yet.
 */
export function forecastFor(kpi: KpiDefinition, value: Pick<Evaluation, 'value' | 'numerator' | 'denominator'>, period: Period, goal: Goal | undefined, now: Date): Forecast | null {
  const model = forecastModelOf(kpi);
  const elapsed = elapsedOf(period, now);
  if (!model || !goal || elapsed < FORECAST_MIN_ELAPSED || elapsed >= 1) return null;
  if (model === 'count') return value.value === null ? null : forecastCount(value.value, elapsed, goal);
  return value.numerator !== null && value.denominator ? forecastShare(value.numerator, value.denominator, elapsed, goal) : null;
}
