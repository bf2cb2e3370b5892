import type { Granularity } from '@kpi/schemas';

/** Periods are half-open [start, end) in UTC (granularities, their default counts: @kpi/schemas). */
export { GRANULARITIES, PERIODIC_GRANULARITIES, defaultPeriodCount, type Granularity } from '@kpi/schemas';

export interface Period {
  start: Date;
  end: Date;
}

const DAY = 86_400_000;

export function periodStartOf(granularity: Granularity, instant: Date | number): Date {
  const d = new Date(instant);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const midnight = Date.UTC(y, m, d.getUTCDate());
  switch (granularity) {
    case 'day':
      return new Date(midnight);
    case 'week': {
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      return new Date(midnight - sinceMonday * DAY);
    }
    case 'month':
      return new Date(Date.UTC(y, m, 1));
    case 'quarter':
      return new Date(Date.UTC(y, m - (m % 3), 1));
    case 'year':
      return new Date(Date.UTC(y, 0, 1));
  }
}

export function nextPeriodStart(granularity: Granularity, start: Date): Date {
  switch (granularity) {
    case 'day':
      return new Date(start.getTime() + DAY);
    case 'week':
      return new Date(start.getTime() + 7 * DAY);
    case 'month':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    case 'quarter':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 3, 1));
    case 'year':
      return new Date(Date.UTC(start.getUTCFullYear() + 1, 0, 1));
  }
}

export function previousPeriodStart(granularity: Granularity, start: Date): Date {
  switch (granularity) {
    case 'day':
      return new Date(start.getTime() - DAY);
    case 'week':
      return new Date(start.getTime() - 7 * DAY);
    case 'month':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, 1));
    case 'quarter':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 3, 1));
    case 'year':
      return new Date(Date.UTC(start.getUTCFullYear() - 1, 0, 1));
  }
}

export function periodOf(granularity: Granularity, instant: Date | number): Period {
  const start = periodStartOf(granularity, instant);
  return { start, end: nextPeriodStart(granularity, start) };
}

/** The periods whose start lies in [from, to). */
export function periodsStartingIn(granularity: Granularity, from: Date, to: Date): Period[] {
  const periods: Period[] = [];
  let start = periodStartOf(granularity, from);
  if (start < from) start = nextPeriodStart(granularity, start);
  while (start < to) {
    const end = nextPeriodStart(granularity, start);
    periods.push({ start, end });
    start = end;
  }
  return periods;
}

/** The `count` periods up to and including the one containing `now`. */
export function lastPeriods(granularity: Granularity, count: number, now: Date): Period[] {
  let start = periodStartOf(granularity, now);
  const periods: Period[] = [];
  for (let i = 0; i < count; i++) {
    periods.unshift({ start, end: nextPeriodStart(granularity, start) });
    start = previousPeriodStart(granularity, start);
  }
  return periods;
}

const quarterPattern = /^(\d{4})-Q([1-4])$/;

/** `2026-Q3` -> the quarter's period; undefined when the string is not a quarter. */
export function parseQuarter(label: string): Period | undefined {
  const match = quarterPattern.exec(label);
  if (!match) return undefined;
  const start = new Date(Date.UTC(Number(match[1]), (Number(match[2]) - 1) * 3, 1));
  return { start, end: nextPeriodStart('quarter', start) };
}

export function quarterLabel(start: Date): string {
  return `${start.getUTCFullYear()}-Q${Math.floor(start.getUTCMonth() / 3) + 1}`;
}

/** The periods a review covers: a quarter, or a year. */
export type ReviewGranularity = 'quarter' | 'year';

/** `2026-Q3` (a quarter) or `2026` (a year) -> its granularity and period; undefined for anything else. */
export function parseReviewPeriod(label: string): { granularity: ReviewGranularity; period: Period } | undefined {
  const quarter = parseQuarter(label);
  if (quarter) return { granularity: 'quarter', period: quarter };
  if (!/^\d{4}$/.test(label)) return undefined;
  const start = new Date(Date.UTC(Number(label), 0, 1));
  return { granularity: 'year', period: { start, end: nextPeriodStart('year', start) } };
}

/** The label of a review period: 2026-Q3, or 2026. */
export const reviewLabel = (granularity: ReviewGranularity, start: Date): string => (granularity === 'year' ? String(start.getUTCFullYear()) : quarterLabel(start));

/** ClickHouse DateTime64(3) parameter text for an instant. */
export function chTime(instant: Date): string {
  return instant.toISOString().replace('T', ' ').replace('Z', '');
}
