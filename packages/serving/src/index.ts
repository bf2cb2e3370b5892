export { Serving, SUBSCRIBER_NAME, type ServingOptions } from './serving.ts';
export type { TeamSummary } from '@kpi/storage';
export { ValueReplica, type ServedRow } from './replica.ts';
