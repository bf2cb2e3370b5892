/** Views 1 and 2: the scorecard of a quarter (or a year) for the organisation or one team. */
import type { ScorecardKpi } from '@kpi/api-contract';
import { STATUSES } from '@kpi/schemas';
import { api } from '../api.ts';
import { sparkline } from '../charts.ts';
import { groupKpis, teamLabel, type Context, type Rendered } from '../context.ts';
import { forecastBadge, h, statusBadge } from '../dom.ts';
import { changeOf, formatNumber, formatPeriod, formatTarget, formatTime, formatValue, STATUS_ICON, STATUS_LABEL, type Status } from '../format.ts';
import { isYear } from '../state.ts';

/** The status filters: breached first (what needs attention), then the others in the contract's order. */
const FILTERS: Status[] = ['breached', ...STATUSES.filter((status) => status !== 'breached')];
/** Which statuses are shown; in memory, so it survives the 15 s refresh. */
let filter: Status | null = null;

/** How the rows of a scorecard are written: its period's granularity, and which KPIs aim at the previous period. */
interface RowContext {
  ctx: Context;
  granularity: 'year' | 'quarter';
  previousPeriodTarget: Set<string>;
}

/** One KPI of the scorecard: a link to its view with value, target, status, forecast, change and trend. */
function scorecardRow({ ctx, granularity, previousPeriodTarget }: RowContext, kpi: ScorecardKpi) {
  const change = changeOf(kpi.value, kpi.previous_value, kpi.direction);
  const definition = ctx.catalog.find((k) => k.id === kpi.id);
  return h(
    'li',
    {},
    h(
      'a',
      { class: `kpi-row tone-${kpi.status}`, href: ctx.href({ view: 'kpi', kpi: kpi.id, tier: 'all', period: null }), 'data-kpi': kpi.id, 'data-nav': '', title: definition?.description ?? kpi.id },
      h('span', { class: 'cell kpi-name' }, kpi.name),
      h(
        'span',
        { class: 'cell kpi-value' },
        h('span', { class: 'sr-only' }, 'value '),
        h('span', { class: 'value-main', 'data-role': 'value' }, formatValue(kpi.value, kpi.unit)),
        // A share's numerator/denominator, as the API gives them (other units keep theirs for the KPI view).
        kpi.unit === 'ratio' && kpi.numerator !== null && kpi.denominator ? h('span', { class: 'value-fraction' }, ` ${formatNumber(kpi.numerator)}/${formatNumber(kpi.denominator)}`) : null,
      ),
      h(
        'span',
        { class: 'cell kpi-target' },
        h('span', { class: 'sr-only' }, 'target '),
        formatTarget(kpi.target, kpi.unit, kpi.direction),
        previousPeriodTarget.has(kpi.id) && kpi.target !== null ? h('span', { class: 'target-note' }, `previous ${granularity}`) : null,
      ),
      h('span', { class: 'cell kpi-status' }, statusBadge(kpi.status)),
      h('span', { class: 'cell kpi-forecast' }, h('span', { class: 'sr-only' }, 'forecast '), kpi.forecast ? forecastBadge(kpi.forecast, kpi.unit) : h('span', { class: 'muted' }, '—')),
      h(
        'span',
        { class: `cell kpi-change change-${change.tone}` },
        h('span', { class: 'sr-only' }, `previous ${granularity} ${change.word} `),
        change.arrow ? h('span', { class: 'arrow', 'aria-hidden': 'true' }, change.arrow) : null,
        ` prev ${formatValue(kpi.previous_value, kpi.unit)}`,
      ),
      h(
        'span',
        { class: 'cell kpi-trend' },
        kpi.trend ? sparkline(kpi.trend.map((v) => ({ value: v.value, status: v.status, label: `${formatPeriod(v.period_start, granularity)}: ${formatValue(v.value, kpi.unit)}` }))) : h('span', { class: 'muted' }, 'no trend'),
      ),
    ),
  );
}

