/**
 * Writes the Grafana dashboards that carry the KPI catalog (kpi-overview.json, kpi-team.json) from
 * packages/kpi, and refreshes the catalog-derived fields (targets in descriptions, units,
 * thresholds) of the KPI panels of the hand-laid-out ones (kpi-incidents.json,
 * kpi-experiments.json). Run `npm run grafana:generate` after changing the catalog;
 * packages/kpi/test/grafana-dashboards.test.ts fails while a committed dashboard differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CATALOG, GRANULARITIES, applicableRule, emptyEvaluation, granularitiesOf, kpiById, type Granularity, type KpiDefinition, type TargetRule, type TierScope, type Unit } from '../../packages/kpi/src/index.ts';
import { groupByKpiGroup } from '../../packages/format/src/index.ts';

type Json = Record<string, any>;

export const DASHBOARDS_DIR = fileURLToPath(new URL('./dashboards/', import.meta.url));
const DATASOURCE = { type: 'grafana-clickhouse-datasource', uid: 'kpi-clickhouse' };
const WIDTH = 24;

/** The dashboards as files: name -> text, exactly as committed. */
export function generateDashboards(read: (file: string) => string = (file) => readFileSync(`${DASHBOARDS_DIR}${file}`, 'utf8')): Record<string, string> {
  const text = (json: Json) => `${JSON.stringify(json, null, 2)}\n`;
  return {
    'kpi-overview.json': text(overviewDashboard()),
    'kpi-team.json': text(teamDashboard()),
    'kpi-incidents.json': text(refreshKpiPanels(JSON.parse(read('kpi-incidents.json')) as Json)),
    'kpi-experiments.json': text(refreshKpiPanels(JSON.parse(read('kpi-experiments.json')) as Json)),
  };
}

// ---- what the catalog says about a KPI at a scope --------------------------------------------

/** The rule that applies to a scope (the organisation's defaults) if it is the same at every granularity the KPI has. */
function constantRule(kpi: KpiDefinition, tier: TierScope): TargetRule | undefined {
  const rules = GRANULARITIES.map((granularity) => applicableRule(kpi, { granularity, tier, team: '*' }));
  return new Set(rules.map((rule) => JSON.stringify(rule ?? null))).size === 1 ? rules[0] : undefined;
}

const listOf = (items: string[]) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`);

/** The default target of a KPI at a scope, in words, and where its status is judged. */
export function targetSentence(kpi: KpiDefinition, tier: TierScope, scope: string): string {
  const rule = constantRule(kpi, tier);
  if (rule?.kind === 'threshold') return `Default target (${scope}): ${rule.op} ${rule.value}. Team overrides set through the admin API are judged in the scorecard.`;
  if (rule?.kind === 'previous_period') return `Target: no worse than the previous period (${rule.op} previous value); see the scorecard for the status.`;
  const tier1 = kpi.targets.find((candidate) => candidate.kind === 'threshold' && candidate.tier1Only);
  if (tier1?.kind === 'threshold' && tier !== '1') return `No target at this scope: the catalog's target (${tier1.op} ${tier1.value}) applies to tier 1 only.`;
  const perGranularity = granularitiesOf(kpi).map((granularity) => ({ granularity, rule: applicableRule(kpi, { granularity, tier, team: '*' }) }));
  const given = perGranularity.flatMap(({ granularity, rule: each }) => (each?.kind === 'threshold' ? [`${each.op} ${each.value} per ${granularity}`] : []));
  if (given.length === 0) return 'No default target: set one per team.';
  const none = perGranularity.filter(({ rule: each }) => each === undefined).map(({ granularity }) => granularity);
  return `Default targets: ${given.join(', ')}${none.length ? `, none per ${listOf(none)}` : ''}. The scorecard judges it for the chosen granularity (team overrides included).`;
}

/** How Grafana shows a unit: its unit id, decimals, and the axis range of a fraction. */
const UNIT_DISPLAY: Record<Unit, { unit: string; decimals: number; fraction?: true }> = {
  count: { unit: 'none', decimals: 0 },
  ratio: { unit: 'percentunit', decimals: 1, fraction: true },
  share: { unit: 'percentunit', decimals: 1, fraction: true },
  hours: { unit: 'h', decimals: 1 },
  days: { unit: 'd', decimals: 1 },
  ms: { unit: 'ms', decimals: 0 },
  usd: { unit: 'currencyUSD', decimals: 2 },
  usd_per_1k_requests: { unit: 'currencyUSD', decimals: 3 },
  score: { unit: 'none', decimals: 2 },
  number: { unit: 'none', decimals: 3 },
  correlation: { unit: 'none', decimals: 2 },
  relative_lift: { unit: 'percentunit', decimals: 2 },
};

