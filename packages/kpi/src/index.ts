export { CATALOG, kpiById } from './catalog/index.ts';
export { UNITS, DIRECTIONS, type KpiDefinition, type Evaluation, type Contribution, type Unit, type Direction, type TargetRule } from './definition.ts';
export { computeKpi, computeAll, storeValues, knownTeams, tierScopes, ALL_TEAMS, TIER_SCOPES, type ScopedValue, type TierScope, type ComputeRequest } from './compute.ts';
export { readValues, readValuesOf, type KpiValue } from './values.ts';
export { applicableRule, judge, targetOverrideSchema, STATUSES, type TargetOverride, type Status } from './targets.ts';
// Granularities are kpi's vocabulary (periods); re-exported here while they are declared in the queue catalog.
export { GRANULARITIES, type Granularity } from '@kpi/queue';
export { planRecomputes } from './planner.ts';
export * from './periods.ts';
export { waitingForDefiningEvent, SOURCES, type SourceName } from './sources.ts';
export { parseTargetsFile, effectiveOverrides, saveOverride, storedOverrides } from './overrides.ts';
export { listIncidents, listExperiments, listLiveReleases } from './operations.ts';
