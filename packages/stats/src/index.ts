export { relativeLift, improvement, proportionArm } from './lift.ts';
export type { Arm, LiftResult, Significance, Improvement } from './lift.ts';
export { srmTest, SRM_ALPHA } from './srm.ts';
export type { Allocation, SrmResult } from './srm.ts';
export { mean, variance, pearson, quantile, median, p90 } from './descriptive.ts';
export { negativeBinomial, betaBinomial, type DiscreteDistribution } from './discrete.ts';
export { forecastCount, forecastShare, FORECAST_MIN_ELAPSED, type Forecast, type Goal } from './forecast.ts';
