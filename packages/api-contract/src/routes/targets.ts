import { z } from 'zod';
import { defineRoute } from '../route.ts';
import { errorBody, granularity, team } from '../shared.ts';
import { kpiId, targetRule } from './kpis.ts';

const threshold = { op: z.enum(['>=', '<=']), value: z.number() };
export const targetOverride = z.object({ kpi: z.string(), team: z.string(), ...threshold, granularity: granularity.optional() });
const params = z.object({ kpi: kpiId, team: team.describe('a team, or all for the organisation') });

export const targetRoutes = {
  listTargets: defineRoute({
    method: 'GET',
    path: '/v1/targets',
    access: 'read',
    teamScope: 'teams',
    tags: ['targets'],
    summary: 'Catalog default targets and the per-team overrides in force',
    responses: { 200: z.object({ defaults: z.array(z.object({ kpi: z.string(), targets: z.array(targetRule) })), overrides: z.array(targetOverride) }) },
  }),
  putTarget: defineRoute({
    method: 'PUT',
    path: '/v1/targets/:kpi/:team',
    access: 'admin',
    teamScope: 'team',
    tags: ['targets'],
    summary: "Sets a team's target for a KPI (team all: the organisation), for one granularity or all",
    description: 'A granularity the KPI does not offer (granularities in GET /v1/kpis: day only where it measures daily) is a 400 naming the ones it has.',
    params,
    body: z.object({ ...threshold, value: z.number().describe('a finite number'), granularity: granularity.optional() }),
    responses: { 200: targetOverride, 404: errorBody.describe('Unknown KPI') },
    links: { 200: { remove: { operation: 'deleteTarget', parameters: { kpi: '$request.path.kpi', team: '$request.path.team' } } } },
  }),
  deleteTarget: defineRoute({
    method: 'DELETE',
    path: '/v1/targets/:kpi/:team',
    access: 'admin',
    teamScope: 'team',
    tags: ['targets'],
    summary: "Removes a team's target override (for one granularity, or the one for all)",
    params,
    querystring: z.object({ granularity: granularity.optional() }),
    responses: { 204: z.undefined(), 404: errorBody.describe('Unknown KPI') },
  }),
};
