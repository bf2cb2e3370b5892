/** View 4: what stands now behind the KPIs — open incidents, recent experiments, live releases and their drift gaps. */
import type { AlertInstance as Alert, AuditEntry, Experiment, Incident, LiveRelease, TriageAlert } from '@kpi/api-contract';
import { api, optional, Unauthorized } from '../api.ts';
import { intervalBar, STATUS_COLOUR } from '../charts.ts';
import { teamLabel, type Context, type Rendered } from '../context.ts';
import { h, notice } from '../dom.ts';
import { formatDate, formatHours, formatNumber, formatP, formatTime, formatValue } from '../format.ts';

const yesNo = (value: boolean | null | undefined, good = true) =>
  value === null || value === undefined ? h('span', { class: 'muted' }, '—') : h('span', { class: value === good ? 'ok' : 'bad' }, value ? '✓ yes' : '✕ no');

const listOrCount = (value: number | string[] | null | undefined) => (Array.isArray(value) ? value.length : (value ?? null));

function unavailable(what: string) {
  return notice('unavailable', `${what}: not available on this server.`);
}

function incidentsSection(incidents: Incident[] | null) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'incidents-title' },
    h('h2', { id: 'incidents-title' }, `Open incidents${incidents ? ` (${incidents.length})` : ''}`),
    !incidents
      ? unavailable('Incidents')
      : incidents.length === 0
        ? h('p', { class: 'muted' }, 'No open incident.')
        : h(
            'div',
            { class: 'scroll-x' },
            h(
              'table',
              { class: 'data compact' },
              h('thead', {}, h('tr', {}, ['Incident', 'Team', 'Tier', 'Severity', 'Category', 'Model', 'Opened', 'Time to detect', 'Time to mitigate', 'Open for'].map((label) => h('th', { scope: 'col' }, label)))),
              h(
                'tbody',
                {},
                incidents.map((i) =>
                  h(
                    'tr',
                    {},
                    h('th', { scope: 'row' }, h('code', {}, i.incident_id)),
                    h('td', {}, i.team),
                    h('td', {}, String(i.tier)),
                    h('td', {}, h('span', { class: `sev sev-${i.severity}` }, i.severity)),
                    h('td', {}, i.category.replaceAll('_', ' ')),
                    h('td', {}, i.model_id ?? '—'),
                    h('td', {}, formatTime(i.opened_at)),
                    h('td', { class: 'num', 'data-role': 'ttd' }, formatHours(i.ttd_hours)),
                    h('td', { class: 'num', 'data-role': 'ttm' }, i.ttm_hours === null ? h('span', { class: 'muted' }, 'not mitigated') : formatHours(i.ttm_hours)),
                    h('td', { class: 'num' }, formatHours(i.open_hours)),
                  ),
                ),
              ),
            ),
          ),
  );
}

const SIGNIFICANCE_TONE: Record<string, string> = { win: STATUS_COLOUR.met, regression: STATUS_COLOUR.breached, none: '#5b6575' };
const SIGNIFICANCE_LABEL: Record<string, string> = { win: '✓ significant win', regression: '✕ significant regression', none: 'not significant' };

