export { relativeLift, improvement, proportionArm } from './lift.ts';
export type { Arm, LiftResult, Significance, Improvement } from './lift.ts';
export { srmTest, SRM_ALPHA } from './srm.ts';
export type { Allocation, SrmResult } from './srm.ts';
export { mean, variance, pearson, quantile, median, p90 } from './descriptive.ts';