/** The value of a period with nothing in it (0 for counts and sums, null otherwise). */
const emptyValueOf = (kpi: KpiDefinition) => emptyEvaluation(kpi, { period: { start: new Date(0), end: new Date(0) }, at: new Date(0) }).value;

/**
 * Threshold steps: green exactly where the target is met, where the rule is the same at every
 * granularity (Grafana cannot vary thresholds with a variable); none otherwise.
 */
export function thresholdSteps(kpi: KpiDefinition, tier: TierScope): { color: string; value: number | null }[] {
  const rule = constantRule(kpi, tier);
  if (rule?.kind !== 'threshold') return [{ color: 'text', value: null }];
  if (rule.op === '>=') return [{ color: 'red', value: null }, { color: 'green', value: rule.value }];
  // Just above the target: counts step by 1, the rest by far less than any value shown.
  const above = kpi.unit === 'count' ? rule.value + 1 : Number((rule.value + 1e-9).toFixed(12));
  return [{ color: 'green', value: null }, { color: 'red', value: above }];
}

const thresholds = (kpi: KpiDefinition, tier: TierScope) => ({ mode: 'absolute', steps: thresholdSteps(kpi, tier) });
const coloured = (kpi: KpiDefinition, tier: TierScope) => constantRule(kpi, tier)?.kind === 'threshold';

// ---- panels ----------------------------------------------------------------------------------

const query = (rawSql: string, format: 0 | 1) => ({ refId: 'A', datasource: DATASOURCE, editorType: 'sql', queryType: 'sql', format, rawSql });
const row = (id: number, title: string, y: number) => ({ id, type: 'row', title, collapsed: false, gridPos: { h: 1, w: WIDTH, x: 0, y }, panels: [] });

/** A KPI's value in the period of the chosen granularity that contains the end of the time range. */
function kpiStat(kpi: KpiDefinition, tier: TierScope, id: number, gridPos: Json): Json {
  const display = UNIT_DISPLAY[kpi.unit];
  const scope = tier === 'all' ? 'whole organisation' : `tier ${tier}`;
  const rawSql = `-- ${kpi.name}, whole organisation, tier ${tier}, in the period (of the chosen granularity) that contains the end of the time range.
SELECT value
FROM kpi.kpi_values FINAL
WHERE kpi = '${kpi.id}'
  AND granularity = \${granularity:sqlstring}
  AND team = '*'
  AND tier = '${tier}'
  AND period_start = toDateTime(date_trunc(\${granularity:sqlstring}, $__toTime, 'UTC'), 'UTC')`;
  return {
    id,
    type: 'stat',
    title: tier === 'all' ? kpi.name : `${kpi.name} (tier ${tier})`,
    description: `${kpi.description} ${targetSentence(kpi, tier, scope)}`,
    datasource: DATASOURCE,
    gridPos,
    targets: [query(rawSql, 1)],
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '/^value$/', values: false }, orientation: 'auto', textMode: 'value', colorMode: 'value', graphMode: 'none', justifyMode: 'center', wideLayout: true, showPercentChange: false },
    fieldConfig: {
      defaults: { unit: display.unit, decimals: display.decimals, noValue: emptyValueOf(kpi) === 0 ? '0' : 'No data', color: { mode: 'thresholds' }, thresholds: thresholds(kpi, tier), displayName: kpi.name },
      overrides: [],
    },
  };
}

/** The series' drawing: bars for counts and sums of lifts, lines for the rest; the target dashed where it is constant. */
function seriesFieldDefaults(kpi: KpiDefinition, tier: TierScope): Json {
  const display = UNIT_DISPLAY[kpi.unit];
  const bars = kpi.unit === 'count' || kpi.unit === 'relative_lift';
  return {
    unit: display.unit,
    decimals: display.decimals,
    ...(display.fraction ? { min: 0, max: 1 } : {}),
    color: { mode: 'palette-classic' },
    thresholds: thresholds(kpi, tier),
    custom: {
      drawStyle: bars ? 'bars' : 'line',
      lineWidth: bars ? 1 : 2,
      fillOpacity: bars ? 70 : 10,
      pointSize: 6,
      showPoints: 'always',
      spanNulls: false,
      barAlignment: -1,
      axisSoftMin: 0,
      thresholdsStyle: { mode: coloured(kpi, tier) ? 'dashed' : 'off' },
    },
  };
}

