import { createHash } from 'node:crypto';
import type { Storage } from '@kpi/storage';
import {
  ALL_TEAMS, CATALOG, applicableRule, arrivalsByDataset, backlogTarget, elapsedOf, validationsByDataset, chTime, explainScope, kpiById, listExperiments, listIncidents, listLiveReleases, listReleases, previousPeriodStart,
  readValuesOf, storedValuesIn, reviewLabel, builtInKpi, type BuiltInKpiId, type ReviewGranularity, servingByModel, type Contribution, type KpiDefinition, type KpiValue, type Period, type TargetOverride,
} from '@kpi/kpi';
import type {
  AlertsSection, BreachedTarget, DataCostSection, DriftSection, ExperimentsSection, InProgress, IncidentRow, IncidentsSection, ModelReleaseGaps, ReleasesSection, Report, ReportKpi, TierValue,
} from './model.ts';
import { REPORT_SCHEMA_VERSION } from './model.ts';
import { narrate } from './narrative.ts';
import { ORGANISATION, reportId, resolveRequest, scopeLabel } from './request.ts';


/** How many periods the trend charts cover, the report's own included: two years of quarters, or four years. */
export const TREND_PERIODS: Record<ReviewGranularity, number> = { quarter: 8, year: 4 };
/** KPIs whose catalog target applies to tier 1 only: the report shows their tier-1 breaches too. */
const tier1Targeted = (kpi: KpiDefinition) => kpi.targets.some((rule) => rule.kind === 'threshold' && rule.tier1Only);
const SLOWEST_MITIGATIONS = 5;
const HOUR = 3_600_000;
const MAX_ALERTS = 500;

export interface BuildOptions {
  /** The period reviewed: a quarter (2026-Q1), or a year (2026). */
  periodLabel: string;
  /** `all` for the organisation, or a team. */
  team?: string;
  /** Target overrides in force (the API's effectiveOverrides), so statuses are the API's. */
  overrides: TargetOverride[];
  /** The KPIs to report: the catalog the API serves, custom KPIs included (default: the built-in ones). */
  catalog?: readonly KpiDefinition[];
  /** Now: the open quarter is judged as of now, and a quarter that has not started is refused. */
  now?: Date;
}

