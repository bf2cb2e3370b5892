import { describe, expect, it } from 'vitest';
import { lastPeriods, parseQuarter, periodOf, periodsStartingIn, previousPeriodStart, quarterLabel } from '../src/periods.ts';
import { judge } from '../src/targets.ts';

const utc = (iso: string) => new Date(iso);

describe('periods (UTC, half-open)', () => {
  it('ISO weeks start on Monday 00:00 UTC, across month and year boundaries', () => {
    // 2026-01-01 is a Thursday: its ISO week starts Monday 2025-12-29.
    expect(periodOf('week', utc('2026-01-01T12:00:00Z'))).toEqual({ start: utc('2025-12-29T00:00:00Z'), end: utc('2026-01-05T00:00:00Z') });
    // A Sunday late evening belongs to the week that started six days before.
    expect(periodOf('week', utc('2026-01-11T23:59:59.999Z')).start).toEqual(utc('2026-01-05T00:00:00Z'));
    // The end is exclusive: Monday 00:00 opens the next week.
    expect(periodOf('week', utc('2026-01-12T00:00:00Z')).start).toEqual(utc('2026-01-12T00:00:00Z'));
  });

  it('days are UTC calendar days', () => {
    expect(periodOf('day', utc('2026-03-01T23:59:59.999Z'))).toEqual({ start: utc('2026-03-01T00:00:00Z'), end: utc('2026-03-02T00:00:00Z') });
    // 00:30 at +02:00 is 22:30 UTC the day before.
    expect(periodOf('day', utc('2026-03-02T00:30:00+02:00')).start).toEqual(utc('2026-03-01T00:00:00Z'));
    expect(previousPeriodStart('day', utc('2026-03-01T00:00:00Z'))).toEqual(utc('2026-02-28T00:00:00Z'));
    const month = lastPeriods('day', 30, utc('2026-03-01T10:00:00Z')).map((p) => p.start.toISOString().slice(0, 10));
    expect([month.length, month[0], month.at(-2), month.at(-1)]).toEqual([30, '2026-01-31', '2026-02-28', '2026-03-01']);
  });

  it('months and quarters are calendar periods', () => {
    expect(periodOf('month', utc('2026-02-28T23:00:00Z'))).toEqual({ start: utc('2026-02-01T00:00:00Z'), end: utc('2026-03-01T00:00:00Z') });
    expect(periodOf('quarter', utc('2026-06-30T23:59:59Z'))).toEqual({ start: utc('2026-04-01T00:00:00Z'), end: utc('2026-07-01T00:00:00Z') });
    expect(previousPeriodStart('quarter', utc('2026-01-01T00:00:00Z'))).toEqual(utc('2025-10-01T00:00:00Z'));
    expect(previousPeriodStart('month', utc('2026-03-01T00:00:00Z'))).toEqual(utc('2026-02-01T00:00:00Z'));
  });

  it('lists the periods starting in [from, to) and the last N up to now', () => {
    expect(periodsStartingIn('month', utc('2026-01-15T00:00:00Z'), utc('2026-04-01T00:00:00Z')).map((p) => p.start.toISOString().slice(0, 10))).toEqual(['2026-02-01', '2026-03-01']);
    const last = lastPeriods('quarter', 3, utc('2026-11-24T10:00:00Z'));
    expect(last.map((p) => quarterLabel(p.start))).toEqual(['2026-Q2', '2026-Q3', '2026-Q4']);
  });

  it('parses quarter labels', () => {
    expect(parseQuarter('2026-Q3')).toEqual({ start: utc('2026-07-01T00:00:00Z'), end: utc('2026-10-01T00:00:00Z') });
    expect(parseQuarter('2026-Q5')).toBeUndefined();
    expect(parseQuarter('2026Q1')).toBeUndefined();
  });
});

describe('status (SPEC section 5)', () => {
  it('is no_data for a null value, no_target without a rule or a previous value, else met or breached', () => {
    expect(judge({ kind: 'threshold', op: '>=', value: 0.8 }, null, null)).toEqual({ target: 0.8, status: 'no_data' });
    expect(judge(undefined, 3, null)).toEqual({ target: null, status: 'no_target' });
    expect(judge({ kind: 'previous_period', op: '<=' }, 3, null)).toEqual({ target: null, status: 'no_target' });
    expect(judge({ kind: 'previous_period', op: '<=' }, 3, 3)).toEqual({ target: 3, status: 'met' });
    expect(judge({ kind: 'previous_period', op: '<=' }, 4, 3)).toEqual({ target: 3, status: 'breached' });
    expect(judge({ kind: 'threshold', op: '>=', value: 0.8 }, 0.8, null)).toEqual({ target: 0.8, status: 'met' });
    expect(judge({ kind: 'threshold', op: '<=', value: 0 }, 1, null)).toEqual({ target: 0, status: 'breached' });
  });
});
