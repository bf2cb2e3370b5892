export { CATALOG, kpiById } from './catalog/index.ts';
export type { KpiDefinition, Evaluation, Contribution, Unit, Direction, TargetRule } from './definition.ts';
export { computeKpi, storeValues, knownTeams, tierScopes, ALL_TEAMS, type ScopedValue, type TierScope, type ComputeRequest } from './compute.ts';
export { readValues, type KpiValue } from './values.ts';
export { applicableRule, judge, targetOverrideSchema, type TargetOverride, type Status } from './targets.ts';
export { planRecomputes } from './planner.ts';
export * from './periods.ts';
export { waitingForDefiningEvent, SOURCES, type SourceName } from './sources.ts';
export { readTargetsFile, effectiveOverrides, saveOverride, storedOverrides } from './overrides.ts';
