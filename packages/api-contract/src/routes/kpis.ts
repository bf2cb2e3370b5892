import { z } from 'zod';
import { customKpiFields } from '@kpi/kpi';
import { defaultPeriodCount, forecastSchema, GRANULARITIES, KPI_ID } from '@kpi/schemas';
import { defineRoute } from '../route.ts';
import { direction, errorBody, granularity, instant, iso, quarter, status, team, tier, unit, year } from '../shared.ts';

/** KPI ids: the built-in catalog's and custom ones alike (SPEC 5b). */
export const kpiId = z.string().regex(KPI_ID, `expected a KPI id (${KPI_ID.source}); GET /v1/kpis lists them`).describe('KPI id, see GET /v1/kpis');
/** The most periods one values request may span. */
export const MAX_PERIODS = 520;

export const targetRule = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('threshold'),
    op: z.enum(['>=', '<=']),
    value: z.number(),
    granularities: z.array(granularity).optional(),
    tier1Only: z.boolean().optional(),
  }),
  z.object({ kind: z.literal('previous_period'), op: z.literal('<=') }),
]);

export const kpiDescription = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  unit,
  direction,
  /** Whether its events carry a tier; the others answer tier=all only. */
  tiered: z.boolean(),
  targets: z.array(targetRule),
  granularities: z.array(granularity).describe('the granularities its values are computed at (day only where it measures daily); others are a 400'),
  group: z.string().describe('presentation group, as the dashboard and the reports order them'),
  custom: z.boolean().describe('defined by the organisation (SPEC 5b)'),
});

/** A custom KPI's definition (SPEC 5b) as PUT /v1/kpis/:id takes it: the id, if given, is the path's. */
const customKpiBody = customKpiFields.extend({ id: kpiId.optional().describe('the path id, if given') });
/** A custom KPI as the catalog describes it, with the definition as stored (defaults filled in). */
export const customKpiAnswer = kpiDescription.extend({ definition: customKpiFields });

/** SPEC 5c: where the period under way will end, for counts and shares with a target. */
export const forecast = forecastSchema
  .nullable()
  .describe('on the period under way, for a count or share KPI with a target once a tenth of the period has elapsed; else null');

export const kpiValue = z.object({
  period_start: iso,
  period_end: iso,
  value: z.number().nullable(),
  numerator: z.number().nullable(),
  denominator: z.number().nullable(),
  sample_size: z.number(),
  target: z.number().nullable().describe('the number the status was judged against (for "previous period" targets, that value)'),
  status,
  previous_value: z.number().nullable(),
  details: z.record(z.string(), z.unknown()),
  forecast,
});

export const contribution = z.object({
  entity: z.string(),
  kind: z.string(),
  team: z.string(),
  tier: z.number().nullable(),
  anchor: iso,
  in_numerator: z.boolean(),
  in_denominator: z.boolean(),
  value: z.number().nullable(),
  note: z.string().optional(),
});

const scope = { granularity: granularity.default('month'), team: team.default('all'), tier: tier.default('all') };
const kpiParams = z.object({ id: kpiId });
const notFound = errorBody.describe('Unknown KPI');

export const kpiValues = z.object({ kpi: z.string(), granularity, team: z.string(), tier, values: z.array(kpiValue) });
export const breakdown = kpiValue.omit({ previous_value: true, forecast: true }).extend({
  kpi: z.string(),
  granularity,
  team: z.string(),
  tier,
  entities: z.array(contribution),
  diagnostics: z.object({
    null_reason: z.string().nullable(),
    waiting_for_defining_event: z.object({
      explanation: z.string(),
      total: z.number().int(),
      entities: z.array(z.object({ entity_id: z.string(), types: z.array(z.string()) })),
    }),
  }),
});
export const scorecardKpi = z.object({
  id: z.string(),
  name: z.string(),
  unit,
  direction,
  value: z.number().nullable(),
  numerator: z.number().nullable(),
  denominator: z.number().nullable(),
  sample_size: z.number(),
  target: z.number().nullable(),
  status,
  previous_value: z.number().nullable(),
  forecast,
  trend: z
    .array(z.object({ period_start: iso, value: z.number().nullable(), status }))
    .optional()
    .describe('with ?trend=N: the last N periods up to and including the one scored, oldest first (a sparkline)'),
});
export const scorecard = z.object({
  quarter: z.string().optional().describe('the quarter scored (absent when a year is)'),
  year: z.string().optional().describe('the year scored, when asked for one'),
  team: z.string(),
  kpis: z.array(scorecardKpi),
});
export const teamSummary = z.object({ team: z.string(), models: z.array(z.string()), events: z.number().int(), last_event_at: iso });