/** The title (team and period) and, for a team, its models and events. */
function scorecardHead(ctx: Context) {
  const { state } = ctx;
  const team = ctx.teams.find((t) => t.team === state.team);
  return h(
    'div',
    { class: 'view-head' },
    h('h1', { id: 'view-title', tabindex: '-1' }, `${teamLabel(state.team)} · ${state.quarter}`),
    team
      ? h('p', { class: 'muted team-facts' }, `${team.models.length ? `Models: ${team.models.join(', ')}` : 'No models yet'} · ${formatNumber(team.events, 0)} events · last event ${formatTime(team.last_event_at)}`)
      : state.team !== 'all'
        ? h('p', { class: 'muted team-facts' }, 'No events from this team yet.')
        : null,
  );
}

/** One toggle per status (and one for all), each with its count. */
function statusFilters(ctx: Context, kpis: ScorecardKpi[]) {
  const counts = new Map<Status, number>(FILTERS.map((s) => [s, kpis.filter((k) => k.status === s).length]));
  return h(
    'div',
    { class: 'filters', role: 'group', 'aria-label': 'Show KPIs by status' },
    h('button', { type: 'button', class: 'chip', 'aria-pressed': String(filter === null), 'data-focus': 'filter-all', onclick: () => ((filter = null), ctx.rerender()) }, `All ${kpis.length}`),
    FILTERS.map((s) =>
      h(
        'button',
        { type: 'button', class: `chip chip-${s}`, 'aria-pressed': String(filter === s), 'data-focus': `filter-${s}`, disabled: counts.get(s) === 0 && filter !== s, onclick: () => ((filter = filter === s ? null : s), ctx.rerender()) },
        h('span', { 'aria-hidden': 'true' }, STATUS_ICON[s]),
        ` ${counts.get(s)} ${STATUS_LABEL[s]}`,
      ),
    ),
  );
}

/** The column headings of the KPI rows (hidden from screen readers, which read each cell's own label). */
function scorecardHeader(granularity: RowContext['granularity']) {
  return h(
    'div',
    { class: 'kpi-row kpi-header', 'aria-hidden': 'true' },
    h('span', { class: 'cell kpi-name' }, 'KPI'),
    h('span', { class: 'cell kpi-value' }, 'Value'),
    h('span', { class: 'cell kpi-target' }, 'Target'),
    h('span', { class: 'cell kpi-status' }, 'Status'),
    h('span', { class: 'cell kpi-forecast', title: `Where the ${granularity} under way is projected to end (80 % band) and the chance of meeting the target` }, 'Forecast'),
    h('span', { class: 'cell kpi-change' }, `vs previous ${granularity}`),
    h('span', { class: 'cell kpi-trend' }, granularity === 'year' ? 'Last 4 years' : 'Last 8 quarters'),
  );
}

export async function scorecardView(ctx: Context): Promise<Rendered> {
  const { state, catalog } = ctx;
  const yearly = isYear(state.quarter);
  // One request: the scorecard with the last 8 quarters (or 4 years) of every KPI, for the sparklines.
  const trend = yearly ? 4 : 8;
  const scorecard = await api.get('/v1/scorecard', { query: yearly ? { year: state.quarter, team: state.team, trend } : { quarter: state.quarter, team: state.team, trend } });
  const rows: RowContext = {
    ctx,
    granularity: yearly ? 'year' : 'quarter',
    previousPeriodTarget: new Set(catalog.filter((k) => k.targets.some((t) => t.kind === 'previous_period')).map((k) => k.id)),
  };
  const visible = filter ? scorecard.kpis.filter((k) => k.status === filter) : scorecard.kpis;
  const node = h(
    'section',
    { class: 'view view-scorecard', 'aria-labelledby': 'view-title' },
    scorecardHead(ctx),
    statusFilters(ctx, scorecard.kpis),
    h(
      'div',
      { class: 'kpi-table' },
      scorecardHeader(rows.granularity),
      visible.length === 0
        ? h('p', { class: 'muted' }, 'No KPI has this status.')
        : groupKpis(visible, catalog).map((group) => h('div', { class: 'kpi-group' }, h('h2', {}, group.title), h('ul', { class: 'kpi-list', role: 'list' }, group.items.map((kpi) => scorecardRow(rows, kpi))))),
    ),
  );
  return { node, title: `${teamLabel(state.team)} · ${state.quarter}` };
}
