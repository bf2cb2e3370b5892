/**
 * How the pipeline writes numbers, in the dashboard and in the reports alike: every number as
 * the API gives it, with its unit (percentages for ratios, hours, days, dollars), en-US, UTC.
 * No KPI arithmetic happens here. Pure and deterministic.
 */

import { KPI_GROUP_ORDER, type Direction, type Forecast, type Granularity, type Status, type Unit as KpiUnit } from '@kpi/schemas';

export { KPI_GROUP_ORDER, type KpiGroup } from '@kpi/schemas';

// The words of the API's answers (@kpi/schemas, which its contract is built from): what every number here is written for.
export type { Direction, Forecast, Granularity, Status };
/** A unit of the contract, or any other (written as a plain number). */
export type Unit = KpiUnit | (string & {});

export const NO_VALUE = '—';

const formatters = new Map<string, Intl.NumberFormat>();
function nf(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = JSON.stringify(options);
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat('en-US', options);
    formatters.set(key, formatter);
  }
  return formatter;
}

/** Fraction digits that keep about three significant figures for everyday magnitudes. */
function digitsFor(value: number): number {
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return 0;
  if (magnitude >= 10) return 1;
  return 2;
}

export function formatNumber(value: number | null | undefined, maximumFractionDigits = digitsFor(value ?? 0)): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_VALUE;
  return nf({ maximumFractionDigits }).format(value);
}