function experimentsSection(experiments: Experiment[] | null) {
  // One symmetric scale around 0 for every interval of the table, so bars compare (drawing only).
  const bounds = (experiments ?? []).flatMap((e) => [e.ci_low, e.ci_high, e.lift]).filter((v): v is number => v !== null && Number.isFinite(v));
  const scale = Math.max(0.01, ...bounds.map(Math.abs));
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'experiments-title' },
    h('h2', { id: 'experiments-title' }, `Recent experiments${experiments ? ` (${experiments.length})` : ''}`),
    !experiments
      ? unavailable('Experiments')
      : experiments.length === 0
        ? h('p', { class: 'muted' }, 'No experiment yet.')
        : h(
            'div',
            { class: 'scroll-x' },
            h(
              'table',
              { class: 'data compact' },
              h('thead', {}, h('tr', {}, ['Experiment', 'Team', 'Primary metric', 'Latest readout', 'Lift and 95% CI', '', 'p', 'Result', 'SRM', 'Guardrail regressions', 'Decision'].map((label) => h('th', { scope: 'col' }, label)))),
              h(
                'tbody',
                {},
                experiments.map((e) => {
                  const tone = SIGNIFICANCE_TONE[e.significance ?? 'none'] ?? '#5b6575';
                  return h(
                    'tr',
                    {},
                    h('th', { scope: 'row' }, h('code', {}, e.experiment_id), e.model_id ? h('div', { class: 'muted small' }, e.model_id) : null),
                    h('td', {}, e.team),
                    h('td', {}, e.primary_metric),
                    h('td', { class: 'nowrap', title: formatTime(e.latest_readout_at) }, formatDate(e.latest_readout_at)),
                    h('td', { class: 'ci-cell' }, e.lift === null ? h('span', { class: 'muted' }, 'no result') : intervalBar(e.lift, e.ci_low, e.ci_high, scale, tone)),
                    h(
                      'td',
                      { class: 'num nowrap' },
                      e.lift === null ? '—' : `${formatValue(e.lift, 'relative_lift')} [${formatValue(e.ci_low, 'relative_lift')}, ${formatValue(e.ci_high, 'relative_lift')}]`,
                    ),
                    h('td', { class: 'num' }, formatP(e.p_value)),
                    h('td', {}, e.significance ? h('span', { class: `sig sig-${e.significance}` }, SIGNIFICANCE_LABEL[e.significance] ?? e.significance) : h('span', { class: 'muted' }, 'no result')),
                    h('td', { class: 'nowrap' }, e.srm === null ? h('span', { class: 'muted' }, 'not evaluated') : e.srm.failed ? h('span', { class: 'bad' }, `✕ failed · p ${formatP(e.srm.p_value)}`) : h('span', { class: 'ok' }, `✓ ok · p ${formatP(e.srm.p_value)}`)),
                    h('td', {}, e.guardrail_regressions.length ? h('span', { class: 'bad' }, `✕ ${e.guardrail_regressions.join(', ')}`) : h('span', { class: 'muted' }, 'none')),
                    h('td', {}, e.decision ? [e.decision, e.actionable === null ? null : h('div', { class: 'muted small nowrap' }, e.actionable ? 'actionable' : 'not actionable')] : h('span', { class: 'muted' }, 'undecided')),
                  );
                }),
              ),
            ),
          ),
  );
}

function releasesSection(releases: LiveRelease[] | null) {
  const gaps = (r: LiveRelease) => !r.drift_enabled || !r.drift_alerting || r.unmonitored_critical_features.length > 0;
  const withGaps = releases?.filter(gaps).length ?? 0;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'releases-title' },
    h('h2', { id: 'releases-title' }, `Live releases${releases ? ` (${releases.length}, ${withGaps} with drift-monitoring gaps)` : ''}`),
    !releases
      ? unavailable('Live releases')
      : releases.length === 0
        ? h('p', { class: 'muted' }, 'No live production release.')
        : h(
            'div',
            { class: 'scroll-x' },
            h(
              'table',
              { class: 'data compact' },
              h('thead', {}, h('tr', {}, ['Model', 'Release', 'Version', 'Team', 'Tier', 'Deployed', 'Drift detection', 'Drift alerting', 'Critical features monitored', 'Unmonitored critical features'].map((label) => h('th', { scope: 'col' }, label)))),
              h(
                'tbody',
                {},
                releases.map((r) =>
                  h(
                    'tr',
                    { class: gaps(r) ? 'gap' : null },
                    h('th', { scope: 'row' }, h('code', {}, r.model_id), gaps(r) ? h('span', { class: 'gap-badge' }, ' ⚠ gap') : null),
                    h('td', {}, h('code', {}, r.release_id)),
                    h('td', {}, r.model_version),
                    h('td', {}, r.team),
                    h('td', {}, String(r.tier)),
                    h('td', {}, formatTime(r.deployed_at)),
                    h('td', {}, yesNo(r.drift_enabled)),
                    h('td', {}, yesNo(r.drift_alerting)),
                    h('td', { class: 'num' }, `${formatNumber(listOrCount(r.monitored_critical_features), 0)} of ${formatNumber(listOrCount(r.critical_features), 0)}`),
                    h('td', {}, r.unmonitored_critical_features.length ? h('span', { class: 'bad' }, `✕ ${r.unmonitored_critical_features.join(', ')}`) : h('span', { class: 'ok' }, '✓ none')),
                  ),
                ),
              ),
            ),
          ),
  );
}

