/**
 * The report as one self-contained HTML page: inline CSS (screen and print, A4 with page numbers),
 * inline SVG charts, no script, no font, image or style from anywhere else (the page's
 * Content-Security-Policy forbids every external request). Every string from the events is escaped.
 */
import {
  formatChange, formatDate, formatForecast, formatHours, formatInteger, formatP, formatPercent, formatProbability, formatTarget, formatTime, formatUsd, formatValue, NO_VALUE, plural, STATUS_ICON, STATUS_LABEL,
} from './format.ts';
import { escapeHtml as e } from './html-escape.ts';
import { periodNoun, reportKpi, reviewTitle, type Report, type ReportKpi, type TierValue } from './model.ts';
import { intervalBar, STATUS_COLOUR, stackedBar, trendChart } from './svg.ts';
import type { Status } from '@kpi/kpi';
import { groupByKpiGroup, type KpiGroup } from '@kpi/format';

type Cell = string | { html: string; class?: string };

const cell = (value: Cell, tag: 'td' | 'th' = 'td') =>
  typeof value === 'string' ? `<${tag}>${e(value)}</${tag}>` : `<${tag}${value.class ? ` class="${value.class}"` : ''}>${value.html}</${tag}>`;
const num = (text: string, extra = ''): Cell => ({ html: e(text), class: `num${extra ? ` ${extra}` : ''}` });
const code = (text: string | null): Cell => (text ? { html: `<code>${e(text)}</code>` } : { html: NO_VALUE, class: 'muted' });

