import { eventQueries, type Storage } from '@kpi/storage';
import { type KpiDefinition, chTime, nextPeriodStart, periodStartOf, previousPeriodStart, reviewLabel, type ReviewGranularity, type TargetOverride } from '@kpi/kpi';
import type { Queues } from '@kpi/queue';
import { buildReport } from './build.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import type { Report } from './model.ts';
import { findChromium, PdfUnavailable, renderPdf } from './pdf.ts';
import { ORGANISATION, reportId, resolveRequest } from './request.ts';
import { getReports, markQueued, markStatus, saveReport, type ReportFormat, type ReportState, type ReportTrigger } from './store.ts';

/** The JSON format: the report itself, pretty-printed. */
export const renderJson = (report: Report) => `${JSON.stringify(report, null, 2)}\n`;

export interface RenderedReport {
  report: Report;
  files: Partial<Record<ReportFormat, string | Buffer>>;
  /** Why there is no PDF, when there is none. */
  pdfError: string;
}

/** Renders every format; the PDF only when chromium is there (`chromium` undefined: no PDF). */
export async function renderAll(report: Report, chromium: string | undefined): Promise<RenderedReport> {
  const html = renderHtml(report);
  const files: RenderedReport['files'] = { html, md: renderMarkdown(report), json: renderJson(report) };
  let pdfError = '';
  const executable = chromium ? findChromium(chromium) : undefined;
  if (!executable) pdfError = `no PDF: chromium not found at ${chromium ?? '(not configured)'} where the report was generated`;
  else {
    try {
      files.pdf = await renderPdf(html, { chromium: executable });
    } catch (error) {
      // The other formats are worth keeping; GET .../pdf tries again.
      pdfError = error instanceof PdfUnavailable ? error.message : `no PDF: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  return { report, files, pdfError };
}

export interface GenerateOptions {
  quarter: string;
  team: string;
  trigger: ReportTrigger;
  overrides: TargetOverride[];
  chromium: string | undefined;
  now?: Date;
  /** The KPIs to report (the catalog the API serves, custom KPIs included). */
  catalog?: readonly KpiDefinition[];
}

/** Builds, renders and stores a report: the job behind POST /v1/reports and the schedule. */
export async function generateReport(storage: Storage, options: GenerateOptions): Promise<{ report: Report; state: ReportState }> {
  const { quarter, team } = resolveRequest(options.quarter, options.team, options.now ?? new Date());
  const request = { id: reportId(quarter, team), quarter, team, trigger: options.trigger };
  await markStatus(storage, request, 'generating');
  const report = await buildReport(storage, { periodLabel: quarter, team, overrides: options.overrides, now: options.now, catalog: options.catalog });
  const rendered = await renderAll(report, options.chromium);
  const state = await saveReport(storage, report, rendered.files, options.trigger, rendered.pdfError);
  return { report, state };
}

/**
 * Marks a report queued and adds its generation job. Requests for a report already waiting
 * collapse into that job; one arriving while it runs queues one more run after it.
 */
export async function requestReport(storage: Storage, queues: Queues, request: { quarter: string; team: string; trigger: 'schedule' | 'request' }): Promise<ReportState> {
  const id = reportId(request.quarter, request.team);
  const state = await markQueued(storage, { id, ...request });
  await queues.queue('reportGenerate').add(id, request, { deduplication: { id: `report|${id}`, keepLastIfActive: true } });
  return state;
}

/**
 * The reports due now: the organisation's and every team's for the latest quarter, and the latest
 * year, that closed at least `delayHours` ago and have not been requested yet. Teams are those
 * with events before the period's end; a period with no event at all gets no automatic report.
 */
export async function dueReports(storage: Storage, options: { now: Date; delayHours: number }): Promise<{ quarter: string; team: string }[]> {
  const due = await Promise.all(REVIEWS.map((granularity) => duePeriodReports(storage, granularity, options)));
  return due.flat();
}

const REVIEWS: ReviewGranularity[] = ['quarter', 'year'];

async function duePeriodReports(storage: Storage, granularity: ReviewGranularity, options: { now: Date; delayHours: number }): Promise<{ quarter: string; team: string }[]> {
  const delay = options.delayHours * 3_600_000;
  let start = previousPeriodStart(granularity, periodStartOf(granularity, options.now));
  while (nextPeriodStart(granularity, start).getTime() + delay > options.now.getTime()) start = previousPeriodStart(granularity, start);
  const end = nextPeriodStart(granularity, start);
  const quarter = reviewLabel(granularity, start);
  if ((await eventQueries.countBetween(storage, start, end)) === 0) return [];
  const teams = await eventQueries.knownTeams(storage, end);
  const wanted = [ORGANISATION, ...teams.filter((team) => team !== ORGANISATION)].map((team) => ({ quarter, team }));
  const existing = new Set((await getReports(storage, wanted.map((item) => reportId(item.quarter, item.team)))).map((state) => state.id));
  return wanted.filter((item) => !existing.has(reportId(item.quarter, item.team)));
}

/** The schedule's job: requests every due report. Returns the ids requested. */
export async function scheduleDueReports(storage: Storage, queues: Queues, options: { now: Date; delayHours: number }): Promise<string[]> {
  const due = await dueReports(storage, options);
  for (const item of due) await requestReport(storage, queues, { ...item, trigger: 'schedule' });
  return due.map((item) => reportId(item.quarter, item.team));
}
