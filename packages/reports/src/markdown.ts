/**
 * The report as GitHub-flavoured Markdown: the same sections as the HTML, tables instead of
 * charts (a block-character sparkline and a table of the eight quarters stand for the trend charts).
 */
import {
  formatChange, formatDate, formatForecast, formatHours, formatInteger, formatP, formatPercent, formatProbability, formatTarget, formatTime, formatUsd, formatValue, NO_VALUE, plural, STATUS_ICON, STATUS_LABEL,
} from './format.ts';
import { periodNoun, reportKpi, reviewTitle, type Report, type ReportKpi } from './model.ts';
import type { BuiltInKpiId, Status } from '@kpi/kpi';
import { groupByKpiGroup, type KpiGroup } from '@kpi/format';

const onOff = (value: boolean | null) => (value === null ? '**not reported**' : value ? 'on' : '**off**');

/** Text in a table cell or a paragraph: Markdown's active characters escaped, one line. */
export function md(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/([\\`*_[\]<>|#~])/g, '\\$1');
}
/** An identifier as inline code (pipes escaped for tables). */
const code = (text: string | null) => {
  if (!text) return NO_VALUE;
  const clean = text.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
  return clean.includes('`') ? `\`\` ${clean} \`\`` : `\`${clean}\``;
};
const status = (value: Status) => `${STATUS_ICON[value]} ${STATUS_LABEL[value]}`;

function table(headers: string[], rows: string[][], right: number[] = []): string {
  const align = headers.map((_, index) => (right.includes(index) ? '---:' : '---'));
  return [`| ${headers.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

const BLOCKS = '▁▂▃▄▅▆▇█';
/** The trend as block characters, `·` for a quarter without a value. */
export function sparkline(values: (number | null)[]): string {
  const numbers = values.filter((value): value is number => value !== null && Number.isFinite(value));
  if (numbers.length === 0) return '········'.slice(0, values.length);
  const lo = Math.min(...numbers);
  const hi = Math.max(...numbers);
  return values
    .map((value) => {
      if (value === null || !Number.isFinite(value)) return '·';
      const index = hi === lo ? 3 : Math.round(((value - lo) / (hi - lo)) * (BLOCKS.length - 1));
      return BLOCKS[index];
    })
    .join('');
}

function change(kpi: ReportKpi): string {
  if (kpi.change.direction === null) return NO_VALUE;
  const arrow = kpi.change.direction === 'unchanged' ? '=' : kpi.change.absolute! > 0 ? '▲' : '▼';
  return `${arrow} ${formatChange(kpi.change.absolute, kpi.unit)} (${kpi.change.direction})`;
}

function kpiTable(kpis: ReportKpi[], noun: string): string {
  return table(
    ['KPI', 'Value', 'Target', 'Status', `Prev. ${noun}`, 'Change', `Trend (${kpis[0]?.trend.length ?? 0} ${noun}s)`],
    kpis.map((kpi) => [
      `${md(kpi.name)} ${code(kpi.id)}`,
      md(formatValue(kpi.value, kpi.unit)),
      md(formatTarget(kpi.target, kpi.unit, kpi.direction, kpi.target_kind, noun)),
      status(kpi.status),
      md(formatValue(kpi.previous_value, kpi.unit)),
      md(change(kpi)),
      sparkline(kpi.trend.map((point) => point.value)),
    ]),
    [1, 4],
  );
}

/** The KPIs of one catalog group (custom ones in it included), for the section about that group. */
const groupTable = (report: Report, group: KpiGroup) => kpiTable(report.kpis.filter((kpi) => kpi.group === group), periodNoun(report));
const hours = (value: number | null) => formatHours(value);
/** A KPI's tier-1 target in its unit and direction. */
const tier1Target = (report: Report, id: BuiltInKpiId, target: number | null) => formatTarget(target, reportKpi(report, id).unit, reportKpi(report, id).direction);

/** Adds lines to the document, then a blank line. */
type Push = (...lines: string[]) => void;

/** The title, the period and its comparison, and a note when there is no data. */
function header(report: Report, push: Push): void {
  const end = formatDate(new Date(Date.parse(report.period.end) - 1).toISOString());
  push(`# ${reviewTitle(report)} ${report.quarter} — ${md(report.scope)}`);
  push(`${formatDate(report.period.start)} to ${end} (UTC), compared with ${report.previous_quarter}${report.open_quarter ? ' — **the quarter is still open**' : ''}. Report \`${report.id}\`.`);
  if (!report.has_data) {
    push(`> **No data:** nothing was recorded for ${report.team === 'all' ? 'the organisation' : `team ${md(report.team)}`} in ${report.quarter}. The KPIs below are empty (counts are 0); there is nothing to review for this ${periodNoun(report)}.`);
  }
}

/** The counts, the narrative's headline, highlights and lowlights. */
function summary(report: Report, push: Push): void {
  push('## Summary');
  push(`**${report.summary.met} met · ${report.summary.breached} breached · ${report.summary.no_target} no target · ${report.summary.no_data} no data** (of ${report.summary.kpis} KPIs)`);
  push(md(report.narrative.headline));
  if (report.has_data) {
    push('### Highlights', report.narrative.highlights.length ? report.narrative.highlights.map((item) => `- ${md(item)}`).join('\n') : `_No highlight this ${periodNoun(report)}._`);
    push('### Lowlights', report.narrative.lowlights.length ? report.narrative.lowlights.map((item) => `- ${md(item)}`).join('\n') : `_No lowlight this ${periodNoun(report)}._`);
  }
}

/** An open period: the KPIs forecast to miss their target by its end. */
function inProgress(report: Report, push: Push): void {
  if (report.in_progress) {
    const { elapsed, at_risk: atRisk } = report.in_progress;
    push(`## In progress: at risk (${atRisk.length})`);
    push(`${formatPercent(elapsed, 0)} of the ${periodNoun(report)} has elapsed: the values are those so far. Forecast to miss their target by its end (projected value with its 80 % band, and the probability of meeting the target):`);
    push(
      atRisk.length
        ? table(
            ['KPI', 'So far', 'Target', 'Projected', 'P(target met)'],
            atRisk.map((entry) => [md(entry.name), md(formatValue(entry.value, entry.unit)), md(formatTarget(entry.target, entry.unit, entry.direction)), md(formatForecast(entry.forecast, entry.unit)), formatProbability(entry.forecast.probability_met)]),
            [1, 3, 4],
          )
        : `_No KPI is forecast to miss its target._`,
    );
  }
}

/** Every breached target, tier-1 ones included. */
function breachedTargets(report: Report, push: Push): void {
  push(`## Breached targets (${report.breached.length})`);
  push(
    report.breached.length
      ? table(
          ['KPI', 'Value', 'Target', `Prev. ${periodNoun(report)}`, 'Repeated'],
          report.breached.map((entry) => {
            const kpi = report.kpis.find((candidate) => candidate.id === entry.id)!;
            return [
              `${md(entry.name)}${entry.tier === '1' ? ' (tier 1)' : ''}`,
              md(formatValue(entry.value, entry.unit)),
              md(formatTarget(entry.target, entry.unit, entry.direction, entry.tier === 'all' ? kpi.target_kind : 'threshold', periodNoun(report))),
              md(formatValue(entry.previous_value, entry.unit)),
              entry.repeated ? `yes, breached in ${report.previous_quarter} too` : 'no',
            ];
          }),
          [1, 3],
        )
      : `_No target was breached in this ${periodNoun(report)}._`,
  );
}

/** Every KPI by catalog group. */
function scorecard(report: Report, push: Push): void {
  push('## Scorecard');
  push(`Every KPI of the catalog for ${report.quarter}, ${md(report.scope.toLowerCase())}, all tiers (the numbers of \`GET /v1/scorecard\`).`);
  for (const group of groupByKpiGroup(report.kpis)) push(`### ${group.title}`, kpiTable(group.items, periodNoun(report)));
}

/** Every KPI over the trend's periods. */
function trends(report: Report, push: Push): void {
  const periods = report.kpis[0]?.trend.map((point) => point.quarter) ?? [];
  push(`## Trends, ${periods[0] ?? report.quarter} to ${report.quarter}`);
  push(
    table(
      ['KPI', ...periods],
      report.kpis.map((kpi) => [md(kpi.name), ...kpi.trend.map((point) => `${md(formatValue(point.value, kpi.unit))}${point.status === 'breached' ? ' ✕' : ''}`)]),
      periods.map((_, index) => index + 1),
    ),
    `✕: breached its target that ${periodNoun(report)}.`,
  );
}

/** The alerts that changed to firing in the period. */
function alertsFired(report: Report, push: Push): void {
  push('## Alerts that fired');
  const { alerts } = report;
  if (!alerts.configured) push(`_${md(alerts.note.charAt(0).toUpperCase() + alerts.note.slice(1))}._`);
  else if (alerts.fired === 0) push(`_No alert fired in this ${periodNoun(report)}._`);
  else {
    push(`${plural(alerts.fired, 'alert')} changed to firing in the ${periodNoun(report)}${alerts.truncated ? ` (the first ${alerts.alerts.length} are listed)` : ''}.`);
    push(table(['Rule', 'KPI', 'Fired'], alerts.by_rule.map((row) => [md(row.rule), code(row.kpi), formatInteger(row.fired)]), [2]));
    push(table(['Fired at', 'Rule', 'KPI', 'Team', 'Severity'], alerts.alerts.map((alert) => [alert.at.slice(0, 16).replace('T', ' '), md(alert.rule), code(alert.kpi), md(alert.team), md(alert.severity)])));
  }
}

/** Incident counts, time to detect and mitigate, the slowest and the still open. */
function incidentsSection(report: Report, push: Push): void {
  const { incidents } = report;
  push('## Incidents');
  const severities = (['sev0', 'sev1', 'sev2', 'sev3'] as const).map((severity) => `${severity} ${incidents.by_severity[severity]}`).join(', ');
  const categories = Object.entries(incidents.by_category).map(([category, count]) => `${category.replaceAll('_', ' ')} ${count}`).join(', ');
  push(`**${plural(incidents.opened, 'incident')}** opened (${severities})${categories ? `; by category: ${categories}` : ''}. **${formatInteger(incidents.mitigated)}** first mitigated in the ${periodNoun(report)}.`);
  push(
    table(
      ['Measure', 'Median, all tiers', 'p90, all tiers', 'Incidents', 'Median, tier 1', 'Tier-1 target', 'Status'],
      [
        ['Time to detect', hours(incidents.ttd.value), hours(incidents.ttd.p90), formatInteger(incidents.ttd.sample_size), hours(incidents.ttd.tier1.value), md(tier1Target(report, 'time_to_detect_hours', incidents.ttd.tier1.target)), status(incidents.ttd.tier1.status)],
        ['Time to mitigate', hours(incidents.ttm.value), hours(incidents.ttm.p90), formatInteger(incidents.ttm.sample_size), hours(incidents.ttm.tier1.value), md(tier1Target(report, 'time_to_mitigate_hours', incidents.ttm.tier1.target)), status(incidents.ttm.tier1.status)],
      ],
      [1, 2, 3, 4],
    ),
  );
  push('### Slowest mitigations');
  push(
    incidents.slowest_mitigations.length
      ? table(
          ['Incident', 'Team', 'Tier', 'Severity', 'Model', 'Detected', 'Mitigated', 'Time to mitigate'],
          incidents.slowest_mitigations.map((row) => [code(row.incident_id), md(row.team), String(row.tier), md(row.severity), code(row.model_id), formatTime(row.detected_at), formatTime(row.mitigated_at), `${hours(row.ttm_hours)}${row.over_tier1_target ? ' (over tier-1 target)' : ''}`]),
          [7],
        )
      : `_No incident was mitigated in this ${periodNoun(report)}._`,
  );
  if (incidents.open_past_target.length) {
    push(`### Unmitigated past the ${hours(incidents.ttm.tier1.target)} target at the ${periodNoun(report)} end (${incidents.open_past_target.length})`);
    push(table(['Incident', 'Team', 'Tier', 'Open for'], incidents.open_past_target.map((row) => [code(row.incident_id), md(row.team), String(row.tier), hours(row.hours_open)]), [3]));
  }
  if (incidents.sev0.length) {
    push(`### Sev0 incidents (${incidents.sev0.length})`);
    push(table(['Incident', 'Team', 'Model', 'Opened', 'Time to detect', 'Time to mitigate'], incidents.sev0.map((row) => [code(row.incident_id), md(row.team), code(row.model_id), formatTime(row.opened_at), hours(row.ttd_hours), row.ttm_hours === null ? 'not mitigated' : hours(row.ttm_hours)]), [4, 5]));
  }
}

/** Experiment KPIs, decisions, shipped experiments, SRM failures and guardrail breaches. */
function experimentsSection(report: Report, push: Push): void {
  const { experiments } = report;
  push('## Experiments');
  push(groupTable(report, 'Experimentation'));
  const decisions = Object.entries(experiments.by_decision).map(([decision, count]) => `${decision} ${count}`).join(', ');
  push(`**${plural(experiments.decided, 'experiment')}** decided in the ${periodNoun(report)}${decisions ? ` (${decisions})` : ''}.`);
  const lift = (value: number | null) => formatValue(value, 'relative_lift');
  push(`### Shipped (${experiments.shipped.length})`);
  push(
    experiments.shipped.length
      ? table(
          ['Experiment', 'Team', 'Primary metric', 'Decided', 'Lift [95% CI]', 'p', 'Result', 'In shipped lift'],
          experiments.shipped.map((row) => [
            code(row.experiment_id), md(row.team), md(row.primary_metric ?? NO_VALUE), formatDate(row.decided_at),
            row.lift === null ? 'no result' : `${lift(row.lift)} [${lift(row.ci_low)}, ${lift(row.ci_high)}]`,
            formatP(row.p_value), row.significance === 'win' ? 'significant win' : row.significance === 'regression' ? 'significant regression' : row.significance === null ? 'no result' : 'not significant',
            row.counted_in_shipped_lift ? lift(row.improvement) : 'no',
          ]),
          [4, 5],
        )
      : `_No experiment was decided ship in this ${periodNoun(report)}._`,
  );
  push(`### Sample-ratio-mismatch failures (${experiments.srm_failures.length})`);
  push(experiments.srm_failures.length ? table(['Experiment', 'Team', 'Latest readout', 'SRM p'], experiments.srm_failures.map((row) => [code(row.experiment_id), md(row.team), formatDate(row.latest_readout_at), formatP(row.p_value)]), [3]) : '_None._');
  push(`### Guardrail breaches (${experiments.guardrail_breaches.length})`);
  push(experiments.guardrail_breaches.length ? table(['Experiment', 'Team', 'Decided', 'Guardrails regressed'], experiments.guardrail_breaches.map((row) => [code(row.experiment_id), md(row.team), formatDate(row.decided_at), md(row.metrics.join(', '))])) : '_None._');
}

/** Release KPIs and gaps by model. */
function releasesSection(report: Report, push: Push): void {
  const { releases } = report;
  push('## Releases');
  push(groupTable(report, 'Delivery and model quality'));
  push(`**${plural(releases.count, 'production release')}** in the ${periodNoun(report)}.`);
  push('### Gaps by model');
  push(
    releases.by_model.length
      ? table(
          ['Model', 'Team', 'Releases', 'Rolled back', 'Not first-pass', 'Not reproducible', 'No model card', 'No runbook', 'No readout'],
          releases.by_model.map((row) => [code(row.model_id), md(row.team), String(row.releases), String(row.rolled_back), String(row.not_first_pass), String(row.not_reproducible), String(row.missing_model_card), String(row.missing_runbook), String(row.missing_readout)]),
          [2, 3, 4, 5, 6, 7, 8],
        )
      : `_No production release in this ${periodNoun(report)}._`,
  );
  if (releases.rolled_back.length) {
    push(`### Rolled back within 7 days (${releases.rolled_back.length})`);
    push(table(['Release', 'Model', 'Team', 'Deployed', 'Rolled back'], releases.rolled_back.map((row) => [code(row.release_id), code(row.model_id), md(row.team), formatTime(row.deployed_at), formatTime(row.rolled_back_at)])));
  }
}

/** Live models and the tier-1 ones with drift-monitoring gaps. */
function driftSection(report: Report, push: Push): void {
  const { drift } = report;
  push('## Drift-monitoring gaps');
  push(`Models live on ${formatTime(drift.as_of)}: **${drift.live_models}**, of which **${drift.tier1_models}** tier 1. Tier 1 only: feature coverage ${md(formatValue(drift.tier1.feature_coverage.value, reportKpi(report, 'drift_feature_coverage').unit))} (${status(drift.tier1.feature_coverage.status)}), model coverage ${md(formatValue(drift.tier1.model_coverage.value, reportKpi(report, 'drift_model_coverage').unit))} (${status(drift.tier1.model_coverage.status)}).`);
  push(groupTable(report, 'Monitoring and data'));
  push(`### Live tier-1 models with gaps (${drift.tier1_gaps.length})`);
  push(
    drift.tier1_gaps.length
      ? table(
          ['Model', 'Team', 'Release', 'Drift detection', 'Drift alerting', 'Critical features monitored', 'Unmonitored critical features'],
          drift.tier1_gaps.map((gap) => [code(gap.model_id), md(gap.team), code(gap.release_id), onOff(gap.drift_enabled), onOff(gap.drift_alerting), `${gap.critical_features - gap.unmonitored_critical_features.length} of ${gap.critical_features}`, gap.unmonitored_critical_features.map(code).join(', ') || 'none']),
        )
      : drift.tier1_models === 0
        ? `_No live tier-1 model at the ${periodNoun(report)} end._`
        : '_Every live tier-1 model has drift detection and alerting on and all its critical features monitored._',
  );
}

/** Data freshness, validation and serving and training cost. */
function dataCostSection(report: Report, push: Push): void {
  const data = report.data_and_cost;
  push('## Data freshness, validation and serving cost');
  push(groupTable(report, 'Serving and cost'));
  push(`### Late dataset arrivals (${data.late_arrivals} of ${data.arrivals})`);
  push(data.late_by_dataset.length ? table(['Dataset', 'Arrivals', 'Late', 'Worst delay past expected'], data.late_by_dataset.map((row) => [code(row.dataset), String(row.arrivals), String(row.late), hours(row.worst_delay_minutes / 60)]), [1, 2, 3]) : data.arrivals === 0 ? `_No dataset arrival in this ${periodNoun(report)}._` : '_Every dataset arrived within its SLA._');
  push(`### Failed data validations (${data.failed_validations} of ${data.validations})`);
  push(
    data.failed_validations_by_dataset.length
      ? table(['Dataset', 'Validations', 'Failed', 'Failed suites'], data.failed_validations_by_dataset.map((row) => [code(row.dataset), String(row.validations), String(row.failed), row.failed_suites.map(code).join(', ')]), [1, 2])
      : data.validations === 0
        ? `_No data validation in this ${periodNoun(report)}._`
        : '_Every data validation passed._',
  );
  push('### Serving cost by model');
  push(
    data.serving.by_model.length
      ? table(
          ['Model', 'Tier', 'Requests', 'Cost', 'Cost per 1k requests', 'Latency p95 (request-weighted)'],
          [
            ...data.serving.by_model.map((row) => [code(row.model_id), String(row.tier), formatInteger(row.requests), formatUsd(row.cost_usd), formatValue(row.cost_per_1k, 'usd_per_1k_requests'), formatValue(row.latency_p95_ms, 'ms')]),
            ['**Total**', '', formatInteger(data.serving.requests), formatUsd(data.serving.cost_usd), formatValue(data.serving.requests === 0 ? null : (1000 * data.serving.cost_usd) / data.serving.requests, 'usd_per_1k_requests'), ''],
          ],
          [2, 3, 4, 5],
        )
      : `_No serving window in this ${periodNoun(report)}._`,
  );
  push(`Training: **${plural(data.training.runs, 'run')}** costing **${formatUsd(data.training.cost_usd)}** in total.`);
}

/** Every KPI's definition and the report's footer. */
function definitions(report: Report, push: Push): void {
  push('## Definitions');
  push(report.kpis.map((kpi) => `- **${md(kpi.name)}** (${code(kpi.id)}): ${md(kpi.description)}`).join('\n'));
  push(`---`, `_Generated ${formatTime(report.generated_at)} · content \`${report.content_hash.slice(0, 16)}\` (the same data gives the same content) · numbers from the KPI API for ${report.quarter}, ${md(report.scope.toLowerCase())}._`);
}

const SECTIONS = [header, summary, inProgress, breachedTargets, scorecard, trends, alertsFired, incidentsSection, experimentsSection, releasesSection, driftSection, dataCostSection, definitions];

export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  const push: Push = (...lines) => out.push(...lines, '');
  for (const section of SECTIONS) section(report, push);
  return `${out.join('\n').trimEnd()}\n`;
}
