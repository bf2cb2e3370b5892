/**
 * How the report writes numbers: the unit conventions of the dashboard (ratios as percentages,
 * hours, days, dollars), in en-US, with no arithmetic on the KPI values. Pure and deterministic.
 */
import type { Direction, Status, Unit } from '@kpi/kpi';

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

const digitsFor = (value: number) => (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);

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
      return `${nf({ style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(value)}/1k req`;
    case 'score':
      return `${nf({ maximumFractionDigits: 2 }).format(value)} / 5`;
    case 'correlation':
      return `r = ${nf({ maximumFractionDigits: 2, minimumFractionDigits: 2 }).format(value)}`;
    default:
      return formatNumber(value, 3);
  }
}

/** A short axis label (no unit suffix). */
export function formatAxis(value: number, unit: Unit): string {
  switch (unit) {
    case 'ratio':
    case 'relative_lift':
      return nf({ style: 'percent', maximumFractionDigits: 1 }).format(value);
    case 'usd':
    case 'usd_per_1k_requests':
      return nf({ style: 'currency', currency: 'USD', maximumFractionDigits: Math.abs(value) >= 10 ? 0 : 3 }).format(value);
    default:
      return nf({ maximumFractionDigits: Math.abs(value) >= 10 ? 0 : 2 }).format(value);
  }
}

export const STATUS_LABEL: Record<Status, string> = { met: 'met', breached: 'breached', no_target: 'no target', no_data: 'no data' };
export const STATUS_ICON: Record<Status, string> = { met: '✓', breached: '✕', no_target: '○', no_data: '?' };

export const opFor = (direction: Direction) => (direction === 'higher_is_better' ? '≥' : '≤');

/** "≥ 80%", "≤ 72 h", "≤ 3 (previous quarter)", or "none". */
export function formatTarget(target: number | null, unit: Unit, direction: Direction, kind: 'threshold' | 'previous_period' | null = 'threshold'): string {
  if (target === null) return kind === 'previous_period' ? `${opFor(direction)} previous quarter (no value)` : 'none';
  return `${opFor(direction)} ${formatValue(target, unit)}${kind === 'previous_period' ? ' (prev. quarter)' : ''}`;
}

/** The change from the previous quarter in the KPI's unit: "+2", "+4.2 pp", "-3.1 h". */
export function formatChange(absolute: number | null, unit: Unit): string {
  if (absolute === null || !Number.isFinite(absolute)) return NO_VALUE;
  if (absolute === 0) return '±0';
  const sign = absolute > 0 ? '+' : '−';
  const magnitude = Math.abs(absolute);
  switch (unit) {
    case 'ratio':
    case 'relative_lift':
      return `${sign}${formatNumber(magnitude * 100, 1)} pp`;
    case 'correlation':
      return `${sign}${formatNumber(magnitude, 2)}`;
    case 'usd':
    case 'usd_per_1k_requests':
      return `${sign}${formatValue(magnitude, unit)}`;
    default:
      return `${sign}${formatValue(magnitude, unit)}`;
  }
}

export function formatPercent(fraction: number | null, digits = 1): string {
  if (fraction === null || !Number.isFinite(fraction)) return NO_VALUE;
  return nf({ style: 'percent', maximumFractionDigits: digits }).format(fraction);
}

export const formatHours = (hours: number | null | undefined) => (hours === null || hours === undefined || !Number.isFinite(hours) ? NO_VALUE : `${formatNumber(hours)} h`);

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_VALUE;
  return nf({ style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
}

export function formatInteger(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_VALUE;
  return nf({ maximumFractionDigits: 0 }).format(value);
}

/** A p-value: 0.0619 -> "0.062", 2e-5 -> "<0.001". */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return NO_VALUE;
  if (p < 0.001) return '<0.001';
  return nf({ maximumFractionDigits: 3 }).format(p);
}

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

/** "3 incidents", "1 incident". */
export const plural = (n: number, one: string, many = `${one}s`) => `${formatInteger(n)} ${n === 1 ? one : many}`;

/** "a, b and c". */
export function listOf(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
