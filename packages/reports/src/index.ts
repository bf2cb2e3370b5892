export type * from './model.ts';
export { REPORT_SCHEMA_VERSION } from './model.ts';
export { buildReport, contentHash, alertsFired, TREND_PERIODS, type BuildOptions } from './build.ts';
export { renderHtml } from './html.ts';
export { renderMarkdown, sparkline } from './markdown.ts';
export { renderPdf, findChromium, PdfUnavailable, DEFAULT_CHROMIUM } from './pdf.ts';
export { narrate } from './narrative.ts';
export { ReportRequestError, resolveRequest, reportId, parseReportId, ORGANISATION, scopeLabel } from './request.ts';
export {
  REPORT_FORMATS, REPORT_STATUSES, getReport, listReports, readReportFile, addReportFile, markQueued, markStatus, saveReport,
  type ReportFormat, type ReportStatus, type ReportState, type ReportTrigger,
} from './store.ts';
export { generateReport, requestReport, dueReports, scheduleDueReports, renderAll, renderJson, type GenerateOptions, type RenderedReport } from './generate.ts';
