import { accessRoutes } from './routes/access.ts';
import { alertRoutes } from './routes/alerts.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { kpiRoutes } from './routes/kpis.ts';
import { operationRoutes } from './routes/operations.ts';
import { reportRoutes } from './routes/reports.ts';
import { targetRoutes } from './routes/targets.ts';
import { triageRoutes } from './routes/triage.ts';
import { webhookRoutes } from './routes/webhooks.ts';

/**
 * Every route of the API by operation id. The API registers its handlers from these, the
 * OpenAPI document is generated from them and the client is typed by them: adding a route
 * means adding it here first (see README.md).
 */
export const routes = {
  ...healthRoutes,
  ...eventRoutes,
  ...kpiRoutes,
  ...targetRoutes,
  ...operationRoutes,
  ...alertRoutes,
  ...reportRoutes,
  ...triageRoutes,
  ...webhookRoutes,
  ...accessRoutes,
};
export type Routes = typeof routes;
export type OperationId = keyof Routes;

export { defineRoute, describeStatus, mayRefuse, TEAM_SCOPES, type TeamScope, type Access, type ContentResponse, type Link, type Method, type ResponseSpec, type RouteContract, type RouteSchema } from './route.ts';
export { errorBody, unavailableBody, dependency, granularity, instant, quarter, status, team, tier, unit, direction, limit, type ErrorBody, type UnavailableBody } from './shared.ts';
export { openApiDocument, type OpenApiOptions } from './openapi.ts';
export { CSRF_HEADER, SESSION_COOKIE } from './client.ts';
export type { AuditEntry } from '@kpi/schemas';
export * from './types.ts';
export { MAX_EVENTS_PER_REQUEST } from './routes/events.ts';
export { MAX_PERIODS, kpiId } from './routes/kpis.ts';
export { REPORT_FORMATS, REPORT_STATUSES, REPORT_TRIGGERS, REPORT_MEDIA_TYPES } from './routes/reports.ts';