function table(headers: string[], rows: Cell[][], options: { class?: string; numeric?: number[]; caption?: string } = {}): string {
  const head = headers.map((label, index) => `<th scope="col"${options.numeric?.includes(index) ? ' class="num"' : ''}>${e(label)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((value, index) => cell(value, index === 0 ? 'th' : 'td').replace(/^<th>/, '<th scope="row">')).join('')}</tr>`).join('\n');
  return `<table class="data${options.class ? ` ${options.class}` : ''}">${options.caption ? `<caption>${e(options.caption)}</caption>` : ''}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export const statusBadge = (status: Status) =>
  `<span class="status status-${status}" data-status="${status}"><span aria-hidden="true">${STATUS_ICON[status]}</span> ${e(STATUS_LABEL[status])}</span>`;

const empty = (text: string) => `<p class="empty">${e(text)}</p>`;

function fraction(kpi: { numerator: number | null; denominator: number | null; sample_size: number; unit: string }): string {
  if (kpi.numerator !== null && kpi.denominator !== null && (kpi.unit === 'ratio' || kpi.unit === 'correlation')) return `${formatInteger(kpi.numerator)} / ${formatInteger(kpi.denominator)}`;
  return `n = ${formatInteger(kpi.sample_size)}`;
}

function changeCell(kpi: ReportKpi): Cell {
  if (kpi.change.direction === null) return { html: `<span class="muted">${e(kpi.previous_value === null ? 'no previous value' : 'no value')}</span>`, class: 'change' };
  const arrow = kpi.change.direction === 'unchanged' ? '=' : kpi.change.absolute! > 0 ? '▲' : '▼';
  return { html: `<span class="arrow">${arrow}</span> ${e(formatChange(kpi.change.absolute, kpi.unit))} <span class="muted">${e(kpi.change.direction)}</span>`, class: `change change-${kpi.change.direction}` };
}

/** One KPI row: the scorecard's columns. */
function kpiRow(kpi: ReportKpi, noun: string): string {
  return `<tr data-kpi="${e(kpi.id)}" data-status="${kpi.status}" class="tone-${kpi.status}">
<th scope="row"><span class="kpi-name">${e(kpi.name)}</span> <span class="kpi-id">${e(kpi.id)}</span></th>
<td class="num value">${e(formatValue(kpi.value, kpi.unit))}</td>
<td class="num muted small">${e(fraction(kpi))}</td>
<td class="target">${e(formatTarget(kpi.target, kpi.unit, kpi.direction, kpi.target_kind, noun))}</td>
<td>${statusBadge(kpi.status)}</td>
<td class="num">${e(formatValue(kpi.previous_value, kpi.unit))}</td>
${cell(changeCell(kpi))}
</tr>`;
}

const kpiHeaders = (noun: string) => ['KPI', 'Value', 'Basis', 'Target', 'Status', `Prev. ${noun}`, 'Change'];

const KPI_COLUMNS = '<colgroup><col class="c-name"><col class="c-value"><col class="c-basis"><col class="c-target"><col class="c-status"><col class="c-prev"><col class="c-change"></colgroup>';

function kpiTable(kpis: ReportKpi[], noun: string): string {
  return `<table class="data kpis">${KPI_COLUMNS}<thead><tr>${kpiHeaders(noun).map((label, index) => `<th scope="col"${[1, 2, 5].includes(index) ? ' class="num"' : ''}>${e(label)}</th>`).join('')}</tr></thead><tbody>
${kpis.map((kpi) => kpiRow(kpi, noun)).join('\n')}
</tbody></table>`;
}

function tierLine(name: string, value: TierValue, unit: ReportKpi['unit'], direction: ReportKpi['direction']): Cell[] {
  return [name, num(formatValue(value.value, unit)), num(`n = ${formatInteger(value.sample_size)}`, 'muted small'), formatTarget(value.target, unit, direction), { html: statusBadge(value.status) }];
}

function summarySection(report: Report): string {
  const { summary, narrative } = report;
  const tile = (status: Status, count: number) =>
    `<div class="tile tile-${status}"><span class="tile-count">${count}</span><span class="tile-label"><span aria-hidden="true">${STATUS_ICON[status]}</span> ${e(STATUS_LABEL[status])}</span></div>`;
  const list = (items: string[], none: string) => (items.length ? `<ul>${items.map((item) => `<li>${e(item)}</li>`).join('')}</ul>` : empty(none));
  return `<section class="summary" id="summary" aria-labelledby="summary-title">
<h2 id="summary-title" class="sr-only">Summary</h2>
${report.has_data ? '' : `<p class="notice no-data" data-no-data>${e(`No data: nothing was recorded for ${report.team === 'all' ? 'the organisation' : `team ${report.team}`} in ${report.quarter}. The KPIs below are empty (counts are 0); there is nothing to review for this quarter.`)}</p>`}
<div class="tiles">${tile('met', summary.met)}${tile('breached', summary.breached)}${tile('no_target', summary.no_target)}${tile('no_data', summary.no_data)}</div>
<p class="headline">${e(narrative.headline)}</p>
${
  report.has_data
    ? `<div class="columns">
<div class="highlights"><h3>Highlights</h3>${list(narrative.highlights, `No highlight this ${periodNoun(report)}.`)}</div>
<div class="lowlights"><h3>Lowlights</h3>${list(narrative.lowlights, `No lowlight this ${periodNoun(report)}.`)}</div>
</div>`
    : ''
}
</section>`;
}

function scorecardSection(report: Report): string {
  const groups = groupByKpiGroup(report.kpis);
  return `<section id="scorecard" aria-labelledby="scorecard-title">
<h2 id="scorecard-title">Scorecard</h2>
<p class="muted">Every KPI of the catalog for ${e(report.quarter)}, ${e(report.scope.toLowerCase())}, all tiers — the numbers of <code>GET /v1/scorecard</code>, compared with ${e(report.previous_quarter)}.</p>
${groups.map((group) => `<h3 class="group">${e(group.title)}</h3>\n${kpiTable(group.items, periodNoun(report))}`).join('\n')}
</section>`;
}

/** A period still in progress: how far it is, and the KPIs forecast to miss their target. */
function inProgressSection(report: Report): string {
  if (!report.in_progress) return '';
  const { elapsed, at_risk: atRisk } = report.in_progress;
  const rows = atRisk.map((entry) => [
    entry.name,
    num(formatValue(entry.value, entry.unit)),
    formatTarget(entry.target, entry.unit, entry.direction),
    num(formatForecast(entry.forecast, entry.unit)),
    num(formatProbability(entry.forecast.probability_met), 'bad'),
  ] as Cell[]);
  return `<section id="in-progress" aria-labelledby="in-progress-title" data-elapsed="${elapsed}">
<h2 id="in-progress-title">In progress: at risk (${atRisk.length})</h2>
<p class="muted">${e(formatPercent(elapsed, 0))} of the ${periodNoun(report)} has elapsed: the values are those so far. Forecast to miss their target by its end (projected value with its 80 % band, and the probability of meeting the target):</p>
${rows.length ? table(['KPI', 'So far', 'Target', 'Projected', 'P(target met)'], rows, { numeric: [1, 3, 4], class: 'at-risk' }) : empty('No KPI is forecast to miss its target.')}
</section>`;
}

function breachedSection(report: Report): string {
  const rows = report.breached.map((entry) => {
    const kpi = report.kpis.find((candidate) => candidate.id === entry.id)!;
    return [
      { html: `${e(entry.name)}${entry.tier === '1' ? ' <span class="muted">(tier 1)</span>' : ''}` },
      num(formatValue(entry.value, entry.unit)),
      formatTarget(entry.target, entry.unit, entry.direction, entry.tier === 'all' ? kpi.target_kind : 'threshold', periodNoun(report)),
      num(formatValue(entry.previous_value, entry.unit)),
      entry.repeated ? { html: `<span class="bad">yes, breached in ${e(report.previous_quarter)} too</span>` } : 'no',
    ] as Cell[];
  });
  return `<section id="breached" aria-labelledby="breached-title">
<h2 id="breached-title">Breached targets (${report.breached.length})</h2>
${rows.length ? table(['KPI', 'Value', 'Target', `Prev. ${periodNoun(report)}`, 'Repeated'], rows, { numeric: [1, 3], class: 'breached' }) : empty(`No target was breached in this ${periodNoun(report)}.`)}
</section>`;
}

function trendsSection(report: Report): string {
  const card = (kpi: ReportKpi) => `<figure class="chart" data-kpi="${e(kpi.id)}">
<figcaption><span class="chart-title">${e(kpi.name)}</span><span class="chart-meta"><strong>${e(formatValue(kpi.value, kpi.unit))}</strong> ${statusBadge(kpi.status)} <span class="muted">target ${e(formatTarget(kpi.target, kpi.unit, kpi.direction, kpi.target_kind, periodNoun(report)))}</span></span></figcaption>
${trendChart(kpi)}
</figure>`;
  const groups = groupByKpiGroup(report.kpis);
  const first = report.kpis[0]?.trend[0]?.quarter ?? report.quarter;
  return `<section id="trends" aria-labelledby="trends-title">
<h2 id="trends-title">Trends, ${e(first)} to ${e(report.quarter)}</h2>
<p class="muted legend">${report.review === 'yearly' ? 'Yearly' : 'Quarterly'} values (points coloured by status: <span style="color:${STATUS_COLOUR.met}">● met</span>, <span style="color:${STATUS_COLOUR.breached}">● breached</span>, <span style="color:${STATUS_COLOUR.no_target}">● no target</span>); dashed: the target; gaps: ${periodNoun(report)}s without data.</p>
${groups.map((group) => `<h3 class="group">${e(group.title)}</h3><div class="charts">${group.items.map(card).join('\n')}</div>`).join('\n')}
</section>`;
}

function alertsSection(report: Report): string {
  const { alerts } = report;
  let body: string;
  if (!alerts.configured) body = `<p class="notice" data-alerting="not-configured">${e(alerts.note.charAt(0).toUpperCase() + alerts.note.slice(1))}.</p>`;
  else if (alerts.fired === 0) body = empty(`No alert fired in this ${periodNoun(report)}.`);
  else {
    body = `<p>${e(plural(alerts.fired, 'alert'))} changed to firing in the ${periodNoun(report)}${alerts.truncated ? ` (the first ${alerts.alerts.length} are listed)` : ''}.</p>
${table(['Rule', 'KPI', 'Fired'], alerts.by_rule.map((row) => [row.rule, code(row.kpi), num(formatInteger(row.fired))]), { numeric: [2], caption: 'By rule' })}
${table(
  ['Fired at', 'Rule', 'KPI', 'Team', 'Severity', 'Value', 'Target'],
  alerts.alerts.map((alert) => [alert.at.slice(0, 16).replace('T', ' '), alert.rule, code(alert.kpi), alert.team, alert.severity, num(alert.value === null ? NO_VALUE : String(Number(alert.value.toPrecision(4)))), num(alert.target === null ? NO_VALUE : String(Number(alert.target.toPrecision(4))))]),
  { numeric: [5, 6], class: 'compact' },
)}`;
  }
  return `<section id="alerts" aria-labelledby="alerts-title">
<h2 id="alerts-title">Alerts that fired</h2>
${body}
</section>`;
}

const SEVERITY_COLOUR: Record<string, string> = { sev0: '#82071e', sev1: '#cf222e', sev2: '#d4a72c', sev3: '#8c959f' };

function incidentsSection(report: Report): string {
  const { incidents } = report;
  const ttd = reportKpi(report, 'time_to_detect_hours');
  const ttm = reportKpi(report, 'time_to_mitigate_hours');
  const severities = (['sev0', 'sev1', 'sev2', 'sev3'] as const).map((severity) => ({ label: severity, value: incidents.by_severity[severity], colour: SEVERITY_COLOUR[severity]! }));
  const legend = severities.map((part) => `<span class="legend-item"><span class="swatch" style="background:${part.colour}"></span>${part.label}: <strong>${part.value}</strong></span>`).join(' ');
  const categories = Object.entries(incidents.by_category).map(([category, count]) => `${category.replaceAll('_', ' ')}: ${count}`).join(' · ');
  const durations = table(
    ['Measure', 'Median, all tiers', 'p90, all tiers', 'Incidents', 'Median, tier 1', 'Tier-1 incidents', 'Tier-1 target', 'Status'],
    [
      ['Time to detect', num(formatHours(incidents.ttd.value)), num(formatHours(incidents.ttd.p90)), num(formatInteger(incidents.ttd.sample_size)), num(formatHours(incidents.ttd.tier1.value)), num(formatInteger(incidents.ttd.tier1.sample_size)), formatTarget(incidents.ttd.tier1.target, ttd.unit, ttd.direction), { html: statusBadge(incidents.ttd.tier1.status) }],
      ['Time to mitigate', num(formatHours(incidents.ttm.value)), num(formatHours(incidents.ttm.p90)), num(formatInteger(incidents.ttm.sample_size)), num(formatHours(incidents.ttm.tier1.value)), num(formatInteger(incidents.ttm.tier1.sample_size)), formatTarget(incidents.ttm.tier1.target, ttm.unit, ttm.direction), { html: statusBadge(incidents.ttm.tier1.status) }],
    ],
    { numeric: [1, 2, 3, 4, 5] },
  );
  const slowest = incidents.slowest_mitigations.length
    ? table(
        ['Incident', 'Team', 'Tier', 'Severity', 'Category', 'Model', 'Detected', 'Mitigated', 'Time to mitigate'],
        incidents.slowest_mitigations.map((row) => [
          code(row.incident_id), row.team, String(row.tier), { html: `<span class="sev sev-${e(row.severity)}">${e(row.severity)}</span>` }, row.category.replaceAll('_', ' '), code(row.model_id), formatTime(row.detected_at), formatTime(row.mitigated_at),
          { html: `${e(formatHours(row.ttm_hours))}${row.over_tier1_target ? ' <span class="bad">over tier-1 target</span>' : ''}`, class: 'num' },
        ]),
        { numeric: [8], class: 'compact' },
      )
    : empty(`No incident was mitigated in this ${periodNoun(report)}.`);
  const open = incidents.open_past_target.length
    ? `<h3>Unmitigated past the ${e(formatHours(incidents.ttm.tier1.target))} target at the ${periodNoun(report)} end (${incidents.open_past_target.length})</h3>${table(['Incident', 'Team', 'Tier', 'Open for'], incidents.open_past_target.map((row) => [code(row.incident_id), row.team, String(row.tier), num(formatHours(row.hours_open))]), { numeric: [3], class: 'compact' })}`
    : '';
  const sev0 = incidents.sev0.length
    ? `<h3>Sev0 incidents (${incidents.sev0.length})</h3>${table(['Incident', 'Team', 'Tier', 'Category', 'Model', 'Opened', 'Time to detect', 'Time to mitigate'], incidents.sev0.map((row) => [code(row.incident_id), row.team, String(row.tier), row.category.replaceAll('_', ' '), code(row.model_id), formatTime(row.opened_at), num(formatHours(row.ttd_hours)), num(row.ttm_hours === null ? 'not mitigated' : formatHours(row.ttm_hours))]), { numeric: [6, 7], class: 'compact' })}`
    : '';
  return `<section id="incidents" aria-labelledby="incidents-title">
<h2 id="incidents-title">Incidents</h2>
<p><strong>${e(plural(incidents.opened, 'incident'))}</strong> opened, <strong>${formatInteger(incidents.mitigated)}</strong> first mitigated in the ${periodNoun(report)}.${categories ? ` <span class="muted">By category: ${e(categories)}.</span>` : ''}</p>
<div class="severity">${stackedBar(severities)}<div class="legend">${legend}</div></div>
${durations}
<h3>Slowest mitigations</h3>
${slowest}
${open}
${sev0}
</section>`;
}

/** The KPIs of one catalog group (custom ones in it included), for the section about that group. */
function kpiGroupTable(report: Report, group: KpiGroup): string {
  return kpiTable(report.kpis.filter((kpi) => kpi.group === group), periodNoun(report));
}

function experimentsSection(report: Report): string {
  const { experiments } = report;
  const decisions = Object.entries(experiments.by_decision).map(([decision, count]) => `${decision}: ${count}`).join(' · ');
  const bounds = experiments.shipped.flatMap((row) => [row.ci_low, row.ci_high, row.lift]).filter((n): n is number => n !== null && Number.isFinite(n));
  const scale = Math.max(0.01, ...bounds.map(Math.abs));
  const lift = (value: number | null) => formatValue(value, 'relative_lift');
  const shipped = experiments.shipped.length
    ? table(
        ['Experiment', 'Team', 'Model', 'Primary metric', 'Decided', 'Lift [95% CI]', 'Interval', 'p', 'Result', 'In shipped lift'],
        experiments.shipped.map((row) => [
          code(row.experiment_id), row.team, code(row.model_id), row.primary_metric ?? NO_VALUE, formatDate(row.decided_at),
          num(row.lift === null ? 'no result' : `${lift(row.lift)} [${lift(row.ci_low)}, ${lift(row.ci_high)}]`),
          { html: intervalBar(row.lift, row.ci_low, row.ci_high, scale, row.significance), class: 'ci-cell' },
          num(formatP(row.p_value)),
          { html: row.significance === 'win' ? '<span class="ok">significant win</span>' : row.significance === 'regression' ? '<span class="bad">significant regression</span>' : `<span class="muted">${row.significance === null ? 'no result' : 'not significant'}</span>` },
          row.counted_in_shipped_lift ? { html: `<span class="ok">${e(formatValue(row.improvement, 'relative_lift'))}</span>` } : { html: '<span class="muted">no</span>' },
        ]),
        { numeric: [5, 7], class: 'compact' },
      )
    : empty(`No experiment was decided ship in this ${periodNoun(report)}.`);
  const srm = experiments.srm_failures.length
    ? table(['Experiment', 'Team', 'Latest readout', 'SRM p'], experiments.srm_failures.map((row) => [code(row.experiment_id), row.team, formatDate(row.latest_readout_at), num(formatP(row.p_value))]), { numeric: [3], class: 'compact' })
    : empty(`No experiment read out in this ${periodNoun(report)} failed the sample-ratio-mismatch check.`);
  const guardrails = experiments.guardrail_breaches.length
    ? table(['Experiment', 'Team', 'Decided', 'Guardrails regressed'], experiments.guardrail_breaches.map((row) => [code(row.experiment_id), row.team, formatDate(row.decided_at), { html: e(row.metrics.join(', ')), class: 'wrap' }]), { class: 'compact' })
    : empty('No experiment shipped with a significant guardrail regression.');
  return `<section id="experiments" aria-labelledby="experiments-title">
<h2 id="experiments-title">Experiments</h2>
${kpiGroupTable(report, 'Experimentation')}
<p><strong>${e(plural(experiments.decided, 'experiment'))}</strong> decided in the ${periodNoun(report)}${decisions ? ` <span class="muted">(${e(decisions)})</span>` : ''}.</p>
<h3>Shipped (${experiments.shipped.length})</h3>
${shipped}
<h3>Sample-ratio-mismatch failures (${experiments.srm_failures.length})</h3>
${srm}
<h3>Guardrail breaches (${experiments.guardrail_breaches.length})</h3>
${guardrails}
</section>`;
}

function releasesSection(report: Report): string {
  const { releases } = report;
  const gap = (n: number) => (n > 0 ? { html: `<span class="bad">${n}</span>`, class: 'num' } : { html: '<span class="muted">0</span>', class: 'num' });
  const byModel = releases.by_model.length
    ? table(
        ['Model', 'Team', 'Tier', 'Releases', 'Rolled back', 'Not first-pass', 'Not reproducible', 'No model card', 'No runbook', 'No readout'],
        releases.by_model.map((row) => [code(row.model_id), row.team, row.tier === null ? NO_VALUE : String(row.tier), num(formatInteger(row.releases)), gap(row.rolled_back), gap(row.not_first_pass), gap(row.not_reproducible), gap(row.missing_model_card), gap(row.missing_runbook), gap(row.missing_readout)]),
        { numeric: [3, 4, 5, 6, 7, 8, 9], class: 'compact' },
      )
    : empty(`No production release in this ${periodNoun(report)}.`);
  const rolledBack = releases.rolled_back.length
    ? `<h3>Rolled back within 7 days (${releases.rolled_back.length})</h3>${table(['Release', 'Model', 'Team', 'Deployed', 'Rolled back'], releases.rolled_back.map((row) => [code(row.release_id), code(row.model_id), row.team, formatTime(row.deployed_at), formatTime(row.rolled_back_at)]), { class: 'compact' })}`
    : '';
  return `<section id="releases" aria-labelledby="releases-title">
<h2 id="releases-title">Releases</h2>
${kpiGroupTable(report, 'Delivery and model quality')}
<p><strong>${e(plural(releases.count, 'production release'))}</strong> in the ${periodNoun(report)}.</p>
<h3>Gaps by model</h3>
${byModel}
${rolledBack}
</section>`;
}

function driftSection(report: Report): string {
  const { drift } = report;
  const feature = reportKpi(report, 'drift_feature_coverage');
  const model = reportKpi(report, 'drift_model_coverage');
  const yesNo = (value: boolean | null) => (value === null ? { html: '<span class="bad">not reported</span>' } : value ? { html: '<span class="ok">✓ on</span>' } : { html: '<span class="bad">✕ off</span>' });
  const gaps = drift.tier1_gaps.length
    ? table(
        ['Model', 'Team', 'Release', 'Version', 'Drift detection', 'Drift alerting', 'Critical features monitored', 'Unmonitored critical features'],
        drift.tier1_gaps.map((gap) => [
          code(gap.model_id), gap.team, code(gap.release_id), gap.model_version, yesNo(gap.drift_enabled), yesNo(gap.drift_alerting),
          num(`${gap.critical_features - gap.unmonitored_critical_features.length} of ${gap.critical_features}`),
          gap.unmonitored_critical_features.length ? { html: `<span class="bad">${gap.unmonitored_critical_features.map((name) => `<code>${e(name)}</code>`).join(', ')}</span>`, class: 'wrap' } : { html: '<span class="muted">none</span>' },
        ]),
        { numeric: [6], class: 'compact' },
      )
    : empty(drift.tier1_models === 0 ? `No live tier-1 model at the ${periodNoun(report)} end.` : 'Every live tier-1 model has drift detection and alerting on and all its critical features monitored.');
  return `<section id="drift" aria-labelledby="drift-title">
<h2 id="drift-title">Drift-monitoring gaps</h2>
<p>Models live on ${e(formatTime(drift.as_of))}: <strong>${formatInteger(drift.live_models)}</strong>, of which <strong>${formatInteger(drift.tier1_models)}</strong> tier 1.</p>
${kpiGroupTable(report, 'Monitoring and data')}
${table(['Tier 1 only', 'Value', 'Basis', 'Target', 'Status'], [tierLine('Drift monitoring coverage (features)', drift.tier1.feature_coverage, feature.unit, feature.direction), tierLine('Drift monitoring coverage (models)', drift.tier1.model_coverage, model.unit, model.direction)], { numeric: [1, 2] })}
<h3>Live tier-1 models with gaps (${drift.tier1_gaps.length})</h3>
${gaps}
</section>`;
}

function dataCostSection(report: Report): string {
  const { data_and_cost: data } = report;
  const late = data.late_by_dataset.length
    ? table(['Dataset', 'Arrivals', 'Late', 'Worst delay past expected'], data.late_by_dataset.map((row) => [code(row.dataset), num(formatInteger(row.arrivals)), num(formatInteger(row.late)), num(formatHours(row.worst_delay_minutes / 60))]), { numeric: [1, 2, 3], class: 'compact' })
    : empty(data.arrivals === 0 ? `No dataset arrival in this ${periodNoun(report)}.` : 'Every dataset arrived within its SLA.');
  const failedValidations = data.failed_validations_by_dataset.length
    ? table(['Dataset', 'Validations', 'Failed', 'Failed suites'], data.failed_validations_by_dataset.map((row) => [code(row.dataset), num(formatInteger(row.validations)), num(formatInteger(row.failed)), { html: row.failed_suites.map((suite) => `<code>${e(suite)}</code>`).join(', '), class: 'wrap' }]), { numeric: [1, 2], class: 'compact' })
    : empty(data.validations === 0 ? `No data validation in this ${periodNoun(report)}.` : 'Every data validation passed.');
  const MAX_MODELS = 15;
  const models = data.serving.by_model;
  const serving = models.length
    ? table(
        ['Model', 'Tier', 'Requests', 'Cost', 'Cost per 1k requests', 'Latency p95 (request-weighted)'],
        [
          ...models.slice(0, MAX_MODELS).map((row) => [code(row.model_id), String(row.tier), num(formatInteger(row.requests)), num(formatUsd(row.cost_usd)), num(formatValue(row.cost_per_1k, 'usd_per_1k_requests')), num(formatValue(row.latency_p95_ms, 'ms'))] as Cell[]),
          [{ html: `<strong>Total${models.length > MAX_MODELS ? ` (${models.length} models)` : ''}</strong>` }, '', num(formatInteger(data.serving.requests)), num(formatUsd(data.serving.cost_usd)), num(formatValue(data.serving.requests === 0 ? null : (1000 * data.serving.cost_usd) / data.serving.requests, 'usd_per_1k_requests')), ''],
        ],
        { numeric: [2, 3, 4, 5], class: 'compact' },
      )
    : empty(`No serving window in this ${periodNoun(report)}.`);
  return `<section id="data-cost" aria-labelledby="data-cost-title">
<h2 id="data-cost-title">Data freshness, validation and serving cost</h2>
${kpiGroupTable(report, 'Serving and cost')}
<h3>Late dataset arrivals (${formatInteger(data.late_arrivals)} of ${formatInteger(data.arrivals)})</h3>
${late}
<h3>Failed data validations (${formatInteger(data.failed_validations)} of ${formatInteger(data.validations)})</h3>
${failedValidations}
<h3>Serving cost by model</h3>
${serving}
<p>Training: <strong>${e(plural(data.training.runs, 'run'))}</strong> costing <strong>${e(formatUsd(data.training.cost_usd))}</strong> in total.</p>
</section>`;
}

function definitionsSection(report: Report): string {
  return `<section id="definitions" aria-labelledby="definitions-title">
<h2 id="definitions-title">Definitions</h2>
<dl class="definitions">${report.kpis.map((kpi) => `<dt>${e(kpi.name)} <code>${e(kpi.id)}</code></dt><dd>${e(kpi.description)}</dd>`).join('')}</dl>
<p class="muted small">Statuses: met, breached, no target (none applies to this scope), no data (no value). Targets marked "prev. ${periodNoun(report)}" are judged against the previous ${periodNoun(report)}'s value. Values, targets and statuses are those of the KPI API for this ${periodNoun(report)} and scope; the tables list the entities behind them, derived the same way.</p>
</section>`;
}

function cssString(text: string): string {
  return `"${text.replace(/[\\"]/g, (char) => `\\${char}`).replace(/[\n\r]/g, ' ')}"`;
}

