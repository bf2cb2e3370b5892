import { z } from 'zod';
import { defineRoute } from '../route.ts';
import { iso, limit, listedTeam } from '../shared.ts';

const when = iso.nullable();

export const incident = z.object({
  incident_id: z.string(),
  team: z.string(),
  tier: z.number().int().nullable(),
  severity: z.string(),
  category: z.string(),
  model_id: z.string().nullable(),
  opened_at: when,
  started_at: when,
  detected_at: when,
  mitigated_at: when,
  resolved_at: when,
  ttd_hours: z.number().nullable().describe('null without started_at'),
  ttm_hours: z.number().nullable(),
  open_hours: z.number().nullable(),
});

export const experiment = z.object({
  experiment_id: z.string(),
  team: z.string(),
  model_id: z.string().nullable(),
  primary_metric: z.string().nullable(),
  first_readout_at: when,
  latest_readout_at: when,
  decided_at: when,
  decision: z.string().nullable(),
  actionable: z.boolean().nullable(),
  lift: z.number().nullable(),
  ci_low: z.number().nullable(),
  ci_high: z.number().nullable(),
  p_value: z.number().nullable(),
  improvement: z.number().nullable(),
  significance: z.enum(['win', 'regression', 'none']).nullable(),
  srm: z.object({ p_value: z.number().nullable(), failed: z.boolean() }).nullable(),
  guardrail_regressions: z.array(z.string()),
});

export const liveRelease = z.object({
  model_id: z.string(),
  release_id: z.string(),
  team: z.string(),
  tier: z.number().int().nullable(),
  model_version: z.string(),
  deployed_at: when,
  drift_enabled: z.boolean().nullable().describe('null: the live release reports no monitoring'),
  drift_alerting: z.boolean().nullable(),
  critical_features: z.number().int(),
  monitored_critical_features: z.number().int(),
  unmonitored_critical_features: z.array(z.string()),
});

export const operationRoutes = {
  listIncidents: defineRoute({
    method: 'GET',
    path: '/v1/incidents',
    access: 'read',
    teamScope: 'teams',
    tags: ['operations'],
    summary: 'Incidents, newest first, with TTD/TTM in hours; state=open lists those not yet mitigated',
    querystring: z.object({ team: listedTeam, state: z.enum(['open', 'all']).default('open'), limit: limit(1000, 50) }),
    responses: { 200: z.object({ incidents: z.array(incident) }) },
  }),
  listExperiments: defineRoute({
    method: 'GET',
    path: '/v1/experiments',
    access: 'read',
    teamScope: 'teams',
    tags: ['operations'],
    summary: 'Experiments by latest readout, newest first, with primary lift, CI, SRM and guardrail regressions',
    querystring: z.object({ team: listedTeam, limit: limit(1000, 50) }),
    responses: { 200: z.object({ experiments: z.array(experiment) }) },
  }),
  listLiveReleases: defineRoute({
    method: 'GET',
    path: '/v1/releases/live',
    access: 'read',
    teamScope: 'teams',
    tags: ['operations'],
    summary: 'The live production release of each model now, with its drift-monitoring gaps',
    querystring: z.object({ team: listedTeam }),
    responses: { 200: z.object({ releases: z.array(liveRelease) }) },
  }),
};