/** A KPI value (or target) with its unit: 0.8333 ratio -> "83.3%", 12.5 hours -> "12.5 h". */
export function formatValue(value: number | null | undefined, unit: Unit): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_VALUE;
  switch (unit) {
    case 'count':
      return nf({ maximumFractionDigits: 2 }).format(value);
    case 'ratio':
    case 'share':
      return nf({ style: 'percent', maximumFractionDigits: 1 }).format(value);
    case 'relative_lift':
      return nf({ style: 'percent', maximumFractionDigits: 2, signDisplay: 'exceptZero' }).format(value);
    case 'hours':
      return `${formatNumber(value)} h`;
    case 'days':
      return `${formatNumber(value)} d`;
    case 'ms':
      return `${formatNumber(value)} ms`;
    case 'usd':
      return nf({ style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
    case 'usd_per_1k_requests':
      return `${nf({ style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(value)} /1k req`;
    case 'score':
      return `${nf({ maximumFractionDigits: 2 }).format(value)} / 5`;
    case 'correlation':
      return `r = ${nf({ maximumFractionDigits: 2, minimumFractionDigits: 2 }).format(value)}`;
    default:
      return formatNumber(value, 3);
  }
}

/** A compact axis label for a unit (no suffix repeated on every tick). */
export function formatAxis(value: number, unit: Unit): string {
  switch (unit) {
    case 'ratio':
    case 'share':
    case 'relative_lift':
      return nf({ style: 'percent', maximumFractionDigits: 1 }).format(value);
    case 'usd':
    case 'usd_per_1k_requests':
      return nf({ style: 'currency', currency: 'USD', maximumFractionDigits: 4 }).format(value);
    default:
      return nf({ maximumFractionDigits: 2 }).format(value);
  }
}

export const UNIT_LABEL: Record<string, string> = {
  count: 'count',
  ratio: 'share (%)',
  share: 'share (%)',
  number: 'number',
  hours: 'hours',
  days: 'days',
  ms: 'milliseconds',
  usd: 'US dollars',
  usd_per_1k_requests: 'US dollars per 1,000 requests',
  score: 'score (1–5)',
  correlation: 'Pearson correlation',
  relative_lift: 'relative lift (%)',
};

export const STATUS_LABEL: Record<Status, string> = { met: 'met', breached: 'breached', no_target: 'no target', no_data: 'no data' };
export const STATUS_ICON: Record<Status, string> = { met: '✓', breached: '✕', no_target: '○', no_data: '?' };

export const opFor = (direction: Direction) => (direction === 'higher_is_better' ? '≥' : '≤');

/** The target a value was judged against: "≥ 80%", "≤ 72 h", or "≤ 3 (previous period)". */
export function formatTarget(target: number | null | undefined, unit: Unit, direction: Direction, previousPeriod = false): string {
  if (target === null || target === undefined) return 'none';
  return `${opFor(direction)} ${formatValue(target, unit)}${previousPeriod ? ' (prev. period)' : ''}`;
}

/** How a value compares with the previous one: a comparison for the arrow, no arithmetic. */
export function changeOf(value: number | null, previous: number | null, direction: Direction): { arrow: string; word: string; tone: 'better' | 'worse' | 'same' | 'none' } {
  if (value === null || previous === null) return { arrow: '', word: 'no comparison', tone: 'none' };
  if (value === previous) return { arrow: '=', word: 'unchanged', tone: 'same' };
  const up = value > previous;
  const better = up === (direction === 'higher_is_better');
  return { arrow: up ? '▲' : '▼', word: `${up ? 'up' : 'down'}, ${better ? 'better' : 'worse'}`, tone: better ? 'better' : 'worse' };
}

/** Where a period is projected to end, with its 80 % band (SPEC 5c): "5.75 (2–10)", "72% (50%–90%)". */
export const formatForecast = (forecast: Forecast, unit: Unit) => `${formatValue(forecast.value, unit)} (${formatValue(forecast.low, unit)}–${formatValue(forecast.high, unit)})`;

export const OUTLOOK_LABEL: Record<Forecast['outlook'], string> = { on_track: 'on track', at_risk: 'at risk' };

/** A probability in whole percent that never rounds a possibility away: "37%", "<1%", ">99%", "0%" only when impossible. */
export function formatProbability(p: number): string {
  if (p > 0 && p < 0.005) return '<1%';
  if (p < 1 && p >= 0.995) return '>99%';
  return formatPercent(p, 0);
}

/** The outlook with the chance of meeting the target: "at risk, 25% likely to meet the target". */
export const formatOutlook = (forecast: Forecast) => `${OUTLOOK_LABEL[forecast.outlook]}, ${formatProbability(forecast.probability_met)} likely to meet the target`;

const pad = (n: number) => String(n).padStart(2, '0');

/** 2026-07-06 (UTC). */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return NO_VALUE;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** 2026-07-06 14:03 UTC. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return NO_VALUE;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${formatDate(iso)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ISO week label of a Monday: 2026-W28. */
/** The ISO week of a date: 2026-W48 (the week of its Thursday). */
export function isoWeek(d: Date): string {
  const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 4 - (thursday.getUTCDay() || 7));
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((thursday.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${thursday.getUTCFullYear()}-W${pad(week)}`;
}

/** A period as people name it: 2026-Q3, Jul 2026, 2026-W28, 2026-07-06. */
export function formatPeriod(periodStart: string, granularity: Granularity): string {
  const d = new Date(periodStart);
  if (Number.isNaN(d.getTime())) return periodStart;
  if (granularity === 'day') return formatDate(periodStart);
  if (granularity === 'year') return String(d.getUTCFullYear());
  if (granularity === 'quarter') return `${d.getUTCFullYear()}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
  if (granularity === 'month') return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  return isoWeek(d);
}

/** Hours as the operational views show them (the API's number, with its unit). */
export const formatHours = (hours: number | null | undefined) => (hours === null || hours === undefined ? NO_VALUE : `${formatNumber(hours)} h`);

/** A p-value: 0.0619 -> "0.062", 2e-5 -> "<0.001". */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return NO_VALUE;
  if (p < 0.001) return '<0.001';
  return nf({ maximumFractionDigits: 3 }).format(p);
}

export function formatPercent(fraction: number | null, digits = 1): string {
  if (fraction === null || !Number.isFinite(fraction)) return NO_VALUE;
  return nf({ style: 'percent', maximumFractionDigits: digits }).format(fraction);
}

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_VALUE;
  return nf({ style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
}

export function formatInteger(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_VALUE;
  return nf({ maximumFractionDigits: 0 }).format(value);
}

/** "3 incidents", "1 incident". */
export const plural = (n: number, one: string, many = `${one}s`) => `${formatInteger(n)} ${n === 1 ? one : many}`;

/** "a, b and c". */
export function listOf(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}


/** Items grouped by their `group`, groups in KPI_GROUP_ORDER (a group not there goes last), items in their given order. */
export function groupByKpiGroup<T extends { group?: string | null }>(items: readonly T[]): { title: string; items: T[] }[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const title = item.group || 'Other';
    groups.set(title, [...(groups.get(title) ?? []), item]);
  }
  const rank = (title: string) => {
    const index = (KPI_GROUP_ORDER as readonly string[]).indexOf(title);
    return index === -1 ? KPI_GROUP_ORDER.length : index;
  };
  return [...groups].sort(([a], [b]) => rank(a) - rank(b)).map(([title, grouped]) => ({ title, items: grouped }));
}