/** A series' description: the KPI's, its target, and what the dashed line is. */
const seriesDescription = (kpi: KpiDefinition, tier: TierScope, label: string = tier) =>
  `${kpi.description} ${targetSentence(kpi, tier, `tier ${label}`)}${coloured(kpi, tier) ? ` The dashed line is the ${label === '1' ? 'tier-1 ' : ''}target.` : ''}`;

/** A team's KPI (at the row's tier) for every period of the chosen granularity that overlaps the time range. */
function kpiSeries(kpi: KpiDefinition, tier: TierScope, id: number, gridPos: Json): Json {
  const rawSql = `SELECT period_start AS time, value AS \`${kpi.name}\`
FROM kpi.kpi_values FINAL
WHERE kpi = '${kpi.id}'
  AND granularity = \${granularity:sqlstring}
  AND team = '$team'
  AND tier = '${tier}'
  AND period_start BETWEEN toDateTime(date_trunc(\${granularity:sqlstring}, $__fromTime, 'UTC'), 'UTC') AND $__toTime
ORDER BY time`;
  return {
    id,
    type: 'timeseries',
    title: `${kpi.name} per \${granularity}`,
    description: seriesDescription(kpi, tier),
    datasource: DATASOURCE,
    gridPos,
    targets: [query(rawSql, 0)],
    options: { legend: { showLegend: false, displayMode: 'list', placement: 'bottom', calcs: [] }, tooltip: { mode: 'multi', sort: 'none' } },
    fieldConfig: { defaults: seriesFieldDefaults(kpi, tier), overrides: [] },
  };
}

// ---- the scorecard ---------------------------------------------------------------------------