const STYLE = `
:root { --fg:#1f2328; --muted:#59636e; --line:#d0d7de; --soft:#f6f8fa; --met:#1a7f37; --met-bg:#dafbe1; --breached:#b42318; --breached-bg:#ffebe9; --no-target:#3f4f7d; --no-target-bg:#eef1f8; --no-data:#57606a; --no-data-bg:#f1f3f4; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 1060px; padding: 24px 28px 40px; font: 13px/1.45 'DejaVu Sans', 'Liberation Sans', Arial, system-ui, sans-serif; color: var(--fg); background: #fff; }
h1 { font-size: 24px; margin: 2px 0 4px; }
h2 { font-size: 17px; margin: 26px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--fg); break-after: avoid; }
h3 { font-size: 13.5px; margin: 16px 0 6px; break-after: avoid; }
h3.group { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 14px 0 4px; }
p { margin: 6px 0; }
code { font-family: 'DejaVu Sans Mono', 'Liberation Mono', monospace; font-size: .9em; }
.muted { color: var(--muted); }
.small { font-size: .88em; }
.ok { color: var(--met); font-weight: 600; }
.bad { color: var(--breached); font-weight: 600; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.cover { border-bottom: 1px solid var(--line); padding-bottom: 10px; margin-bottom: 14px; }
.eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 11px; color: var(--muted); margin: 0; }
.meta { color: var(--muted); margin: 0; }
.notice { border: 1px solid var(--line); background: var(--soft); border-radius: 6px; padding: 8px 12px; }
.no-data { border-color: #d4a72c; background: #fff8c5; font-weight: 600; }
.empty { color: var(--muted); font-style: italic; }
.tiles { display: flex; gap: 10px; margin: 10px 0; }
.tile { flex: 1; border-radius: 8px; padding: 8px 12px; border: 1px solid var(--line); display: flex; flex-direction: column; }
.tile-count { font-size: 24px; font-weight: 700; line-height: 1.1; }
.tile-label { font-size: 12px; }
.tile-met { background: var(--met-bg); color: var(--met); border-color: #aceebb; }
.tile-breached { background: var(--breached-bg); color: var(--breached); border-color: #ffcecb; }
.tile-no_target { background: var(--no-target-bg); color: var(--no-target); }
.tile-no_data { background: var(--no-data-bg); color: var(--no-data); }
.headline { font-size: 14px; font-weight: 600; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.columns h3 { margin-top: 6px; }
.columns ul { margin: 0; padding-left: 18px; }
.columns li { margin-bottom: 4px; }
.highlights h3 { color: var(--met); }
.lowlights h3 { color: var(--breached); }
table.data { width: 100%; border-collapse: collapse; margin: 4px 0 10px; font-variant-numeric: tabular-nums; }
table.data caption { text-align: left; font-weight: 600; padding: 4px 0; }
table.data th, table.data td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eaeef2; vertical-align: middle; }
table.data thead th { font-size: 11px; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.data tbody th { font-weight: 600; }
table.data .num { text-align: right; white-space: nowrap; }
table.compact th, table.compact td { padding: 3px 5px; font-size: 12px; }
table.compact td { white-space: nowrap; }
table.compact td.wrap { white-space: normal; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
table.kpis { table-layout: fixed; }
table.kpis th, table.kpis td { padding-top: 3px; padding-bottom: 3px; }
col.c-name { width: 29%; } col.c-value { width: 11%; } col.c-basis { width: 7%; } col.c-target { width: 15%; } col.c-status { width: 10%; } col.c-prev { width: 11%; } col.c-change { width: 17%; }
table.kpis td { overflow: hidden; }
table.kpis tbody th { overflow-wrap: anywhere; }
.kpi-id { font-weight: 400; font-size: 9.5px; color: var(--muted); font-family: 'DejaVu Sans Mono', monospace; }
td.value { font-weight: 700; }
tr.tone-breached th { border-left: 3px solid var(--breached); }
tr.tone-met th { border-left: 3px solid var(--met); }
tr.tone-no_target th, tr.tone-no_data th { border-left: 3px solid transparent; }
.status { display: inline-block; padding: 0 7px; border-radius: 999px; font-size: 11.5px; font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
.status-met { color: var(--met); background: var(--met-bg); border-color: #aceebb; }
.status-breached { color: var(--breached); background: var(--breached-bg); border-color: #ffcecb; }
.status-no_target { color: var(--no-target); background: var(--no-target-bg); border-color: #cdd5ea; }
.status-no_data { color: var(--no-data); background: var(--no-data-bg); border: 1px dashed #afb8c1; font-weight: 500; }
.change { white-space: nowrap; }
.change-better .arrow { color: var(--met); }
.change-worse .arrow { color: var(--breached); }
.charts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px 14px; }
figure.chart { min-width: 0; margin: 0; padding: 6px 8px 2px; border: 1px solid #eaeef2; border-radius: 6px; break-inside: avoid; }
figure.chart figcaption { font-size: 11.5px; }
.chart-title { display: block; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.chart-meta { display: block; white-space: nowrap; overflow: hidden; font-size: 10.5px; margin-top: 1px; }
.chart-meta strong { font-size: 12px; }
figure.chart .status { font-size: 9.5px; padding: 0 5px; }
svg.trend { display: block; width: 100%; height: auto; }
svg.trend .tick { font-size: 8.5px; fill: #57606a; font-family: 'DejaVu Sans', Arial, sans-serif; }
svg.trend .year { font-size: 7.5px; fill: #8c959f; }
svg.trend .label { font-size: 9px; font-weight: 700; fill: #1f2328; font-family: 'DejaVu Sans', Arial, sans-serif; }
svg.trend .empty { font-size: 9px; fill: #8c959f; font-style: italic; font-family: 'DejaVu Sans', Arial, sans-serif; }
svg.trend .axis { stroke: #afb8c1; stroke-width: 1; }
svg.trend .grid { stroke: #eaeef2; stroke-width: 1; }
.legend { margin-top: 4px; }
.legend-item { margin-right: 12px; white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.severity { margin: 6px 0 10px; }
svg.stacked { display: block; max-width: 100%; border-radius: 3px; }
.sev { font-weight: 600; }
.sev-sev0 { color: #fff; background: #82071e; padding: 0 4px; border-radius: 3px; }
.sev-sev1 { color: #cf222e; }
.ci-cell { width: 150px; }
svg.ci { display: block; }
dl.definitions { display: grid; grid-template-columns: 34% 1fr; gap: 3px 12px; font-size: 11.5px; }
dl.definitions dt { font-weight: 600; }
dl.definitions dd { margin: 0; color: #424a53; }
dl.definitions code { font-weight: 400; color: var(--muted); font-size: 10px; }
footer { margin-top: 24px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); font-size: 11px; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { margin-top: 18px; }
  #scorecard, #trends, #definitions { break-before: page; }
  table.kpis th, table.kpis td { padding-top: 2px; padding-bottom: 2px; }
  .kpi-id { display: none; }
  a { color: inherit; text-decoration: none; }
}
`;

