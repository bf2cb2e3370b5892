import { z } from 'zod';
import { defineRoute } from '../route.ts';
import { errorBody, iso, limit, quarter, team, year } from '../shared.ts';

/** The formats a report is rendered in, and a report's lifecycle: the API's words, which the reports package stores. */
export const REPORT_FORMATS = ['html', 'md', 'json', 'pdf'] as const;
export const REPORT_STATUSES = ['queued', 'generating', 'ready', 'failed'] as const;
export const REPORT_TRIGGERS = ['schedule', 'request', 'cli'] as const;
export const REPORT_MEDIA_TYPES = {
  html: 'text/html; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  json: 'application/json; charset=utf-8',
  pdf: 'application/pdf',
} as const satisfies Record<(typeof REPORT_FORMATS)[number], string>;

const summary = z.object({ kpis: z.number().int(), met: z.number().int(), breached: z.number().int(), no_target: z.number().int(), no_data: z.number().int() });
export const reportDescription = z.object({
  id: z.string(),
  quarter: z.string().describe('the period reviewed: a quarter (2026-Q3), or a year (2026) for a yearly review'),
  team: z.string(),
  status: z.enum(REPORT_STATUSES),
  trigger: z.enum(REPORT_TRIGGERS),
  requested_at: iso,
  generated_at: iso.nullable(),
  content_hash: z.string().nullable(),
  has_data: z.boolean().nullable(),
  summary: summary.nullable(),
  formats: z.array(z.enum(REPORT_FORMATS)),
  error: z.string().nullable(),
  links: z.object({ self: z.string(), ...Object.fromEntries(REPORT_FORMATS.map((format) => [format, z.string()])) } as { self: z.ZodString } & Record<(typeof REPORT_FORMATS)[number], z.ZodString>),
});

const reportId = z.object({ id: z.string().min(1).max(200).describe('report id, <quarter or year>-<team>, e.g. 2026-Q1-all or 2025-search') });
const noReport = errorBody.describe('No such report (or no such file of it)');

export const reportRoutes = {
  requestReport: defineRoute({
    method: 'POST',
    path: '/v1/reports',
    access: 'admin',
    teamScope: 'entity',
    tags: ['reports'],
    summary: 'Requests the quarterly review of a quarter, or the yearly review of a year, for a team (or all, the organisation, the default); a worker generates it',
    description: 'Asking again regenerates it. A period that has not started yet is refused with a 400 naming it.',
    body: z.union([z.object({ quarter, team: team.optional() }).strict(), z.object({ year, team: team.optional() }).strict()], {
      error: 'expected {quarter: a quarter such as 2026-Q3} or {year: a year such as 2026} (not both), and optionally team',
    }),
    responses: {
      202: {
        description: 'Queued; Location names the report',
        content: { 'application/json': { schema: reportDescription } },
        headers: { location: { description: 'the report: /v1/reports/<id>', schema: { type: 'string' } } },
      },
    },
    links: {
      202: {
        get: { operation: 'getReport', parameters: { id: '$response.body#/id' } },
        file: { operation: 'getReportFile', parameters: { id: '$response.body#/id' } },
      },
    },
  }),
  listReports: defineRoute({
    method: 'GET',
    path: '/v1/reports',
    access: 'read',
    teamScope: 'teams',
    tags: ['reports'],
    summary: 'Reports, newest period first (the organisation before its teams), with their status and links',
    querystring: z.object({ quarter: quarter.optional(), year: year.optional().describe('yearly reviews of this year'), team: team.optional().describe('a team, or all for the organisation\'s reports'), limit: limit(1000, 200) }),
    responses: { 200: z.object({ reports: z.array(reportDescription) }) },
  }),
  getReport: defineRoute({
    method: 'GET',
    path: '/v1/reports/:id',
    access: 'read',
    teamScope: 'entity',
    tags: ['reports'],
    summary: 'A report: status (queued, generating, ready, failed), summary and links to each format',
    params: reportId,
    responses: { 200: reportDescription, 404: noReport },
  }),
  getReportFile: defineRoute({
    method: 'GET',
    path: '/v1/reports/:id/:format',
    access: 'read',
    teamScope: 'entity',
    tags: ['reports'],
    summary: 'A report as self-contained HTML, Markdown, JSON or PDF; download=1 asks the browser to save it',
    params: reportId.extend({ format: z.enum(REPORT_FORMATS, { error: 'expected html, md, json or pdf' }) }),
    querystring: z.object({ download: z.enum(['0', '1']).default('0') }),
    responses: {
      200: {
        description: 'The report in the format asked for',
        content: Object.fromEntries(Object.values(REPORT_MEDIA_TYPES).map((type) => [type, { schema: type === 'application/json; charset=utf-8' ? z.record(z.string(), z.unknown()) : z.string() }])),
      },
      404: noReport,
      409: errorBody.extend({ status: z.enum(REPORT_STATUSES) }).describe('Not generated yet (or it failed): try again when GET /v1/reports/{id} says ready'),
    },
  }),
};
