/** View 3: one KPI over periods, its definition, a per-team comparison and the breakdown of a period. */
import type { Breakdown, KpiDescription as KpiDefinition, KpiValue, TargetRule } from '@kpi/api-contract';
import { TIER_SCOPES } from '@kpi/schemas';
import { api, NotAvailable } from '../api.ts';
import { kpiChart, STATUS_COLOUR, type KpiChart } from '../charts.ts';
import { teamLabel, type Context, type Rendered } from '../context.ts';
import { forecastBadge, h, notice, statusBadge } from '../dom.ts';
import { formatDate, formatNumber, formatPeriod, formatTarget, formatTime, formatValue, opFor, UNIT_LABEL, type Granularity } from '../format.ts';
import { currentQuarter, periodBounds, type Tier } from '../state.ts';

const ENTITY_ROWS = 200;
/** Whether the whole entity list is shown; in memory, per KPI and period. */
let showAllEntities = '';

function describeRule(rule: TargetRule, kpi: KpiDefinition): string {
  if (rule.kind === 'previous_period') return `${rule.op === '<=' ? '≤' : '≥'} the previous period's value`;
  const scope = [rule.granularities?.length ? `per ${rule.granularities.join('/')}` : '', rule.tier1Only ? 'tier 1 only' : ''].filter(Boolean).join(', ');
  return `${rule.op === '<=' ? '≤' : '≥'} ${formatValue(rule.value, kpi.unit)}${scope ? ` (${scope})` : ''}`;
}

const dayOf = (iso: string) => iso.slice(0, 10);

function renderDetails(details: Record<string, unknown>, unit: KpiDefinition['unit']) {
  const entries = Object.entries(details ?? {});
  if (entries.length === 0) return null;
  return h(
    'dl',
    { class: 'details' },
    entries.map(([key, value]) => [
      h('dt', {}, key.replaceAll('_', ' ')),
      h(
        'dd',
        {},
        typeof value === 'number'
          ? key === 'p90' || key.endsWith('_p90') || key === 'median'
            ? formatValue(value, unit)
            : formatNumber(value)
          : value === null
            ? '—'
            : typeof value === 'object'
              ? h('code', { class: 'json' }, JSON.stringify(value, null, 1))
              : String(value),
      ),
    ]),
  );
}

/** One team's value for the selected period, for the comparison table; null when it could not be read. */
interface TeamValue {
  team: string;
  value: KpiValue | null;
}

/** What the view shows of one KPI: its series, the selected period and what was loaded for it. */
interface KpiPage {
  ctx: Context;
  kpi: KpiDefinition;
  tier: Tier;
  granularity: Granularity;
  values: KpiValue[];
  /** Index of the selected period in `values`. */
  selected: number;
  current: KpiValue | undefined;
  /** null: the server does not offer breakdowns (or there is no period). */
  breakdown: Breakdown | null;
  comparison: TeamValue[];
  previousPeriodTarget: boolean;
  periodLabel: string;
  selectPeriod: (index: number) => void;
}

const tierSuffix = (tier: Tier, separator: string) => (tier !== 'all' ? `${separator}tier ${tier}` : '');

function unknownKpi(ctx: Context): Rendered {
  return {
    title: 'Unknown KPI',
    node: h('section', { class: 'view' }, h('h1', { id: 'view-title', tabindex: '-1' }, 'Unknown KPI'), notice('error', `There is no KPI "${ctx.state.kpi}". `, h('a', { href: ctx.href({ view: 'scorecard', kpi: null }), 'data-nav': '' }, 'Back to the scorecard'))),
  };
}