function alertsSection(alerts: Alert[] | null) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'alerts-title' },
    h('h2', { id: 'alerts-title' }, `Alerts firing or pending${alerts ? ` (${alerts.length})` : ''}`),
    !alerts
      ? unavailable('Alerts')
      : alerts.length === 0
        ? h('p', { class: 'muted' }, 'No alert is firing or pending.')
        : h(
            'div',
            { class: 'scroll-x' },
            h(
              'table',
              { class: 'data compact', 'data-role': 'alerts' },
              h('thead', {}, h('tr', {}, ['Alert', 'State', 'Severity', 'Team', 'KPI', 'Value', 'Target', 'Since', 'Summary'].map((label) => h('th', { scope: 'col' }, label)))),
              h(
                'tbody',
                {},
                alerts.map((alert) =>
                  h(
                    'tr',
                    { 'data-state': alert.state },
                    h('th', { scope: 'row' }, alert.rule),
                    h('td', {}, h('span', { class: alert.state === 'firing' ? 'bad' : 'muted' }, `${alert.state}${alert.silenced ? ' (silenced)' : ''}`)),
                    h('td', {}, alert.severity),
                    h('td', {}, alert.team),
                    h('td', {}, h('code', {}, alert.kpi)),
                    h('td', { class: 'num' }, formatNumber(alert.value)),
                    h('td', { class: 'num' }, formatNumber(alert.target)),
                    h('td', {}, formatTime(alert.fired_at ?? alert.active_at)),
                    h('td', {}, alert.annotations.summary ?? ''),
                  ),
                ),
              ),
            ),
          ),
  );
}

/** The outcome of the last triage click, shown above the table until the next render. */
let triageMessage: { kind: 'info' | 'error'; text: string } | null = null;

async function triage(alert: TriageAlert, actionable: boolean, ctx: Context, row: HTMLElement) {
  for (const button of row.querySelectorAll('button')) button.disabled = true;
  try {
    await api.post('/v1/triage/:alert_id', { params: { alert_id: alert.alert_id }, body: { actionable } });
    triageMessage = { kind: 'info', text: `${alert.name} (${alert.team}) marked ${actionable ? 'actionable' : 'noise'}; alert precision counts it once the event is ingested.` };
  } catch (error) {
    const text = error instanceof Unauthorized && error.status === 403 ? 'Triage needs an ingest or admin token; this one may only read (403).' : `Triage of ${alert.name}: ${error instanceof Error ? error.message : String(error)}`;
    triageMessage = { kind: 'error', text };
  }
  ctx.rerender();
}

function triageSection(alerts: TriageAlert[] | null, ctx: Context) {
  const message = triageMessage;
  triageMessage = null;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'triage-title' },
    h('h2', { id: 'triage-title' }, `Monitor alerts awaiting triage${alerts ? ` (${alerts.length})` : ''}`),
    h('p', { class: 'muted small' }, 'Alerts of the model monitors (Alertmanager connector). Marking each one actionable or noise feeds the alert precision KPI.'),
    message ? notice(message.kind, message.text) : null,
    !alerts
      ? unavailable('Triage')
      : alerts.length === 0
        ? h('p', { class: 'muted' }, 'No alert awaits triage.')
        : h(
            'div',
            { class: 'scroll-x' },
            h(
              'table',
              { class: 'data compact', 'data-role': 'triage' },
              h('thead', {}, h('tr', {}, ['Alert', 'Team', 'Model', 'Severity', 'Fired', 'Triage'].map((label) => h('th', { scope: 'col' }, label)))),
              h(
                'tbody',
                {},
                alerts.map((alert) => {
                  const row = h(
                    'tr',
                    { 'data-alert': alert.alert_id },
                    h('th', { scope: 'row' }, alert.name, h('div', { class: 'muted small' }, h('code', {}, alert.alert_id))),
                    h('td', {}, alert.team),
                    h('td', {}, alert.model_id ?? '—'),
                    h('td', {}, alert.severity ?? '—'),
                    h('td', { class: 'nowrap' }, formatTime(alert.fired_at)),
                  );
                  row.append(
                    h(
                      'td',
                      { class: 'nowrap' },
                      h('button', { type: 'button', 'data-triage': 'actionable', onclick: () => triage(alert, true, ctx, row) }, 'Actionable'),
                      ' ',
                      h('button', { type: 'button', 'data-triage': 'noise', onclick: () => triage(alert, false, ctx, row) }, 'Noise'),
                    ),
                  );
                  return row;
                }),
              ),
            ),
          ),
  );
}

