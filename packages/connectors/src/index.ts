export { loadConnectorsFile, connectorsFileSchema, CONNECTOR_NAMES, type ConnectorsConfig, type ConnectorName } from './config.ts';
export type { RawDelivery, ResultsPull } from './connector.ts';
export { resolveDeployment, type ReleaseRecord, type ReleaseHistory } from './deployments.ts';
export { verifyDelivery, deliveryIdOf, mapDelivery, type ConnectorDeps, type Outcome } from './receive.ts';
export { mlflowRegistry, RegistryUnavailable } from './registry.ts';
export { readoutFromResults, goalMetrics, experimentId, type GrowthbookConfig } from './growthbook.ts';
export { MLFLOW_MAX_AGE_SECONDS, type MlflowRegistry } from './mlflow.ts';
export { growthbookApi } from './growthbook-api.ts';
export { validateDrafts, type DraftEvent } from './events.ts';