const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');
/** ClickHouse instants ('iso' output, or 'YYYY-MM-DD hh:mm:ss[.sss]') as RFC 3339 UTC. */
const toIso = (value: string) => new Date(/^\d{4}-\d\d-\d\d \d/.test(value) ? `${value.replace(' ', 'T')}Z` : value).toISOString();
const byString = <T>(key: (item: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

function periodsEndingAt(granularity: ReviewGranularity, period: Period): Period[] {
  const periods: Period[] = [period];
  while (periods.length < TREND_PERIODS[granularity]) {
    const end = periods[0]!.start;
    periods.unshift({ start: previousPeriodStart(granularity, end), end });
  }
  return periods;
}

/** Builds the review of a quarter or year and scope from stored KPI values and entity state. */
export async function buildReport(storage: Storage, options: BuildOptions): Promise<Report> {
  const now = options.now ?? new Date();
  const { quarter, granularity, team, period } = resolveRequest(options.periodLabel, options.team, now);
  const scopeTeam = team === ORGANISATION ? ALL_TEAMS : team;
  const inPeriod = (value: string | null | undefined) => {
    if (!value) return false;
    const t = Date.parse(value);
    return t >= period.start.getTime() && t < period.end.getTime();
  };
  const asOf = new Date(Math.min(period.end.getTime(), now.getTime()));
  const periods = periodsEndingAt(granularity, period);
  const scope = { granularity, team: scopeTeam, tier: 'all' as const };

  const catalog = options.catalog ?? CATALOG;
  // Tier 1 of every tiered KPI: the sections show tier-1 incidents and drift, the breaches list tier-1 targets.
  const tier1Kpis = catalog.filter((kpi) => kpi.tiered);
  const [values, tier1Values] = await Promise.all([
    readValuesOf(storedValuesIn(storage), catalog, scope, periods, options.overrides, now),
    readValuesOf(storedValuesIn(storage), tier1Kpis, { ...scope, tier: '1' }, [period], options.overrides, now),
  ]);
  const current = (id: BuiltInKpiId): KpiValue => values.get(id)!.at(-1)!;
  const tier1 = (id: string): TierValue => {
    const value = tier1Values.get(id)![0]!;
    return { id, value: value.value, sample_size: value.sample_size, target: value.target, status: value.status, previous_value: value.previous_value, details: value.details };
  };

  const kpis = catalog.map((kpi) => kpiEntry(kpi, values.get(kpi.id)!, periods, scope, options.overrides));
  const contributions = (id: BuiltInKpiId) => contributionsOf(storage, builtInKpi(id), granularity, period, scopeTeam, now);

  const [alerts, incidents, experiments, releases, drift, dataAndCost] = await Promise.all([
    alertsFired(storage, scopeTeam, period),
    incidentsSection(storage, scopeTeam, inPeriod, asOf, current, tier1, backlogTarget(builtInKpi('time_to_mitigate_hours'), scope, options.overrides)),
    experimentsSection(storage, scopeTeam, inPeriod),
    releasesSection(storage, scopeTeam, period, contributions),
    driftSection(storage, scopeTeam, asOf, tier1),
    dataCostSection(storage, scopeTeam, period, contributions),
  ]);

  const breached: BreachedTarget[] = [
    ...kpis
      .filter((kpi) => kpi.status === 'breached')
      .map((kpi) => ({ id: kpi.id, name: kpi.name, unit: kpi.unit, direction: kpi.direction, tier: 'all' as const, value: kpi.value, target: kpi.target, previous_value: kpi.previous_value, repeated: kpi.previous_status === 'breached' })),
    ...tier1Kpis
      .filter((kpi) => tier1Targeted(kpi) && tier1(kpi.id).status === 'breached')
      .map((kpi) => {
        const value = tier1(kpi.id);
        return { id: kpi.id, name: kpi.name, unit: kpi.unit, direction: kpi.direction, tier: '1' as const, value: value.value, target: value.target, previous_value: value.previous_value, repeated: false };
      }),
  ];

  const summary = {
    kpis: kpis.length,
    met: kpis.filter((kpi) => kpi.status === 'met').length,
    breached: kpis.filter((kpi) => kpi.status === 'breached').length,
    no_target: kpis.filter((kpi) => kpi.status === 'no_target').length,
    no_data: kpis.filter((kpi) => kpi.status === 'no_data').length,
  };
  const content = {
    schema_version: REPORT_SCHEMA_VERSION,
    id: reportId(quarter, team),
    quarter,
    review: granularity === 'year' ? ('yearly' as const) : ('quarterly' as const),
    team,
    scope: scopeLabel(team),
    period: { start: iso(period.start), end: iso(period.end) },
    previous_quarter: reviewLabel(granularity, previousPeriodStart(granularity, period.start)),
    has_data: kpis.some((kpi) => kpi.sample_size > 0),
    open_quarter: now.getTime() < period.end.getTime(),
    in_progress: now.getTime() < period.end.getTime() ? inProgress(kpis, elapsedOf(period, now)) : null,
    summary,
  };
  const sections = { kpis, breached, alerts, incidents, experiments, releases, drift, data_and_cost: dataAndCost };
  const report: Report = { ...content, narrative: narrate({ ...content, ...sections }), ...sections, content_hash: '', generated_at: iso(now) };
  report.content_hash = contentHash(report);
  return report;
}

/** Recursively key-sorted JSON, so the hash does not depend on property order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The hash of everything but the generation time (and the hash itself). */
export function contentHash(report: Report): string {
  const { generated_at: _generated, content_hash: _hash, ...content } = report;
  return createHash('sha256').update(canonical(content)).digest('hex');
}

function kpiEntry(kpi: KpiDefinition, series: KpiValue[], periods: Period[], scope: { granularity: ReviewGranularity; team: string; tier: 'all' }, overrides: TargetOverride[]): ReportKpi {
  const value = series.at(-1)!;
  const previous = series.at(-2);
  const rule = applicableRule(kpi, scope, overrides);
  const absolute = value.value !== null && value.previous_value !== null ? value.value - value.previous_value : null;
  const relative = absolute !== null && value.previous_value !== 0 ? absolute / Math.abs(value.previous_value!) : null;
  const direction = absolute === null ? null : absolute === 0 ? 'unchanged' : absolute > 0 === (kpi.direction === 'higher_is_better') ? 'better' : 'worse';
  return {
    id: kpi.id,
    name: kpi.name,
    description: kpi.description,
    unit: kpi.unit,
    direction: kpi.direction,
    group: kpi.group,
    value: value.value,
    numerator: value.numerator,
    denominator: value.denominator,
    sample_size: value.sample_size,
    target: value.target,
    target_kind: rule === undefined ? null : rule.kind,
    status: value.status,
    previous_value: value.previous_value,
    previous_status: previous?.status ?? null,
    change: { absolute, relative, direction },
    trend: series.map((point, index) => ({ quarter: reviewLabel(scope.granularity, periods[index]!.start), value: point.value, target: point.target, status: point.status })),
    forecast: value.forecast,
  };
}

/** The KPIs of a period in progress whose forecast is at risk, the least likely to meet their target first. */
function inProgress(kpis: ReportKpi[], elapsed: number): InProgress {
  const atRisk = kpis.flatMap(({ id, name, unit, direction, value, target, forecast }) => (forecast?.outlook === 'at_risk' ? [{ id, name, unit, direction, value, target, forecast }] : []));
  return { elapsed, at_risk: atRisk.sort((a, b) => a.forecast.probability_met - b.forecast.probability_met || a.id.localeCompare(b.id)) };
}

/** The entities behind a KPI value of the reviewed period (tier all), as the breakdown endpoint lists them. */
async function contributionsOf(storage: Storage, kpi: KpiDefinition, granularity: ReviewGranularity, period: Period, team: string, now: Date): Promise<Contribution[]> {
  return (await explainScope(storage, kpi, { granularity, period, team, tier: 'all' }, now)).contributions;
}

// ---- alerts ------------------------------------------------------------------------------------

const ALERT_COLUMNS = ['at', 'rule', 'kpi', 'team', 'severity', 'to_state', 'value', 'target', 'period_start', 'reason'];

/**
 * Alert state changes to firing in the quarter, from the alerting history table when this
 * deployment has one (packages/alerts); otherwise the section says alerting is not configured.
 */
export async function alertsFired(storage: Storage, team: string, period: Period): Promise<AlertsSection> {
  const columns = new Set(
    (await storage.query<{ name: string }>("SELECT name FROM system.columns WHERE database = {database:String} AND table = 'alert_history'", { database: storage.database })).map(
      (row) => row.name,
    ),
  );
  if (columns.size === 0) return { configured: false, note: 'alerting not configured: this deployment keeps no alert history' };
  const missing = ALERT_COLUMNS.filter((column) => !columns.has(column));
  if (missing.length > 0) return { configured: false, note: `alerting not configured: the alert history table lacks ${missing.join(', ')}` };
  const where = `to_state = 'firing' AND at >= {from:DateTime64(3, 'UTC')} AND at < {to:DateTime64(3, 'UTC')} AND ({team:String} = '*' OR team = {team:String})`;
  const params = { from: chTime(period.start), to: chTime(period.end), team };
  const [rows, counts] = await Promise.all([
    storage.query<{ at: string; rule: string; kpi: string; team: string; severity: string; value: number | null; target: number | null; period_start: string | null; reason: string }>(
      `SELECT at, rule, kpi, team, severity, value, target, period_start, reason
       FROM {db:Identifier}.alert_history FINAL WHERE ${where}
       ORDER BY at, rule, team, reason LIMIT {limit:UInt32}`,
      { ...params, limit: MAX_ALERTS },
    ),
    storage.query<{ rule: string; kpi: string; fired: number }>(
      `SELECT rule, kpi, count() AS fired FROM {db:Identifier}.alert_history FINAL WHERE ${where} GROUP BY rule, kpi ORDER BY fired DESC, rule, kpi`,
      params,
    ),
  ]);
  const fired = counts.reduce((sum, row) => sum + Number(row.fired), 0);
  return {
    configured: true,
    fired,
    by_rule: counts.map((row) => ({ rule: row.rule, kpi: row.kpi, fired: Number(row.fired) })),
    alerts: rows.map((row) => ({
      at: toIso(row.at),
      rule: row.rule,
      kpi: row.kpi,
      team: row.team === ALL_TEAMS ? ORGANISATION : row.team,
      severity: row.severity,
      value: row.value,
      target: row.target,
      period_start: row.period_start ? toIso(row.period_start) : null,
      reason: row.reason,
    })),
    truncated: fired > rows.length,
  };
}

// ---- incidents -----------------------------------------------------------------------------------

type Listed = Awaited<ReturnType<typeof listIncidents>>[number];
const incidentRow = (incident: Listed): IncidentRow => ({
  incident_id: incident.incident_id,
  team: incident.team,
  tier: incident.tier ?? 0,
  severity: incident.severity,
  category: incident.category,
  model_id: incident.model_id,
  opened_at: incident.opened_at!,
  detected_at: incident.detected_at!,
  mitigated_at: incident.mitigated_at,
  ttd_hours: incident.ttd_hours,
  ttm_hours: incident.ttm_hours,
});

async function incidentsSection(
  storage: Storage,
  team: string,
  inPeriod: (value: string | null) => boolean,
  asOf: Date,
  current: (id: BuiltInKpiId) => KpiValue,
  tier1: (id: BuiltInKpiId) => TierValue,
  /** The TTM target incidents count as open past (backlogTarget: the catalog's tier-1 one, or the team's override), as the KPI's backlog does. */
  target: number | null,
): Promise<IncidentsSection> {
  const all = await listIncidents(storage, { team, open: false, limit: 10_000_000, now: asOf });
  const opened = all.filter((incident) => inPeriod(incident.opened_at)).map(incidentRow).sort(byString((row) => `${row.opened_at}|${row.incident_id}`));
  const mitigated = all.filter((incident) => inPeriod(incident.mitigated_at)).map(incidentRow);
  const by_severity = { sev0: 0, sev1: 0, sev2: 0, sev3: 0 };
  const by_category: Record<string, number> = {};
  for (const incident of opened) {
    if (incident.severity in by_severity) by_severity[incident.severity as keyof typeof by_severity]++;
    by_category[incident.category] = (by_category[incident.category] ?? 0) + 1;
  }
  const ttd = current('time_to_detect_hours');
  const ttm = current('time_to_mitigate_hours');
  const ttmTier1 = tier1('time_to_mitigate_hours');
  const at = asOf.getTime();
  const openPast =
    target === null
      ? []
      : all
          .filter((incident) => Date.parse(incident.opened_at!) < at && (incident.mitigated_at === null || Date.parse(incident.mitigated_at) > at) && Date.parse(incident.detected_at!) <= at - target * HOUR)
          .map((incident) => ({ incident_id: incident.incident_id, team: incident.team, tier: incident.tier ?? 0, hours_open: (at - Date.parse(incident.detected_at!)) / HOUR }));
  return {
    opened: opened.length,
    by_severity,
    by_category: Object.fromEntries(Object.entries(by_category).sort(([a], [b]) => (a < b ? -1 : 1))),
    mitigated: mitigated.length,
    ttd: { value: ttd.value, p90: (ttd.details.p90 as number | null | undefined) ?? null, sample_size: ttd.sample_size, tier1: tier1('time_to_detect_hours') },
    ttm: { value: ttm.value, p90: (ttm.details.p90 as number | null | undefined) ?? null, sample_size: ttm.sample_size, tier1: ttmTier1 },
    open_past_target: [...openPast].sort((a, b) => b.hours_open - a.hours_open || (a.incident_id < b.incident_id ? -1 : 1)),
    slowest_mitigations: mitigated
      .sort((a, b) => b.ttm_hours! - a.ttm_hours! || (a.incident_id < b.incident_id ? -1 : 1))
      .slice(0, SLOWEST_MITIGATIONS)
      .map((row) => ({ ...row, over_tier1_target: row.tier === 1 && target !== null && row.ttm_hours! > target })),
    sev0: opened.filter((row) => row.severity === 'sev0'),
  };
}

// ---- experiments ---------------------------------------------------------------------------------

async function experimentsSection(storage: Storage, team: string, inPeriod: (value: string | null) => boolean): Promise<ExperimentsSection> {
  const experiments = (await listExperiments(storage, { team, limit: 10_000_000 })).sort(byString((e) => e.experiment_id));
  const decided = experiments.filter((experiment) => inPeriod(experiment.decided_at));
  const by_decision: Record<string, number> = {};
  for (const experiment of decided) by_decision[experiment.decision ?? 'none'] = (by_decision[experiment.decision ?? 'none'] ?? 0) + 1;
  const shipped = decided.filter((experiment) => experiment.decision === 'ship').sort(byString((e) => `${e.decided_at}|${e.experiment_id}`));
  return {
    decided: decided.length,
    by_decision: Object.fromEntries(Object.entries(by_decision).sort(([a], [b]) => (a < b ? -1 : 1))),
    shipped: shipped.map((e) => ({
      experiment_id: e.experiment_id,
      team: e.team,
      model_id: e.model_id,
      primary_metric: e.primary_metric,
      decided_at: e.decided_at,
      decision: e.decision,
      lift: e.lift,
      ci_low: e.ci_low,
      ci_high: e.ci_high,
      p_value: e.p_value,
      improvement: e.improvement,
      significance: e.significance,
      counted_in_shipped_lift: e.significance === 'win',
    })),
    srm_failures: experiments
      .filter((e) => inPeriod(e.latest_readout_at) && e.srm?.failed === true)
      .map((e) => ({ experiment_id: e.experiment_id, team: e.team, latest_readout_at: e.latest_readout_at!, p_value: e.srm!.p_value })),
    guardrail_breaches: shipped
      .filter((e) => e.guardrail_regressions.length > 0)
      .map((e) => ({ experiment_id: e.experiment_id, team: e.team, decided_at: e.decided_at!, metrics: [...e.guardrail_regressions].sort() })),
  };
}

// ---- releases ------------------------------------------------------------------------------------

async function releasesSection(storage: Storage, team: string, period: Period, contributions: (id: BuiltInKpiId) => Promise<Contribution[]>): Promise<ReleasesSection> {
  const [details, failed, firstPass, reproducible, documented] = await Promise.all([
    listReleases(storage, { team, from: period.start, to: period.end }),
    contributions('change_failure_rate'),
    contributions('readiness_first_pass_rate'),
    contributions('reproducibility_rate'),
    contributions('documentation_completeness'),
  ]);
  const numerator = (list: Contribution[]) => new Set(list.filter((c) => c.in_numerator).map((c) => c.entity));
  const failedSet = numerator(failed);
  const firstPassSet = numerator(firstPass);
  const reproducibleSet = numerator(reproducible);
  const documentedSet = numerator(documented);
  const byModel = new Map<string, ModelReleaseGaps>();
  const rolledBack: ReleasesSection['rolled_back'] = [];
  for (const release of details) {
    const gaps =
      byModel.get(release.model_id) ??
      { model_id: release.model_id, team: release.team, tier: release.tier, releases: 0, rolled_back: 0, not_first_pass: 0, not_reproducible: 0, missing_model_card: 0, missing_runbook: 0, missing_readout: 0 };
    gaps.releases++;
    if (failedSet.has(release.release_id)) {
      gaps.rolled_back++;
      const rollback = release.rollbacks.filter((at) => at >= release.deployed_at).sort()[0]!;
      rolledBack.push({ release_id: release.release_id, model_id: release.model_id, team: release.team, deployed_at: release.deployed_at, rolled_back_at: rollback });
    }
    if (!firstPassSet.has(release.release_id)) gaps.not_first_pass++;
    if (!reproducibleSet.has(release.release_id)) gaps.not_reproducible++;
    // Documents a release never reported are unknown, not missing.
    if (!documentedSet.has(release.release_id) && release.docs) {
      if (!release.docs.model_card) gaps.missing_model_card++;
      if (!release.docs.runbook) gaps.missing_runbook++;
      if (!release.docs.readout) gaps.missing_readout++;
    }
    byModel.set(release.model_id, gaps);
  }
  const gapCount = (m: ModelReleaseGaps) => m.rolled_back + m.not_first_pass + m.not_reproducible + m.missing_model_card + m.missing_runbook + m.missing_readout;
  return {
    count: details.length,
    rolled_back: rolledBack,
    by_model: [...byModel.values()].sort((a, b) => gapCount(b) - gapCount(a) || (a.model_id < b.model_id ? -1 : a.model_id > b.model_id ? 1 : 0)),
  };
}

// ---- drift ---------------------------------------------------------------------------------------

async function driftSection(storage: Storage, team: string, asOf: Date, tier1: (id: BuiltInKpiId) => TierValue): Promise<DriftSection> {
  const live = await listLiveReleases(storage, { team, now: asOf });
  const tier1Live = live.filter((release) => release.tier === 1);
  return {
    as_of: iso(asOf),
    live_models: live.length,
    tier1_models: tier1Live.length,
    tier1: { feature_coverage: tier1('drift_feature_coverage'), model_coverage: tier1('drift_model_coverage') },
    tier1_gaps: tier1Live
      .filter((release) => !release.drift_enabled || !release.drift_alerting || release.unmonitored_critical_features.length > 0)
      .map((release) => ({
        model_id: release.model_id,
        release_id: release.release_id,
        team: release.team,
        model_version: release.model_version,
        drift_enabled: release.drift_enabled,
        drift_alerting: release.drift_alerting,
        critical_features: release.critical_features,
        unmonitored_critical_features: [...release.unmonitored_critical_features].sort(),
      }))
      .sort(byString((gap) => `${gap.team}|${gap.model_id}`)),
  };
}

// ---- data freshness, validation and cost ---------------------------------------------------------------------

async function dataCostSection(storage: Storage, team: string, period: Period, contributions: (id: BuiltInKpiId) => Promise<Contribution[]>): Promise<DataCostSection> {
  const scope = { team, from: period.start, to: period.end };
  const [datasets, validations, models, training] = await Promise.all([
    arrivalsByDataset(storage, scope),
    validationsByDataset(storage, scope),
    servingByModel(storage, scope),
    contributions('training_cost_per_run'),
  ]);
  const runs = [...training].sort(byString((c) => c.entity));
  return {
    arrivals: datasets.reduce((sum, dataset) => sum + dataset.arrivals, 0),
    late_arrivals: datasets.reduce((sum, dataset) => sum + dataset.late, 0),
    late_by_dataset: datasets.filter((dataset) => dataset.late > 0),
    validations: validations.reduce((sum, dataset) => sum + dataset.validations, 0),
    failed_validations: validations.reduce((sum, dataset) => sum + dataset.failed, 0),
    failed_validations_by_dataset: validations.filter((dataset) => dataset.failed > 0),
    serving: {
      requests: models.reduce((sum, model) => sum + model.requests, 0),
      cost_usd: models.reduce((sum, model) => sum + model.cost_usd, 0),
      by_model: models,
    },
    training: { runs: runs.length, cost_usd: runs.reduce((sum, run) => sum + (run.value ?? 0), 0) },
  };
}