/** The breakdown of the selected period and, per team, its value for that period (in parallel). */
async function loadPeriod(ctx: Context, kpi: KpiDefinition, granularity: Granularity, tier: Tier, current: KpiValue | undefined): Promise<[Breakdown | null, TeamValue[]]> {
  if (!current) return [null, []];
  const { state } = ctx;
  return Promise.all([
    api.get('/v1/kpis/:id/breakdown', { params: { id: kpi.id }, query: { granularity, period_start: dayOf(current.period_start), team: state.team, tier } }).catch((error: unknown) => (error instanceof NotAvailable ? null : Promise.reject(error))),
    // One values call per team for the selected period (and the organisation, for reference, to those who read it).
    Promise.all(
      [...(ctx.principal.teams === null ? ['all'] : []), ...ctx.teams.map((t) => t.team)].map((team) =>
        api.get('/v1/kpis/:id/values', { params: { id: kpi.id }, query: { granularity, team, tier, from: dayOf(current.period_start), to: dayOf(current.period_end) } }).then(
          (result) => ({ team, value: result.values[0] ?? null }),
          () => ({ team, value: null as KpiValue | null }),
        ),
      ),
    ),
  ]);
}

async function loadKpiPage(ctx: Context, kpi: KpiDefinition): Promise<KpiPage> {
  const { state } = ctx;
  const tier: Tier = kpi.tiered ? state.tier : 'all';
  // A granularity this KPI does not offer (days, picked on a daily KPI) falls back to months.
  const granularity: Granularity = kpi.granularities.includes(state.granularity) ? state.granularity : 'month';
  // The last 12 periods up to the selected quarter's end (the API's default when it is the current quarter).
  const range = state.quarter === currentQuarter() ? {} : { to: periodBounds(state.quarter).end };
  const series = await api.get('/v1/kpis/:id/values', { params: { id: kpi.id }, query: { granularity, team: state.team, tier, ...range } });
  const values = series.values;
  let selected = state.period ? values.findIndex((v) => dayOf(v.period_start) === state.period) : -1;
  if (selected < 0) selected = values.length - 1;
  const current: KpiValue | undefined = values[selected];
  const [breakdown, comparison] = await loadPeriod(ctx, kpi, granularity, tier, current);
  return {
    ctx,
    kpi,
    tier,
    granularity,
    values,
    selected,
    current,
    breakdown,
    comparison,
    previousPeriodTarget: kpi.targets.some((t) => t.kind === 'previous_period'),
    periodLabel: current ? formatPeriod(current.period_start, granularity) : '',
    selectPeriod: (index: number) => {
      const value = values[index];
      if (value) ctx.navigate({ period: dayOf(value.period_start) });
    },
  };
}

function definitionPanel(kpi: KpiDefinition) {
  return h(
    'section',
    { class: 'panel definition', 'aria-labelledby': 'definition-title' },
    h('h2', { id: 'definition-title' }, 'Definition'),
    h('p', {}, kpi.description),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Unit'),
      h('dd', {}, UNIT_LABEL[kpi.unit] ?? kpi.unit),
      h('dt', {}, 'Direction'),
      h('dd', {}, kpi.direction === 'higher_is_better' ? 'higher is better' : 'lower is better'),
      h('dt', {}, 'Targets'),
      h('dd', {}, kpi.targets.length ? h('ul', { class: 'plain' }, kpi.targets.map((rule) => h('li', {}, describeRule(rule, kpi)))) : 'none'),
      h('dt', {}, 'Tiers'),
      h('dd', {}, kpi.tiered ? 'by tier (1, 2, 3) or all' : 'all only (its events carry no tier)'),
      h('dt', {}, 'Id'),
      h('dd', {}, h('code', {}, kpi.id)),
    ),
  );
}

/** The granularity and (for a tiered KPI) tier pickers above the chart. */
function seriesControls({ ctx, kpi, granularity, tier }: KpiPage) {
  return h(
    'div',
    { class: 'controls', role: 'group', 'aria-label': 'Series options' },
    h(
      'label',
      {},
      'Granularity ',
      h(
        'select',
        { id: 'granularity', onchange: (e: Event) => ctx.navigate({ granularity: (e.target as HTMLSelectElement).value as Granularity, period: null }) },
        kpi.granularities.map((g) => h('option', { value: g, selected: g === granularity }, g)),
      ),
    ),
    kpi.tiered
      ? h(
          'label',
          {},
          'Tier ',
          h(
            'select',
            { id: 'tier', onchange: (e: Event) => ctx.navigate({ tier: (e.target as HTMLSelectElement).value as Tier }) },
            TIER_SCOPES.map((t) => h('option', { value: t, selected: t === tier }, t === 'all' ? 'all tiers' : `tier ${t}`)),
          ),
        )
      : null,
  );
}

