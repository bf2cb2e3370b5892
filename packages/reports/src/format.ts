/**
 * The report's own wording on top of the shared formatting rules (packages/format): targets that
 * name the previous quarter, and changes between quarters.
 */
import type { Direction, Unit } from '@kpi/kpi';
import { formatNumber, formatValue, NO_VALUE, opFor } from '@kpi/format';

export * from '@kpi/format';

/** "≥ 80%", "≤ 72 h", "≤ 3 (prev. quarter)", or "none"; `period` names the previous period (a quarter, or a year). */
export function formatTarget(target: number | null, unit: Unit, direction: Direction, kind: 'threshold' | 'previous_period' | null = 'threshold', period = 'quarter'): string {
  if (target === null) return kind === 'previous_period' ? `${opFor(direction)} previous ${period} (no value)` : 'none';
  return `${opFor(direction)} ${formatValue(target, unit)}${kind === 'previous_period' ? ` (prev. ${period})` : ''}`;
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

