/**
 * The short narrative at the top of a report: a headline, highlights and lowlights, written by
 * fixed rules from the report's own numbers (no model, no randomness), so the same numbers
 * always read the same. Rules, in order:
 * - highlights: KPIs with a fixed target back on target after a breach; shipped lift from
 *   significant wins; the largest improvements (>= 10 % relative) of KPIs on target; no sev0
 *   incident; tier-1 drift monitoring complete; KPIs judged against the previous quarter that
 *   improved on it after a breach.
 * - lowlights: the breached targets (tier-1 targets included; repeated breaches first, the first
 *   four with the entities behind them, the rest in one sentence); incidents still unmitigated past the TTM target at the quarter
 *   end; tier-1 drift gaps; alerts that fired.
 */
import { formatDate, formatTarget, formatValue, listOf, plural } from './format.ts';
import type { BuiltInKpiId } from '@kpi/kpi';
import { periodNoun, type BreachedTarget, type Narrative, type Report, type ReportKpi } from './model.ts';

export type ReportContent = Omit<Report, 'narrative' | 'content_hash' | 'generated_at'>;

const MAX_HIGHLIGHTS = 6;
const MAX_LOWLIGHTS = 8;
/** Breaches told one by one; the others share one sentence. */
const MAX_BREACH_SENTENCES = 4;
const IMPROVEMENT_THRESHOLD = 0.1;