/** The chart's legend: status marks, the target line, the forecast's mark. */
function chartLegend() {
  return h(
    'p',
    { class: 'muted legend-note' },
    h('span', { class: 'mark', style: `color:${STATUS_COLOUR.met}` }, '●'),
    ' met  ',
    h('span', { class: 'mark', style: `color:${STATUS_COLOUR.breached}` }, '◆'),
    ' breached  ',
    h('span', { class: 'mark', style: `color:${STATUS_COLOUR.no_target}` }, '●'),
    ' no target  · dashed line: the target each period was judged against · ',
    h('span', { class: 'mark', style: 'color:#1d4ed8' }, '○'),
    ' the projected end of the period under way, its bar the 80 % band · click a period for its breakdown',
  );
}

/** One row per period, newest first, each with a button selecting it for the breakdown. */
function valuesTable({ kpi, granularity, values, selected, previousPeriodTarget, selectPeriod }: KpiPage) {
  const row = (v: KpiValue, i: number) =>
    h(
      'tr',
      { class: i === selected ? 'selected' : null, 'aria-current': i === selected ? 'true' : null, 'data-period': dayOf(v.period_start) },
      h('th', { scope: 'row' }, formatPeriod(v.period_start, granularity)),
      h('td', { class: 'num', 'data-role': 'value' }, formatValue(v.value, kpi.unit)),
      h('td', { class: 'num' }, v.numerator === null && v.denominator === null ? '—' : `${formatNumber(v.numerator)} / ${formatNumber(v.denominator)}`),
      h('td', { class: 'num' }, formatNumber(v.sample_size, 0)),
      h('td', { class: 'num' }, formatTarget(v.target, kpi.unit, kpi.direction, previousPeriodTarget)),
      h('td', {}, statusBadge(v.status)),
      h(
        'td',
        {},
        h(
          'button',
          { type: 'button', class: 'link-button', 'data-focus': `period-${dayOf(v.period_start)}`, 'aria-pressed': String(i === selected), onclick: () => selectPeriod(i) },
          'Breakdown',
          h('span', { class: 'sr-only' }, ` of ${formatPeriod(v.period_start, granularity)}`),
        ),
      ),
    );
  return h(
    'table',
    { class: 'data values-table' },
    h('caption', { class: 'sr-only' }, `${kpi.name} per ${granularity}`),
    h('thead', {}, h('tr', {}, ['Period', 'Value', 'Numerator / denominator', 'Sample size', 'Target', 'Status', ''].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, values.map(row).reverse()),
  );
}

/** Every team's value for the selected period, each a link to that team's view. */
function teamComparison({ ctx, kpi, tier, comparison, periodLabel }: KpiPage) {
  const { state } = ctx;
  const row = (c: TeamValue) =>
    h(
      'tr',
      { class: c.team === state.team ? 'selected' : null },
      h('th', { scope: 'row' }, h('a', { href: ctx.href({ team: c.team }), 'data-nav': '', 'data-focus': `team-${c.team}`, 'aria-current': c.team === state.team ? 'true' : null }, c.team === 'all' ? 'all (organisation)' : c.team)),
      h('td', { class: 'num' }, c.value ? formatValue(c.value.value, kpi.unit) : 'unavailable'),
      h('td', { class: 'num' }, c.value ? formatNumber(c.value.sample_size, 0) : '—'),
      h('td', {}, c.value ? statusBadge(c.value.status) : '—'),
    );
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'compare-title' },
    h('h2', { id: 'compare-title' }, `Teams · ${periodLabel}${tierSuffix(tier, ' · ')}`),
    ctx.teams.length === 0
      ? h('p', { class: 'muted' }, 'No team has sent events yet.')
      : h('table', { class: 'data compact' }, h('thead', {}, h('tr', {}, ['Team', 'Value', 'Sample', 'Status'].map((label) => h('th', { scope: 'col' }, label)))), h('tbody', {}, comparison.map(row))),
  );
}

