/**
 * View 5: quarterly review reports (GET /v1/reports) — open one, download its Markdown, JSON or PDF,
 * request one (POST /v1/reports, admin token). Report files need the bearer token, which a link
 * cannot carry: they are fetched with it and handed to the browser as blob URLs.
 */
import type { ReportDescription as ReportItem } from '@kpi/api-contract';
import { api, NotAvailable, Unauthorized } from '../api.ts';
import { teamLabel, type Context, type Rendered } from '../context.ts';
import { h, notice } from '../dom.ts';
import { formatTime } from '../format.ts';
import { isYear, lastQuarters, lastYears } from '../state.ts';

type Message = { kind: 'info' | 'error'; text: string };

/** Kept across the 15 s refresh: the form's choice and the last outcome. */
let chosen: { quarter: string; team: string } | null = null;
let message: Message | null = null;
let preview: { id: string; html: string } | null = null;
let pendingRefresh: ReturnType<typeof setTimeout> | undefined;

const STATUS_TEXT: Record<ReportItem['status'], string> = { queued: '… queued', generating: '… generating', ready: '✓ ready', failed: '✕ failed' };
const FORMAT_LABEL: Record<string, string> = { md: 'Markdown', json: 'JSON', pdf: 'PDF' };

const failure = (error: unknown, what: string) => `${what}: ${error instanceof Error ? error.message : String(error)}`;

/** A report file, fetched with the token. */
const reportFile = (item: ReportItem, format: ReportItem['formats'][number], download = false) =>
  api.response('GET', '/v1/reports/:id/:format', { params: { id: item.id, format }, query: download ? { download: '1' } : {} });

/** The report's HTML, fetched with the token, in a new window (a blob URL); inline when pop-ups are blocked. */
async function openReport(item: ReportItem, ctx: Context) {
  // Opened synchronously, in the click, so that pop-up blockers let it through; filled when the HTML is here.
  const target = window.open('', '_blank');
  try {
    const html = await reportFile(item, 'html').then(
      (response) => response.text(),
      (error: unknown) => Promise.reject(new Error(failure(error, `Opening ${item.id}`))),
    );
    if (target) {
      const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
      target.opener = null;
      target.location.href = url;
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      preview = null;
    } else {
      preview = { id: item.id, html };
      message = { kind: 'info', text: `Pop-ups are blocked: ${item.id} is shown below.` };
    }
  } catch (error) {
    target?.close();
    message = { kind: 'error', text: error instanceof Error ? error.message : String(error) };
  }
  ctx.rerender();
}