const sqlNumber = (value: number | null | undefined) => (value === null || value === undefined ? 'NULL' : String(value));
const sqlText = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** A KPI's row of the scorecard's catalog: its default target per granularity at tier all (a day takes the week's). */
function catalogRow(kpi: KpiDefinition, position: number): string {
  const columns: Granularity[] = ['week', 'month', 'quarter', 'year'];
  const rules = columns.map((granularity) => applicableRule(kpi, { granularity, tier: 'all', team: '*' }));
  const kind = rules.find((rule) => rule !== undefined)?.kind ?? 'none';
  const op = rules.find((rule) => rule !== undefined)?.op ?? '';
  const targets = rules.map((rule) => sqlNumber(rule?.kind === 'threshold' ? rule.value : null));
  return `      (${position}, ${sqlText(kpi.id)}, ${sqlText(kpi.name)}, ${sqlText(kpi.unit)}, '${kind}', '${op}', ${targets.join(', ')}, ${sqlNumber(emptyValueOf(kpi))})`;
}

/** Every KPI of the catalog judged as the API does for a team scope (SQL text: `team` is '*' or '$team'). */
function judgedCatalog(team: string): string {
  return `WITH
  \${granularity:sqlstring} AS chosen_granularity,
  toDateTime(date_trunc(chosen_granularity, $__toTime, 'UTC'), 'UTC') AS this_period,
  toDateTime(date_trunc(chosen_granularity, this_period - INTERVAL 1 SECOND, 'UTC'), 'UTC') AS previous_period,
  -- The catalog at tier all: its target rule, its default target for each granularity (SPEC section 5: a
  -- count target applies only where one is given, the year taking 4 x the quarter's; a day takes the week's,
  -- since no count target is given per day or week), and the value of a
  -- period that has nothing in it (0 for counts and sums, null for ratios, means and medians).
  catalog AS (
    SELECT *
    FROM VALUES(
      'position UInt8, kpi String, name String, unit String, rule String, op String, target_week Nullable(Float64), target_month Nullable(Float64), target_quarter Nullable(Float64), target_year Nullable(Float64), empty_value Nullable(Float64)',
${CATALOG.map((kpi, index) => catalogRow(kpi, index + 1)).join(',\n')}
    )
  ),
  stored AS (
    SELECT kpi, period_start, value, 1 AS found
    FROM kpi.kpi_values FINAL
    WHERE granularity = chosen_granularity
      AND team = '${team}'
      AND tier = 'all'
      AND period_start IN (this_period, previous_period)
  ),
  -- Targets set through the admin API replace the default; one for the chosen granularity wins over one for every granularity.
  overrides AS (
    SELECT kpi, argMax(op, granularity = chosen_granularity) AS op, argMax(value, granularity = chosen_granularity) AS target, 1 AS found
    FROM kpi.target_overrides FINAL
    WHERE deleted = 0 AND team = '${team}' AND granularity IN ('', chosen_granularity)
    GROUP BY kpi
  ),
${JUDGED}`;
}

const JUDGED = `  judged AS (
    SELECT
      catalog.position AS position,
      catalog.name AS name,
      catalog.unit AS unit,
      if(cur.found = 1, cur.value, catalog.empty_value) AS value,
      if(prev.found = 1, prev.value, catalog.empty_value) AS previous_value,
      overrides.found = 1 AS overridden,
      if(overridden, overrides.op, catalog.op) AS op,
      multiIf(
        overridden, overrides.target,
        catalog.rule = 'threshold', multiIf(
          chosen_granularity IN ('day', 'week'), catalog.target_week,
          chosen_granularity = 'month', catalog.target_month,
          chosen_granularity = 'quarter', catalog.target_quarter,
          chosen_granularity = 'year', catalog.target_year,
          NULL
        ),
        catalog.rule = 'previous_period', previous_value,
        NULL
      ) AS target,
      multiIf(
        value IS NULL, 'no_data',
        target IS NULL, 'no_target',
        (op = '>=' AND value >= target) OR (op = '<=' AND value <= target), 'met',
        'breached'
      ) AS status
    FROM catalog
    LEFT JOIN (SELECT kpi, value, found FROM stored WHERE period_start = this_period) AS cur ON cur.kpi = catalog.kpi
    LEFT JOIN (SELECT kpi, value, found FROM stored WHERE period_start = previous_period) AS prev ON prev.kpi = catalog.kpi
    LEFT JOIN overrides ON overrides.kpi = catalog.kpi
  )`;

const STATUS_COLOURS = [
  ['met', 'green', 'met'],
  ['breached', 'red', 'breached'],
  ['no_target', 'blue', 'no target'],
  ['no_data', 'text', 'no data'],
] as const;

/** How many KPIs meet, breach or have no target or no data (`team` as in judgedCatalog; `who` in words). */
function statusPanel(team: string, who: string): Json {
  return {
    id: 2,
    type: 'stat',
    title: 'KPI status, ${granularity} of the range end',
    description: `Status of every KPI of the catalog for ${who}, in the \${granularity} that contains the end of the time range, judged as the API does: no_data when the value is null, no_target when no target applies, otherwise met or breached. Targets from KPI_TARGETS_FILE are not visible to Grafana.`,
    datasource: DATASOURCE,
    gridPos: { h: 4, w: WIDTH, x: 0, y: 1 },
    targets: [
      query(
        `-- How many KPIs meet, breach or have no target or no data in the period (of the chosen granularity) that contains the end of the time range (${who}).\n${judgedCatalog(team)}\nSELECT\n${STATUS_COLOURS.map(([status]) => `  countIf(status = '${status}') AS ${status}`).join(',\n')}\nFROM judged`,
        1,
      ),
    ],
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, orientation: 'horizontal', textMode: 'value_and_name', colorMode: 'background', graphMode: 'none', justifyMode: 'center', wideLayout: true, showPercentChange: false },
    fieldConfig: {
      defaults: { unit: 'none', decimals: 0, color: { mode: 'fixed', fixedColor: 'text' }, thresholds: { mode: 'absolute', steps: [{ color: 'text', value: null }] } },
      overrides: STATUS_COLOURS.map(([status, colour, label]) => ({
        matcher: { id: 'byName', options: status },
        properties: [
          { id: 'color', value: { mode: 'fixed', fixedColor: colour } },
          { id: 'displayName', value: label },
        ],
      })),
    },
  };
}

