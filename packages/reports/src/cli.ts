/**
 * `node packages/reports/cli.js --quarter 2026-Q1 | --year 2025 [--team x] [--format html|md|json|pdf] [--out file]`
 *
 * Generates a quarterly review report from the deployment's ClickHouse (CLICKHOUSE_URL, or the
 * embedded one in DATA_DIR) with the same target overrides as the API, and writes one format to a
 * file (text formats to stdout without --out). With --api <url> (and KPI_API_TOKEN, role admin) it
 * asks a running API instead: POST /v1/reports, wait until ready, download the format — the way to
 * go while the one-machine stack holds the embedded database.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiError, createClient } from '@kpi/api-contract/client';
import { ConfigError, loadConfig } from '@kpi/config';
import { Catalog, effectiveOverrides, parseTargetsFile } from '@kpi/kpi';
import { createStorage, migrate } from '@kpi/storage';
import { buildReport } from './build.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { renderJson } from './generate.ts';
import { renderPdf } from './pdf.ts';
import { reportId, ReportRequestError, resolveRequest } from './request.ts';
import { REPORT_FORMATS, type ReportFormat } from './store.ts';

const USAGE = `usage: node packages/reports/cli.js --quarter 2026-Q1 | --year 2025 [--team <team>|all] [--format html|md|json|pdf] [--out <file>] [--api <url>]
  --quarter  the quarter of a quarterly review, e.g. 2026-Q1
  --year     the year of a yearly review, e.g. 2025 (one of --quarter and --year is required)
  --team     a team, or all for the organisation (default all)
  --format   html (default), md, json or pdf (pdf needs --out and Debian's chromium)
  --out      the file to write; text formats go to stdout without it
  --api      ask a running API (POST /v1/reports) instead of reading ClickHouse; token in KPI_API_TOKEN (role admin)`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function fromApi(url: string, request: { quarter: string; granularity: 'quarter' | 'year'; team: string }, format: ReportFormat): Promise<Buffer> {
  const { quarter, team } = request;
  const token = process.env.KPI_API_TOKEN;
  if (!token) fail('--api needs KPI_API_TOKEN (an admin token; ./run start prints it, it is also in .data/api-token)');
  const api = createClient({ baseUrl: url, token });
  try {
    const { id } = await api.post('/v1/reports', { body: request.granularity === 'year' ? { year: quarter, team } : { quarter, team } });
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      const state = await api.get('/v1/reports/:id', { params: { id } });
      if (state.status === 'ready') break;
      if (state.status === 'failed') fail(`report ${id} failed: ${state.error ?? 'see the worker log'}`, 1);
      if (Date.now() > deadline) fail(`report ${id} is still ${state.status} after 5 minutes`, 1);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const file = await api.response('GET', '/v1/reports/:id/:format', { params: { id, format } });
    return Buffer.from(await file.arrayBuffer());
  } catch (error) {
    if (error instanceof ApiError) fail(error.message, 1);
    throw error;
  }
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quarter: { type: 'string' },
        year: { type: 'string' },
        team: { type: 'string', default: 'all' },
        format: { type: 'string', default: 'html' },
        out: { type: 'string' },
        api: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const period = values.quarter ?? values.year;
  if (!period || (values.quarter && values.year)) fail(`one of --quarter and --year is required\n${USAGE}`);
  const format = values.format as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) fail(`--format: expected one of ${REPORT_FORMATS.join(', ')}, got ${values.format}`);
  if (format === 'pdf' && !values.out) fail('--format pdf needs --out <file>');
  let request;
  try {
    request = resolveRequest(period, values.team, new Date());
    if (values.year && request.granularity !== 'year') fail(`--year: expected a year such as 2025, got ${values.year}`);
  } catch (error) {
    if (error instanceof ReportRequestError) fail(`--${error.message}`);
    throw error;
  }

  let output: string | Buffer;
  if (values.api) {
    output = await fromApi(values.api, request, format);
  } else {
    const config = loadConfig();
    const storage = createStorage({ clickhouse: config.clickhouse, dataDir: config.dataDir });
    try {
      await migrate(storage);
      const overrides = await effectiveOverrides(storage, parseTargetsFile(config.targetsFile));
      const catalog = await Catalog.fromConfig(storage, config);
      const report = await buildReport(storage, { periodLabel: request.quarter, team: request.team, overrides, catalog: catalog.list() });
      catalog.close();
      if (format === 'json') output = renderJson(report);
      else if (format === 'md') output = renderMarkdown(report);
      else if (format === 'html') output = renderHtml(report);
      else output = await renderPdf(renderHtml(report), { chromium: config.reports.chromium });
    } finally {
      await storage.close();
    }
  }
  if (values.out) {
    writeFileSync(values.out, output);
    process.stderr.write(`wrote ${reportId(request.quarter, request.team)} (${format}) to ${values.out}\n`);
  } else {
    process.stdout.write(output);
  }
}

main().catch((error: unknown) => {
  let message = error instanceof Error ? error.message : String(error);
  // The embedded ClickHouse binds its data directory to one process: a running stack holds it.
  if (/Cannot lock file|Another server instance/.test(`${message} ${String((error as { cause?: unknown })?.cause ?? '')}`)) {
    message = `the embedded ClickHouse in DATA_DIR is in use by a running stack; ask it instead: --api http://localhost:8080 with KPI_API_TOKEN set to an admin token (${message.split('\n')[0]})`;
  }
  fail(`${error instanceof ConfigError ? 'configuration error' : 'report failed'}: ${message}`, error instanceof ConfigError ? 2 : 1);
});