/** A state before or after a change, on one line (the full JSON in the cell's title). */
function stateCell(value: unknown) {
  if (value === null || value === undefined) return h('td', { class: 'muted' }, '—');
  const text = JSON.stringify(value);
  return h('td', { title: text }, h('code', { class: 'small' }, text.length > 80 ? `${text.slice(0, 79)}…` : text));
}

const AUDIT_PAGE = 20;

/** The audit log of admin changes, newest first; older pages on request (admins who read the whole organisation). */
function auditSection(first: { entries: AuditEntry[]; next_cursor: string | null } | null) {
  const row = (entry: AuditEntry) =>
    h(
      'tr',
      { 'data-audit': entry.id },
      h('td', { class: 'nowrap' }, formatTime(entry.at)),
      h('td', {}, entry.actor, h('div', { class: 'muted small' }, entry.via)),
      h('td', {}, h('code', {}, entry.action)),
      h('td', {}, entry.target),
      h('td', {}, entry.team || '—'),
      stateCell(entry.before),
      stateCell(entry.after),
    );
  const body = h('tbody', {}, (first?.entries ?? []).map(row));
  let cursor = first?.next_cursor ?? null;
  const more: HTMLButtonElement = h('button', {
    type: 'button',
    id: 'audit-older',
    hidden: cursor === null,
    onclick: async () => {
      more.disabled = true;
      const page = await api.get('/v1/audit', { query: { limit: AUDIT_PAGE, ...(cursor ? { cursor } : {}) } });
      body.append(...page.entries.map(row));
      cursor = page.next_cursor;
      more.disabled = false;
      more.hidden = cursor === null;
    },
  }, 'Older changes');
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'audit-title' },
    h('h2', { id: 'audit-title' }, 'Audit log'),
    h('p', { class: 'muted small' }, 'Every change an admin made (targets, alert rules, silences, custom KPIs, triage, webhook replays, reports requested): who, when, before and after. Nothing edits or deletes it.'),
    !first
      ? unavailable('The audit log')
      : first.entries.length === 0
        ? h('p', { class: 'muted' }, 'No change recorded yet.')
        : h(
            'div',
            { class: 'scroll-x' },
            h('table', { class: 'data compact', 'data-role': 'audit' }, h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Target', 'Team', 'Before', 'After'].map((label) => h('th', { scope: 'col' }, label)))), body),
          ),
    more,
  );
}

export async function opsView(ctx: Context): Promise<Rendered> {
  const { team } = ctx.state;
  const auditor = ctx.principal.role === 'admin' && ctx.principal.teams === null;
  const [alerts, awaiting, incidents, experiments, releases, audit] = await Promise.all([
    optional(api.get('/v1/alerts', { query: team === 'all' ? { state: 'active' } : { state: 'active', team } })),
    optional(api.get('/v1/triage', { query: { team, triaged: 'false', limit: 100 } })),
    optional(api.get('/v1/incidents', { query: { team, state: 'open', limit: 100 } })),
    optional(api.get('/v1/experiments', { query: { team, limit: 25 } })),
    optional(api.get('/v1/releases/live', { query: { team } })),
    auditor ? optional(api.get('/v1/audit', { query: { limit: AUDIT_PAGE } })) : null,
  ]);
  const node = h(
    'section',
    { class: 'view view-ops', 'aria-labelledby': 'view-title' },
    h('div', { class: 'view-head' }, h('h1', { id: 'view-title', tabindex: '-1' }, `Operations · ${teamLabel(team)}`), h('p', { class: 'muted' }, 'As they stand now (not limited to the selected quarter). Times in UTC.')),
    alertsSection(alerts?.alerts ?? null),
    triageSection(awaiting?.alerts ?? null, ctx),
    incidentsSection(incidents?.incidents ?? null),
    experimentsSection(experiments?.experiments ?? null),
    releasesSection(releases?.releases ?? null),
    auditor ? auditSection(audit) : null,
  );
  return { node, title: `Operations · ${teamLabel(team)}` };
}