/** Every KPI with its value, target and status (`team` as in judgedCatalog; `who` in words). */
function scorecardPanel(team: string, who: string, description: string): Json {
  const columns = "SELECT\n  name AS KPI,\n  value AS Value,\n  unit AS Unit,\n  target AS Target,\n  status AS Status,\n  previous_value AS `Previous period`\nFROM judged\nORDER BY position";
  const mappings = Object.fromEntries(STATUS_COLOURS.map(([status, color, text], index) => [status, { color, index, text }]));
  return {
    id: 3,
    type: 'table',
    title: 'Scorecard, ${granularity} of the range end',
    description,
    datasource: DATASOURCE,
    gridPos: { h: 16, w: WIDTH, x: 0, y: 5 },
    targets: [query(`-- Scorecard of the period that contains the end of the time range (${who}): every KPI of the catalog\n-- with its value, target and status, judged as the API does (SPEC section 5).\n${judgedCatalog(team)}\n${columns}`, 1)],
    options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
    fieldConfig: {
      defaults: { decimals: 3, custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false }, thresholds: { mode: 'absolute', steps: [{ color: 'text', value: null }] } },
      overrides: [
        {
          matcher: { id: 'byName', options: 'Status' },
          properties: [
            { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
            { id: 'mappings', value: [{ type: 'value', options: mappings }] },
          ],
        },
        { matcher: { id: 'byName', options: 'KPI' }, properties: [{ id: 'custom.width', value: 260 }] },
      ],
    },
  };
}

// ---- dashboards ------------------------------------------------------------------------------

const granularityVariable = () => ({
  name: 'granularity',
  label: 'Granularity',
  description: 'The periods shown: UTC days (the KPIs that measure daily; the others have no daily values), ISO weeks, calendar months, quarters or years (UTC).',
  type: 'custom',
  query: GRANULARITIES.join(','),
  current: { selected: true, text: 'quarter', value: 'quarter' },
  options: GRANULARITIES.map((granularity) => ({ selected: granularity === 'quarter', text: granularity, value: granularity })),
  includeAll: false,
  multi: false,
  hide: 0,
  skipUrlSync: false,
});

function dashboard(meta: { uid: string; title: string; description: string }, variables: Json[], panels: Json[]): Json {
  return {
    ...meta,
    tags: ['kpi-pipeline'],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    weekStart: 'monday',
    liveNow: false,
    refresh: '5m',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-12M/M', to: 'now' },
    timepicker: {},
    links: [{ type: 'dashboards', tags: ['kpi-pipeline'], asDropdown: true, includeVars: false, keepTime: true, title: 'KPI dashboards', icon: 'external link', tooltip: '', url: '', targetBlank: false }],
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    templating: { list: variables },
    panels,
  };
}

interface KpiRow {
  title: string;
  items: readonly KpiDefinition[];
  /** The tier the row's panels show. */
  tier: TierScope;
}

/**
 * Rows of KPI panels after the scorecard (which ends at y = 21), each panel `w` x `h`, as many a
 * line as fit.
 */
function kpiRows(rows: KpiRow[], size: { w: number; h: number }, panel: (kpi: KpiDefinition, tier: TierScope, id: number, gridPos: Json) => Json): Json[] {
  const panels: Json[] = [];
  let y = 21;
  let id = 4;
  const perLine = WIDTH / size.w;
  for (const { title, items, tier } of rows) {
    panels.push(row(id++, title, y++));
    items.forEach((kpi, index) => panels.push(panel(kpi, tier, id++, { h: size.h, w: size.w, x: (index % perLine) * size.w, y: y + Math.floor(index / perLine) * size.h })));
    y += Math.ceil(items.length / perLine) * size.h;
  }
  return panels;
}

/** One row per catalog group (groups in the dashboard's and reports' order). */
const groupRows = (title: (group: string) => string): KpiRow[] => groupByKpiGroup(CATALOG).map((group) => ({ title: title(group.title), items: group.items, tier: 'all' }));

/** KPIs whose catalog target applies to tier 1 only: the overview shows them at tier 1 too. */
const tier1Targeted = CATALOG.filter((kpi) => kpi.targets.some((rule) => rule.kind === 'threshold' && rule.tier1Only));

export function overviewDashboard(): Json {
  const rows: KpiRow[] = [...groupRows((group) => `${group}: \${granularity} of the range end`), { title: 'Tier-1 targets: ${granularity} of the range end', items: tier1Targeted, tier: '1' }];
  const description = 'Every KPI for the whole organisation in the ${granularity} that contains the end of the time range (tier all). Default targets are the catalog\'s at this scope (tier-1-only targets do not apply); targets set through the admin API replace them. "previous period" targets are judged against the previous ${granularity}.';
  return dashboard(
    {
      uid: 'kpi-overview',
      title: 'KPI overview: organisation',
      description: `Every KPI of the catalog for the whole organisation (team *, tier all) in the period of the chosen granularity (${listOf([...GRANULARITIES])}; default quarter) that contains the end of the time range, with its status; values from kpi_values as the workers computed them.`,
    },
    [granularityVariable()],
    [row(1, 'Scorecard', 0), statusPanel('*', 'the whole organisation'), scorecardPanel('*', 'the whole organisation', description), ...kpiRows(rows, { w: 4, h: 4 }, kpiStat)],
  );
}

