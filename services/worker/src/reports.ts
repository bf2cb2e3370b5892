import { UnrecoverableError, type Worker } from 'bullmq';
import { effectiveOverrides, parseTargetsFile } from '@kpi/kpi';
import { startWorker, type WorkerOptions } from '@kpi/queue';
import { generateReport, markStatus, reportId, ReportRequestError, scheduleDueReports } from '@kpi/reports';
import type { Runtime } from '@kpi/runtime';

/** The schedule that requests the reports of each closed quarter and year (see scheduleDueReports); hourly, at minute 7. */
export const REPORT_SCHEDULE = { queue: 'reportSchedule', id: 'schedule-quarterly-reports', pattern: '7 * * * *' } as const;

/**
 * Review report workers (quarterly and yearly): one generates a report (build, render HTML/Markdown/JSON/PDF, store),
 * one a time since each prints a PDF with chromium; the other requests the reports that are due.
 */
export function startReportWorkers(runtime: Runtime, options: WorkerOptions): Worker[] {
  const { storage, queues, config, log } = runtime;
  // The deployment's targets file (read into the configuration), like the API: the report's statuses are the API's.
  const fileOverrides = parseTargetsFile(config.targetsFile);
  return [
    startWorker(
      'reportGenerate',
      async (payload, job) => {
        const request = { id: reportId(payload.quarter, payload.team), quarter: payload.quarter, team: payload.team, trigger: payload.trigger };
        try {
          const { report, state } = await generateReport(storage, {
            quarter: payload.quarter,
            team: payload.team,
            trigger: payload.trigger,
            overrides: await effectiveOverrides(storage, fileOverrides),
            chromium: config.reports.chromium,
            catalog: runtime.catalog.list(),
            now: runtime.clock(),
          });
          if (state.error) log.warn({ report: report.id, error: state.error }, 'report generated without PDF');
          return { id: report.id, content_hash: report.content_hash, formats: state.formats };
        } catch (error) {
          const final = error instanceof ReportRequestError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          if (final) {
            await markStatus(storage, request, 'failed', (error as Error).message).catch((stateError: unknown) =>
              log.error({ err: stateError, report: request.id, failure: (error as Error).message }, 'report failed and its failed state could not be stored; it reads as generating'),
            );
          }
          // A wrong request is not worth retrying (the API refuses those before queueing).
          throw error instanceof ReportRequestError ? new UnrecoverableError(error.message) : error;
        }
      },
      { ...options, concurrency: 1 },
    ),
    startWorker(
      'reportSchedule',
      async () => ({ requested: await scheduleDueReports(storage, queues, { now: new Date(), delayHours: config.reports.delayHours }) }),
      { ...options, concurrency: 1 },
    ),
  ];
}