/** The breakdown's headline: value, status, target, numerator / denominator, sample size and period. */
function breakdownSummary(breakdown: Breakdown, { kpi, previousPeriodTarget }: KpiPage) {
  return h(
    'p',
    { class: 'summary' },
    h('strong', {}, formatValue(breakdown.value, kpi.unit)),
    ' ',
    statusBadge(breakdown.status),
    ` · target ${formatTarget(breakdown.target, kpi.unit, kpi.direction, previousPeriodTarget)}`,
    breakdown.numerator !== null || breakdown.denominator !== null ? ` · ${formatNumber(breakdown.numerator)} / ${formatNumber(breakdown.denominator)}` : '',
    ` · sample size ${formatNumber(breakdown.sample_size, 0)}`,
    ` · ${formatDate(breakdown.period_start)} to ${formatDate(breakdown.period_end)} (exclusive)`,
  );
}

function entitiesTable(entities: Breakdown['entities']) {
  const row = (e: Breakdown['entities'][number]) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('code', {}, e.entity)),
      h('td', {}, e.kind),
      h('td', {}, e.team),
      h('td', {}, e.tier === null ? '—' : String(e.tier)),
      h('td', {}, formatTime(e.anchor)),
      h('td', {}, e.in_numerator ? '✓ yes' : 'no'),
      h('td', {}, e.in_denominator ? '✓ yes' : 'no'),
      h('td', { class: 'num' }, formatNumber(e.value)),
      h('td', {}, e.note ?? ''),
    );
  return h(
    'div',
    { class: 'scroll-x' },
    h(
      'table',
      { class: 'data compact entities' },
      h('thead', {}, h('tr', {}, ['Entity', 'Kind', 'Team', 'Tier', 'Anchor', 'In numerator', 'In denominator', 'Value', 'Note'].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, entities.map(row)),
    ),
  );
}

/** Entities the KPI counts once their defining event arrives (the breakdown's diagnostics). */
function waitingList(waiting: NonNullable<Breakdown['diagnostics']>['waiting_for_defining_event']) {
  if (!waiting) return h('p', { class: 'muted' }, 'No diagnostics.');
  return h(
    'div',
    {},
    h('p', {}, h('strong', {}, formatNumber(waiting.total, 0)), waiting.explanation ? ` — ${waiting.explanation}` : ''),
    waiting.entities?.length ? h('ul', { class: 'plain waiting' }, waiting.entities.map((entity) => h('li', {}, h('code', {}, typeof entity === 'string' ? entity : JSON.stringify(entity))))) : null,
  );
}

/** The selected period's breakdown: its summary, details, the first ENTITY_ROWS entities (or all) and those waiting. */
function breakdownPanel(page: KpiPage) {
  const { ctx, kpi, granularity, tier, current, breakdown, periodLabel } = page;
  const { state } = ctx;
  const title = h('h2', { id: 'breakdown-title', tabindex: '-1' }, `Breakdown · ${periodLabel} · ${teamLabel(state.team)}${tierSuffix(tier, ' · ')}`);
  if (!current) return h('section', { class: 'panel' }, title, h('p', { class: 'muted' }, 'No period.'));
  if (!breakdown) return h('section', { class: 'panel', id: 'breakdown' }, title, notice('unavailable', 'The breakdown is not available on this server.'));
  const key = `${kpi.id}|${granularity}|${state.team}|${tier}|${dayOf(breakdown.period_start)}`;
  const all = showAllEntities === key;
  const entities = all ? breakdown.entities : breakdown.entities.slice(0, ENTITY_ROWS);
  return h(
    'section',
    { class: 'panel', id: 'breakdown', 'aria-labelledby': 'breakdown-title' },
    title,
    breakdownSummary(breakdown, page),
    breakdown.diagnostics?.null_reason ? notice('info', `No value: ${breakdown.diagnostics.null_reason}`) : null,
    renderDetails(breakdown.details, kpi.unit),
    h('h3', {}, `Entities (${formatNumber(breakdown.entities.length, 0)})`),
    breakdown.entities.length === 0 ? h('p', { class: 'muted' }, 'No entity contributes to this value.') : entitiesTable(entities),
    breakdown.entities.length > ENTITY_ROWS
      ? h(
          'button',
          { type: 'button', class: 'link-button', 'data-focus': 'entities-all', onclick: () => ((showAllEntities = all ? '' : key), ctx.rerender()) },
          all ? `Show the first ${ENTITY_ROWS}` : `Show all ${formatNumber(breakdown.entities.length, 0)}`,
        )
      : null,
    h('h3', {}, 'Waiting for their defining event'),
    waitingList(breakdown.diagnostics?.waiting_for_defining_event),
  );
}