const kpiIdOf = (panel: Json): string | undefined => /\bkpi = '(\w+)'/.exec(panel.targets?.[0]?.rawSql ?? '')?.[1];

const teamVariable = () => {
  const teams = "SELECT DISTINCT team FROM kpi.events FINAL WHERE team != '' ORDER BY team";
  return { name: 'team', label: 'Team', description: 'A team that has sent events; All = the whole organisation.', type: 'query', datasource: DATASOURCE, query: teams, definition: teams, refresh: 1, includeAll: true, allValue: '*', multi: false, sort: 1, regex: '', current: {}, options: [], hide: 0, skipUrlSync: false };
};

export function teamDashboard(): Json {
  const rows = groupRows((group) => `${group}: $team per \${granularity}`);
  const description = 'Every KPI for team $team in the ${granularity} that contains the end of the time range (tier all). Default targets are the catalog\'s at this scope (tier-1-only targets do not apply); targets set through the admin API for the team replace them. "previous period" targets are judged against the previous ${granularity}.';
  return dashboard(
    {
      uid: 'kpi-team',
      title: 'KPI by team',
      description: `One team's KPIs (tier all) per period of the chosen granularity (${listOf([...GRANULARITIES])}; default quarter), and its scorecard for the period that contains the end of the time range. "All" is the whole organisation (team *).`,
    },
    [teamVariable(), granularityVariable()],
    [row(1, 'Scorecard: $team', 0), statusPanel('$team', 'team $team'), scorecardPanel('$team', 'team $team', description), ...kpiRows(rows, { w: 6, h: 7 }, kpiSeries)],
  );
}

// ---- hand-laid-out dashboards: their KPI panels' catalog fields ----------------------------------

/**
 * The catalog-derived fields of a panel that shows one KPI's value (a stat or a series of
 * `SELECT value` / `value AS`): its unit and thresholds, and the target sentence
 * that ends its description. The tier is the query's (`$tier` draws the tier-1 target).
 */
function refreshKpiPanels(json: Json): Json {
  const showsValue = (sql: string) => /^SELECT value$|\bvalue AS /m.test(sql);
  json.panels = (json.panels as Json[]).map((panel) => {
    const sql = panel.targets?.[0]?.rawSql as string | undefined;
    const kpi = sql && showsValue(sql) ? kpiById(kpiIdOf(panel) ?? '') : undefined;
    if (!kpi || (panel.type !== 'stat' && panel.type !== 'timeseries')) return panel;
    const chosenTier = sql!.includes("tier = '$tier'");
    const tier = (chosenTier ? '1' : (/\btier = '(\w+)'/.exec(sql!)?.[1] ?? 'all')) as TierScope;
    // A series of the chosen tier draws the tier-1 target; where every tier has the same, it is the chosen tier's.
    const label = chosenTier && JSON.stringify(constantRule(kpi, 'all')) === JSON.stringify(constantRule(kpi, '1')) ? '$tier' : tier;
    const defaults = panel.fieldConfig.defaults as Json;
    const display = UNIT_DISPLAY[kpi.unit];
    const fresh: Json = { ...defaults, unit: display.unit, thresholds: thresholds(kpi, tier) };
    if (panel.type === 'timeseries') fresh.custom = { ...defaults.custom, thresholdsStyle: { mode: coloured(kpi, tier) ? 'dashed' : 'off' } };
    const description = panel.type === 'timeseries' ? seriesDescription(kpi, tier, label) : `${kpi.description} ${targetSentence(kpi, tier, `tier ${label}`)}`;
    return { ...panel, description, fieldConfig: { ...panel.fieldConfig, defaults: fresh } };
  });
  return json;
}

/** `npx tsx dashboards/grafana/generate.ts`: writes the dashboards. */
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const files = generateDashboards();
  for (const [file, text] of Object.entries(files)) writeFileSync(`${DASHBOARDS_DIR}${file}`, text);
  console.log(`wrote ${Object.keys(files).join(', ')} in ${DASHBOARDS_DIR}`);
}
