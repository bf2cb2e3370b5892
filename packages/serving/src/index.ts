export { Serving, SUBSCRIBER_NAME, type ServingOptions, type TeamSummary } from './serving.ts';
export { ValueReplica, type ServedRow } from './replica.ts';