/** The report as a self-contained, print-ready HTML document. */
export function renderHtml(report: Report): string {
  const title = `${reviewTitle(report)} ${report.quarter} — ${report.scope}`;
  const period = `${formatDate(report.period.start)} to ${formatDate(new Date(Date.parse(report.period.end) - 1).toISOString())} (UTC)`;
  const pageCss = `@page { size: A4; margin: 14mm 12mm 15mm; @bottom-left { content: ${cssString(title)}; font: 8pt 'DejaVu Sans', Arial, sans-serif; color: #59636e; } @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt 'DejaVu Sans', Arial, sans-serif; color: #59636e; } }`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="report-id" content="${e(report.id)}">
<meta name="content-hash" content="${e(report.content_hash)}">
<title>${e(title)}</title>
<style>${STYLE}${pageCss}</style>
</head>
<body data-report="${e(report.id)}" data-has-data="${report.has_data}">
<header class="cover">
<p class="eyebrow">${reviewTitle(report)} · applied-science KPIs</p>
<h1>${e(report.scope)} — ${e(report.quarter)}</h1>
<p class="meta">${e(period)} · compared with ${e(report.previous_quarter)}${report.open_quarter ? ` · <strong>${periodNoun(report)} still open</strong>` : ''} · report <code>${e(report.id)}</code></p>
</header>
${summarySection(report)}
${inProgressSection(report)}
${breachedSection(report)}
${scorecardSection(report)}
${trendsSection(report)}
${alertsSection(report)}
${incidentsSection(report)}
${experimentsSection(report)}
${releasesSection(report)}
${driftSection(report)}
${dataCostSection(report)}
${definitionsSection(report)}
<footer>Generated ${e(formatTime(report.generated_at))} · content <code>${e(report.content_hash.slice(0, 16))}</code> (the same data gives the same content) · numbers from the KPI API (GET /v1/scorecard, /v1/kpis/:id/values) for ${e(report.quarter)}, ${e(report.scope.toLowerCase())}.</footer>
</body>
</html>
`;
}