/** The way back, the KPI's name and status, its selected value against the target, and the forecast of the period under way. */
function viewHead({ ctx, kpi, tier, granularity, values, current, previousPeriodTarget, periodLabel }: KpiPage) {
  const { state } = ctx;
  // The period under way, where it has a forecast (SPEC 5c).
  const underWay = values.find((v) => v.forecast !== null);
  return h(
    'div',
    { class: 'view-head' },
    h('p', { class: 'crumbs' }, h('a', { href: ctx.href({ view: 'scorecard', kpi: null, period: null, tier: 'all' }), 'data-nav': '', 'data-back': '', 'data-focus': 'back' }, '← Scorecard'), h('span', { class: 'muted' }, ' (Esc)')),
    h('h1', { id: 'view-title', tabindex: '-1' }, kpi.name, ' ', current ? statusBadge(current.status) : null),
    h(
      'p',
      { class: 'muted' },
      `${teamLabel(state.team)}${tierSuffix(tier, ' · ')} · ${periodLabel}: `,
      h('strong', { 'data-role': 'value' }, current ? formatValue(current.value, kpi.unit) : '—'),
      current ? ` · target ${formatTarget(current.target, kpi.unit, kpi.direction, previousPeriodTarget)}` : '',
      ` · ${kpi.direction === 'higher_is_better' ? 'higher' : 'lower'} is better (${opFor(kpi.direction)})`,
    ),
    underWay?.forecast ? h('p', { class: 'forecast-line', 'data-role': 'forecast' }, `Projected end of ${formatPeriod(underWay.period_start, granularity)}: `, forecastBadge(underWay.forecast, kpi.unit)) : null,
  );
}

export async function kpiView(ctx: Context): Promise<Rendered> {
  const kpi = ctx.catalog.find((k) => k.id === ctx.state.kpi);
  if (!kpi) return unknownKpi(ctx);
  const page = await loadKpiPage(ctx, kpi);
  const { granularity, tier, values, selected, selectPeriod } = page;
  const chartBox = h('div', { class: 'chart', role: 'img', 'aria-label': `${kpi.name} per ${granularity}, ${teamLabel(ctx.state.team)}${tierSuffix(tier, ', ')}, with its target; the same numbers are in the table below.` });
  const node = h(
    'section',
    { class: 'view view-kpi', 'aria-labelledby': 'view-title' },
    viewHead(page),
    h(
      'div',
      { class: 'kpi-layout' },
      h('div', { class: 'panel chart-panel' }, h('div', { class: 'chart-head' }, h('h2', {}, `Per ${granularity}`), seriesControls(page)), chartBox, chartLegend()),
      definitionPanel(kpi),
    ),
    h('div', { class: 'kpi-layout' }, h('section', { class: 'panel', 'aria-label': 'Values per period' }, h('h2', {}, 'Values'), h('div', { class: 'scroll-x' }, valuesTable(page))), teamComparison(page)),
    breakdownPanel(page),
  );

  let chart: KpiChart | null = null;
  return {
    node,
    title: `${kpi.name} · ${teamLabel(ctx.state.team)}`,
    mount() {
      chart = kpiChart(chartBox, values, { unit: kpi.unit, granularity, name: kpi.name, selected, onSelect: selectPeriod });
    },
    unmount() {
      chart?.destroy();
      chart = null;
    },
  };
}