export const kpiRoutes = {
  listKpis: defineRoute({
    method: 'GET',
    path: '/v1/kpis',
    access: 'read',
    teamScope: 'none',
    tags: ['kpis'],
    summary: 'The KPI catalog',
    selfContained: true,
    responses: { 200: z.array(kpiDescription.describe('the built-in KPIs, then the custom ones (custom: true)')) },
    links: { 200: { values: { operation: 'getKpiValues', parameters: { id: '$response.body#/0/id' } } } },
  }),
  putKpi: defineRoute({
    method: 'PUT',
    path: '/v1/kpis/:id',
    access: 'admin',
    teamScope: 'organisation',
    tags: ['kpis'],
    summary: 'Defines or replaces a custom KPI (SPEC 5b); its whole history is recomputed in the background',
    description:
      'Also refused with a 400 naming the field: an id in the body other than the path id, a built-in id, a custom.<name> source without a schema (or another source with one), a schema that does not compile, and a custom event type given another schema than the KPIs already reading it.',
    params: kpiParams,
    body: customKpiBody,
    responses: { 200: customKpiAnswer.describe('Replaced'), 201: customKpiAnswer.describe('Created') },
    links: {
      200: { values: { operation: 'getKpiValues', parameters: { id: '$request.path.id' } } },
      201: { values: { operation: 'getKpiValues', parameters: { id: '$request.path.id' } }, remove: { operation: 'deleteKpi', parameters: { id: '$request.path.id' } } },
    },
  }),
  deleteKpi: defineRoute({
    method: 'DELETE',
    path: '/v1/kpis/:id',
    access: 'admin',
    teamScope: 'organisation',
    tags: ['kpis'],
    summary: 'Deletes a custom KPI: it leaves the catalog, and its values are dropped',
    description: 'A built-in KPI cannot be deleted (400).',
    params: kpiParams,
    responses: { 204: z.undefined(), 404: errorBody.describe('No custom KPI of this id') },
  }),
  getKpiValues: defineRoute({
    method: 'GET',
    path: '/v1/kpis/:id/values',
    access: 'read',
    teamScope: 'team',
    tags: ['kpis'],
    summary: 'One value per period, empty periods included, judged against its target',
    description: `Periods starting in [from, to); by default the last ${defaultPeriodCount('month')} up to the current one (the last ${defaultPeriodCount('day')} days for granularity day). Also refused with a 400 naming the parameter: a granularity the KPI does not offer (granularities in GET /v1/kpis: day only where it measures daily), a tier other than all for a KPI whose events carry no tier (tiered: false in GET /v1/kpis), from not before to, and a range of more than ${MAX_PERIODS} periods. Granularities: ${GRANULARITIES.join(', ')}.`,
    params: kpiParams,
    querystring: z.object({ ...scope, from: instant.optional(), to: instant.optional() }),
    responses: { 200: kpiValues, 404: notFound },
  }),
  getKpiBreakdown: defineRoute({
    method: 'GET',
    path: '/v1/kpis/:id/breakdown',
    access: 'read',
    teamScope: 'team',
    tags: ['kpis'],
    summary: 'The entities behind one value, and what was left out and why',
    description: 'period_start must be the start of a period of the granularity (a 400 names the one containing it), the granularity one the KPI offers, and a tier other than all needs a tiered KPI.',
    params: kpiParams,
    querystring: z.object({ ...scope, period_start: instant }),
    responses: { 200: breakdown, 404: notFound },
  }),
  getScorecard: defineRoute({
    method: 'GET',
    path: '/v1/scorecard',
    access: 'read',
    teamScope: 'team',
    tags: ['kpis'],
    summary: 'Every KPI for one quarter (or year) and team: value, target, status and the previous period',
    description: 'With year, the scorecard is of that year (quarter, if given too, is not used) and the answer carries year instead of quarter.',
    querystring: z.object({
      quarter: quarter.optional().describe('default: the current quarter'),
      year: year.optional().describe('a year instead of a quarter: yearly values and targets'),
      team: team.default('all'),
      trend: z.coerce.number().int().min(1).max(12).optional().describe('also give each KPI its last N periods (quarters, or years), the one scored included'),
    }),
    responses: { 200: scorecard },
  }),
  getKpiMetrics: defineRoute({
    method: 'GET',
    path: '/v1/metrics',
    access: 'read',
    teamScope: 'teams',
    tags: ['kpis'],
    summary: 'The current period of every granularity as Prometheus metrics, for scraping with a read token',
    description:
      'kpi_value, kpi_target, kpi_sample_size and kpi_status{status} per KPI, team (all = the organisation), tier and granularity (day for the KPIs that offer it), and kpi_forecast_value and kpi_forecast_probability_met where the period has a forecast (SPEC 5c). A null value, target or forecast is an absent series, never NaN or 0.',
    responses: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: z.string() } } } },
  }),
  listTeams: defineRoute({
    method: 'GET',
    path: '/v1/teams',
    access: 'read',
    teamScope: 'teams',
    tags: ['kpis'],
    summary: 'Teams seen in the events, with their models',
    responses: { 200: z.object({ teams: z.array(teamSummary) }) },
  }),
};