/** "a, b, c and 4 more". */
function few(items: string[], max = 3): string {
  if (items.length <= max) return listOf(items);
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

export function narrate(report: ReportContent): Narrative {
  const kpi = (id: string) => report.kpis.find((entry) => entry.id === id)!;
  const scope = report.team === 'all' ? 'The organisation' : `Team ${report.team}`;
  if (!report.has_data) {
    return {
      headline: `No data for ${report.team === 'all' ? 'the organisation' : `team ${report.team}`} in ${report.quarter}: no release, incident, experiment or operational signal counts towards this ${periodNoun(report)}, so every KPI is empty (counts are 0).`,
      highlights: [],
      lowlights: [],
    };
  }
  const { met, breached, no_data } = report.summary;
  const judged = met + breached;
  let headline = `${scope} met ${met} of the ${judged} KPIs with a target in ${report.quarter}`;
  headline += breached === 0 ? ' and breached none' : `; ${breached} ${breached === 1 ? 'was' : 'were'} breached`;
  const tier1Breaches = report.breached.filter((entry) => entry.tier === '1').length;
  if (tier1Breaches > 0) headline += `, plus ${plural(tier1Breaches, 'tier-1 target')}`;
  headline += no_data > 0 ? `; ${no_data} had no data.` : '.';
  if (report.open_quarter) headline += ` The ${periodNoun(report)} is still open: figures as of ${formatDate(report.drift.as_of)}.`;

  return { headline, highlights: highlights(report, kpi).slice(0, MAX_HIGHLIGHTS), lowlights: lowlights(report, kpi).slice(0, MAX_LOWLIGHTS) };
}

/** Shipped lift has sentences of its own (with the experiments behind it). */
const SHIPPED_LIFT: BuiltInKpiId = 'shipped_lift';

const valueOf = (entry: ReportKpi, value: number | null) => formatValue(value, entry.unit);

function highlights(report: ReportContent, kpi: (id: BuiltInKpiId) => ReportKpi): string[] {
  const out: string[] = [];
  // Shipped lift has a sentence of its own (with the experiments behind it).
  const recovered = report.kpis.filter((entry) => entry.status === 'met' && entry.previous_status === 'breached' && entry.id !== SHIPPED_LIFT);
  // Fixed targets met again first: a "no worse than last quarter" target flips more easily.
  for (const entry of recovered.filter((candidate) => candidate.target_kind !== 'previous_period')) {
    out.push(`${entry.name} is back on target: ${valueOf(entry, entry.value)} (target ${formatTarget(entry.target, entry.unit, entry.direction)}), after ${valueOf(entry, entry.previous_value)} in ${report.previous_quarter}.`);
  }
  const lift = kpi(SHIPPED_LIFT);
  const wins = report.experiments.shipped.filter((experiment) => experiment.counted_in_shipped_lift);
  if (lift.value !== null && lift.value > 0 && wins.length > 0) {
    out.push(`${plural(wins.length, 'significant win')} shipped (${few(wins.map((w) => w.experiment_id))}), adding ${valueOf(lift, lift.value)} of primary-metric lift.`);
  }
  const improved = report.kpis
    .filter((entry) => entry.id !== SHIPPED_LIFT && entry.status === 'met' && entry.previous_status !== 'breached' && entry.change.direction === 'better' && entry.change.relative !== null && Math.abs(entry.change.relative) >= IMPROVEMENT_THRESHOLD)
    .sort((a, b) => Math.abs(b.change.relative!) - Math.abs(a.change.relative!) || (a.id < b.id ? -1 : 1))
    .slice(0, 3);
  for (const entry of improved) {
    out.push(`${entry.name} improved to ${valueOf(entry, entry.value)} from ${valueOf(entry, entry.previous_value)} in ${report.previous_quarter}, on target.`);
  }
  if (report.incidents.opened > 0 && report.incidents.by_severity.sev0 === 0) {
    out.push(`No sev0 incident among the ${plural(report.incidents.opened, 'incident')} opened.`);
  } else if (report.incidents.opened === 0) {
    out.push(`No incident was opened in the ${periodNoun(report)}.`);
  }
  if (report.drift.tier1_models > 0 && report.drift.tier1_gaps.length === 0) {
    out.push(`All ${plural(report.drift.tier1_models, 'live tier-1 model')} have drift detection and alerting on and every critical feature monitored.`);
  }
  for (const entry of recovered.filter((candidate) => candidate.target_kind === 'previous_period')) {
    out.push(`${entry.name} improved on ${report.previous_quarter}: ${valueOf(entry, entry.value)}, from ${valueOf(entry, entry.previous_value)}.`);
  }
  return out;
}

/** What the report knows about the entities behind a breach. */
function evidence(report: ReportContent, entry: BreachedTarget): string {
  switch (entry.id as BuiltInKpiId) {
    case 'sev0_incidents':
      return report.incidents.sev0.length ? ` (${few(report.incidents.sev0.map((incident) => incident.incident_id))})` : '';
    case 'change_failure_rate':
      return report.releases.rolled_back.length ? `; rolled back within 7 days: ${few(report.releases.rolled_back.map((release) => release.release_id))}` : '';
    case 'srm_failure_rate':
      return report.experiments.srm_failures.length ? `; failing the SRM check: ${few(report.experiments.srm_failures.map((experiment) => experiment.experiment_id))}` : '';
    case 'guardrail_breaches':
      return report.experiments.guardrail_breaches.length
        ? `; ${few(report.experiments.guardrail_breaches.map((experiment) => `${experiment.experiment_id} (${experiment.metrics.join(', ')})`))}`
        : '';
    case 'data_freshness_sla':
      return report.data_and_cost.late_by_dataset.length
        ? `; ${plural(report.data_and_cost.late_arrivals, 'late arrival')}, most from ${few(report.data_and_cost.late_by_dataset.map((dataset) => dataset.dataset), 2)}`
        : '';
    case 'data_validation_pass_rate':
      return report.data_and_cost.failed_validations_by_dataset.length
        ? `; ${plural(report.data_and_cost.failed_validations, 'failed validation')}, most of ${few(report.data_and_cost.failed_validations_by_dataset.map((dataset) => dataset.dataset), 2)}`
        : '';
    case 'time_to_mitigate_hours': {
      const slow = report.incidents.slowest_mitigations.filter((incident) => incident.over_tier1_target);
      return slow.length ? `; slowest: ${few(slow.map((incident) => incident.incident_id))}` : '';
    }
    default:
      return '';
  }
}

function lowlights(report: ReportContent, kpi: (id: string) => ReportKpi): string[] {
  const out: string[] = [];
  // Breaches that carry over from the previous quarter first: they are the ones a review must not miss twice.
  const breached = [...report.breached].sort((a, b) => Number(b.repeated) - Number(a.repeated));
  const nameOf = (entry: BreachedTarget) => `${entry.name}${entry.tier === '1' ? ' (tier 1)' : ''}`;
  for (const entry of breached.slice(0, MAX_BREACH_SENTENCES)) {
    const kind = entry.tier === 'all' ? kpi(entry.id).target_kind : 'threshold';
    const target = kind === 'previous_period' ? `${formatValue(entry.target, entry.unit)} in ${report.previous_quarter}` : formatTarget(entry.target, entry.unit, entry.direction);
    out.push(`${nameOf(entry)} breached its target: ${formatValue(entry.value, entry.unit)} against ${target}${entry.repeated ? `, breached in ${report.previous_quarter} too` : ''}${evidence(report, entry)}.`);
  }
  // The rest in one line, so the operational lowlights below still make the list.
  const rest = breached.slice(MAX_BREACH_SENTENCES);
  if (rest.length > 0) out.push(`Also breached: ${listOf(rest.map((entry) => `${nameOf(entry)} at ${formatValue(entry.value, entry.unit)}`))}.`);
  if (report.incidents.open_past_target.length > 0) {
    const open = report.incidents.open_past_target;
    out.push(`${plural(open.length, 'incident')} ${open.length === 1 ? 'was' : 'were'} still unmitigated more than ${formatValue(report.incidents.ttm.tier1.target, 'hours')} after detection at the ${periodNoun(report)} end: ${few(open.map((incident) => incident.incident_id))}.`);
  }
  if (report.drift.tier1_gaps.length > 0) {
    const gaps = report.drift.tier1_gaps;
    const features = gaps.reduce((sum, gap) => sum + gap.unmonitored_critical_features.length, 0);
    out.push(
      `${plural(gaps.length, 'live tier-1 model')} ${gaps.length === 1 ? 'has' : 'have'} drift-monitoring gaps (${plural(features, 'unmonitored critical feature')}): ${few(gaps.map((gap) => gap.model_id))}.`,
    );
  }
  if (report.alerts.configured && report.alerts.fired > 0) {
    const top = report.alerts.by_rule[0]!;
    out.push(`${plural(report.alerts.fired, 'alert')} fired, most often ${top.rule} (${top.fired}).`);
  }
  return out;
}