async function download(item: ReportItem, format: 'md' | 'json' | 'pdf', ctx: Context) {
  try {
    const response = await reportFile(item, format, true).catch((error: unknown) => Promise.reject(new Error(failure(error, `Downloading the ${FORMAT_LABEL[format]} of ${item.id}`))));
    const url = URL.createObjectURL(await response.blob());
    const link = h('a', { href: url, download: `kpi-review-${item.id}.${format}`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    message = { kind: 'error', text: error instanceof Error ? error.message : String(error) };
    ctx.rerender();
  }
}

async function requestReport(period: string, team: string, ctx: Context, button: HTMLButtonElement) {
  button.disabled = true;
  try {
    const body = await api.post('/v1/reports', { body: isYear(period) ? { year: period, team } : { quarter: period, team } });
    message = { kind: 'info', text: `Requested ${body.id}: a worker generates it; it shows as ready below.` };
  } catch (error) {
    const forbidden = error instanceof Unauthorized && error.status === 403;
    message = { kind: 'error', text: forbidden ? 'Requesting a report needs an admin token; this one may only read (403). Sign in with an admin token to request reports.' : failure(error, 'Requesting the report') };
  }
  ctx.rerender();
}

function summaryOf(item: ReportItem) {
  if (!item.summary) return h('span', { class: 'muted' }, '—');
  if (item.has_data === false) return h('span', { class: 'muted' }, 'no data in this quarter');
  return h(
    'span',
    { class: 'nowrap' },
    h('span', { class: 'ok' }, `✓ ${item.summary.met} met`),
    ' · ',
    h('span', { class: item.summary.breached ? 'bad' : 'muted' }, `✕ ${item.summary.breached} breached`),
    h('span', { class: 'muted' }, ` · ${item.summary.no_target + item.summary.no_data} other`),
  );
}

function row(item: ReportItem, ctx: Context) {
  const readable = item.content_hash !== null;
  return h(
    'tr',
    { 'data-report': item.id, 'data-report-status': item.status },
    h('th', { scope: 'row' }, h('code', {}, item.id)),
    h('td', {}, item.quarter),
    h('td', {}, teamLabel(item.team)),
    h('td', { class: `report-status report-${item.status}`, title: item.error ?? '' }, STATUS_TEXT[item.status], item.error && item.status === 'failed' ? h('div', { class: 'muted small' }, item.error) : null),
    h('td', { class: 'nowrap' }, item.generated_at ? formatTime(item.generated_at) : h('span', { class: 'muted' }, 'not yet'), h('div', { class: 'muted small' }, item.trigger === 'schedule' ? 'scheduled' : 'requested')),
    h('td', {}, summaryOf(item)),
    h(
      'td',
      { class: 'report-actions' },
      readable
        ? [
            h('button', { type: 'button', class: 'primary', 'data-focus': `open-${item.id}`, 'data-action': 'open', onclick: () => void openReport(item, ctx) }, 'Open'),
            (['md', 'json', 'pdf'] as const).map((format) =>
              h('button', { type: 'button', class: 'ghost', 'data-focus': `${format}-${item.id}`, 'data-action': format, onclick: () => void download(item, format, ctx) }, FORMAT_LABEL[format]!),
            ),
          ]
        : h('span', { class: 'muted' }, 'not generated yet'),
    ),
  );
}

/** The request form: a closed or open quarter or year, and a scope (a team, or the organisation for those who read it). */
function requestForm(ctx: Context) {
  // Closed quarters first (a review is of a closed quarter), the current one last; then the yearly reviews.
  const quarters = [...lastQuarters(9).slice(1), lastQuarters(1)[0]!];
  const years = [...lastYears(4).slice(1), lastYears(1)[0]!];
  if (!chosen) chosen = { quarter: quarters.includes(ctx.state.quarter) && ctx.state.quarter !== lastQuarters(1)[0] ? ctx.state.quarter : quarters[0]!, team: ctx.state.team };
  const quarterSelect = h(
    'select',
    { id: 'report-quarter', onchange: () => (chosen = { ...chosen!, quarter: quarterSelect.value }) },
    h('optgroup', { label: 'Quarterly review' }, quarters.map((q, index) => h('option', { value: q }, index === quarters.length - 1 ? `${q} (open)` : q))),
    h('optgroup', { label: 'Yearly review' }, years.map((y, index) => h('option', { value: y }, index === years.length - 1 ? `${y} (open)` : y))),
  );
  quarterSelect.value = chosen.quarter;
  const teamSelect = h(
    'select',
    { id: 'report-team', onchange: () => (chosen = { ...chosen!, team: teamSelect.value }) },
    // The organisation's reports are for principals without team scopes.
    ctx.principal.teams === null ? h('option', { value: 'all' }, 'all — organisation') : null,
    ctx.teams.map((t) => h('option', { value: t.team }, t.team)),
  );
  teamSelect.value = ctx.teams.some((t) => t.team === chosen!.team) ? chosen.team : (teamSelect.options[0]?.value ?? 'all');
  const button: HTMLButtonElement = h('button', { type: 'submit', class: 'primary', id: 'request-report' }, 'Request report');
  return h(
    'form',
    {
      class: 'report-request',
      id: 'report-request',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void requestReport(quarterSelect.value, teamSelect.value, ctx, button);
      },
    },
    h('label', { for: 'report-quarter' }, 'Period '),
    quarterSelect,
    h('label', { for: 'report-team' }, 'Scope '),
    teamSelect,
    button,
    h('span', { class: 'muted small' }, 'Needs an admin token. Asking again regenerates the report; the same data gives the same report.'),
  );
}

/** The reports listed, or why there are none (null: the server has no reports). */
function reportsPanel(ctx: Context, reports: ReportItem[] | null) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'reports-title' },
    h('h2', { id: 'reports-title' }, `Reports (${reports?.length ?? 0})`),
    reports === null
      ? notice('unavailable', 'Reports: not available on this server.')
      : reports.length === 0
        ? h('p', { class: 'muted', id: 'no-reports' }, 'No report yet. They are generated after each quarter closes; request one above.')
        : h(
            'div',
            { class: 'scroll-x' },
            h(
              'table',
              { class: 'data compact', id: 'reports-table' },
              h('thead', {}, h('tr', {}, ['Report', 'Quarter', 'Scope', 'Status', 'Generated', 'KPIs', ''].map((label) => h('th', { scope: 'col' }, label)))),
              h('tbody', {}, reports.map((item) => row(item, ctx))),
            ),
          ),
  );
}

/** The opened report, in a sandboxed frame. */
function previewPanel(ctx: Context, { id, html }: { id: string; html: string }) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'preview-title' },
    h('h2', { id: 'preview-title' }, `Preview · ${id}`, ' ', h('button', { type: 'button', class: 'ghost', onclick: () => ((preview = null), ctx.rerender()) }, 'Close')),
    // No script runs in it (sandbox), and the report makes no request of its own (its CSP).
    h('iframe', { class: 'report-preview', title: `Report ${id}`, sandbox: '', srcdoc: html }),
  );
}

export async function reportsView(ctx: Context): Promise<Rendered> {
  // A refused token reaches the shell's sign-in flow; a server without reports shows none.
  const listed = await api.get('/v1/reports', { query: { limit: 500 } }).catch((error: unknown) => (error instanceof NotAvailable ? null : Promise.reject(error)));
  const reports = listed?.reports ?? null;
  const pending = (reports ?? []).some((item) => item.status === 'queued' || item.status === 'generating');
  const node = h(
    'section',
    { class: 'view view-reports', 'aria-labelledby': 'view-title' },
    h(
      'div',
      { class: 'view-head' },
      h('h1', { id: 'view-title', tabindex: '-1' }, 'Quarterly review reports'),
      h('p', { class: 'muted' }, 'Every KPI of a quarter for a team or the organisation, with trends, breached targets, alerts, incidents, experiments, releases, drift gaps, data freshness and cost. Generated after each quarter closes, or on request.'),
    ),
    h('section', { class: 'panel', 'aria-labelledby': 'request-title' }, h('h2', { id: 'request-title' }, 'Request a report'), requestForm(ctx)),
    message ? h('div', { class: 'report-message', role: 'status' }, notice(message.kind, message.text)) : null,
    reportsPanel(ctx, reports),
    preview ? previewPanel(ctx, preview) : null,
  );
  return {
    node,
    title: 'Reports',
    // While a report is being generated, look again sooner than the shell's 15 s refresh.
    mount: () => {
      clearTimeout(pendingRefresh);
      if (pending) pendingRefresh = setTimeout(() => ctx.rerender(), 3_000);
    },
    unmount: () => clearTimeout(pendingRefresh),
  };
}
