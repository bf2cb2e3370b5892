import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '@kpi/events';
import { storeEvents } from '@kpi/ingest';
import { ALL_TEAMS, buildStates, CATALOG, computeValues, refreshDayStates, refreshEndedMonthStates, refreshMonthStates, stateGroupsOf, type ScopedValue } from '@kpi/kpi';
import type { Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage } from '@kpi/testing';

// Stored states (kpi_states): a recompute refreshes the day states of the days its events touched,
// computes and serves the values, and only then refreshes those months' states. Meanwhile a
// quarter merges the touched months' day states (monthsFromDays) and the other months' states.
let storage: Storage;
const kpi = CATALOG.find((candidate) => candidate.id === 'stakeholder_satisfaction')!;
const group = stateGroupsOf([kpi])[0]!;
const answer = (id: string, day: string, score: number, team = 'search') =>
  makeEvent('survey.response', { team, score }, { source: 'states-test', id, time: `${day}T12:00:00Z` });
const now = new Date('2026-06-01T00:00:00Z');

/** The mean score of `team` in a quarter (Q1 2026 unless told) as computed from the stored states at `at`. */
async function quarter(team: string, options: { monthsFromDays?: string[]; from?: string; at?: Date } = {}): Promise<number | null> {
  const from = new Date(`${options.from ?? '2026-01-01'}T00:00:00Z`);
  const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 3, 1));
  const values: ScopedValue[] = [];
  await computeValues(
    storage,
    { kpis: [kpi], windows: [{ granularity: 'quarter', from, to }], teams: ['search', 'ads', ALL_TEAMS], now: options.at ?? now, states: 'stored', monthsFromDays: options.monthsFromDays },
    async (computed) => void values.push(...computed),
  );
  return values.find((value) => value.team === team && value.tier === 'all')?.evaluation.value ?? null;
}
const q1 = (team: string, monthsFromDays?: string[]) => quarter(team, { monthsFromDays });

beforeAll(async () => {
  storage = await migratedStorage(isolatedConfig());
  await storeEvents(storage, [answer('a1', '2026-01-05', 5), answer('a2', '2026-02-10', 3), answer('a3', '2026-03-20', 4), answer('b1', '2026-02-10', 1, 'ads')], 't', 'states-1');
  await buildStates(storage, group, new Date('2026-05-01T00:00:00Z'));
});
afterAll(() => storage?.close());

describe('stored KPI states', () => {
  it('give a quarter the mean of all its answers, merged from month states', async () => {
    expect(await q1('search')).toBeCloseTo((5 + 3 + 4) / 3, 12);
    expect(await q1(ALL_TEAMS)).toBeCloseTo((5 + 3 + 4 + 1) / 4, 12);
  });

  it('between a day refresh and its month refresh, merge the touched month from its days: exact, never counted twice', async () => {
    // A late answer in February, and a correction of a January one (the latest copy wins).
    await storeEvents(storage, [answer('a4', '2026-02-11', 1), answer('a1', '2026-01-05', 2)], 't', 'states-2');
    const touched = new Map([['search', ['2026-01-05', '2026-02-11']]]);
    const at = new Date('2026-05-02T00:00:00Z');
    await refreshDayStates(storage, group, touched, at);
    const expected = (2 + 3 + 4 + 1) / 4;
    expect(await q1('search', ['2026-01-01', '2026-02-01'])).toBeCloseTo(expected, 12);
    expect(await q1(ALL_TEAMS, ['2026-01-01', '2026-02-01'])).toBeCloseTo((2 + 3 + 4 + 1 + 1) / 5, 12);
    // Without the touched months, the quarter still merges their month states, which are stale until refreshed.
    expect(await q1('search')).toBeCloseTo((5 + 3 + 4) / 3, 12);
    await refreshMonthStates(storage, group, touched, at);
    expect(await q1('search')).toBeCloseTo(expected, 12);
    // Months read from days that did not change give the same value as their month states.
    expect(await q1('search', ['2026-03-01'])).toBeCloseTo(expected, 12);
  });

  it('merge the open month and the one before from their days, and store a month once it has ended', async () => {
    // June 2026 is open: its answer is refreshed into its day state, and its month state is not stored.
    const june = new Date('2026-06-15T00:00:00Z');
    await storeEvents(storage, [answer('j1', '2026-06-03', 2), answer('j2', '2026-04-20', 4)], 't', 'states-3');
    const touched = new Map([['search', ['2026-04-20', '2026-06-03']]]);
    await refreshDayStates(storage, group, touched, june);
    await refreshMonthStates(storage, group, touched, june);
    const [stored] = await storage.query<{ months: number }>("SELECT count() AS months FROM {db:Identifier}.kpi_states FINAL WHERE grain = 'month' AND start = '2026-06-01' AND rows > 0");
    expect(Number(stored!.months)).toBe(0);
    // Q2 in June: April from its refreshed month state, May and June (open) from their days.
    expect(await quarter('search', { from: '2026-04-01', at: june })).toBeCloseTo((4 + 2) / 2, 12);
    // In August June is no longer merged from its days: without its month state it is missing...
    const august = new Date('2026-08-05T00:00:00Z');
    expect(await quarter('search', { from: '2026-04-01', at: august })).toBe(4);
    // ...until the worker's periodic refresh stores the ended months' states.
    await refreshEndedMonthStates(storage, group, ['search', 'ads'], august);
    expect(await quarter('search', { from: '2026-04-01', at: august })).toBeCloseTo((4 + 2) / 2, 12);
    expect(await quarter(ALL_TEAMS, { from: '2026-04-01', at: august })).toBeCloseTo((4 + 2) / 2, 12);
  });

  it('built again, leave nothing of the days and months the rows no longer have', async () => {
    const at = new Date('2026-09-02T00:00:00Z');
    expect(await quarter('ads', { at })).toBe(1);
    // b1 moves from ads to search (its latest copy wins): ads' February day and month are left without rows.
    await storeEvents(storage, [answer('b1', '2026-02-10', 1)], 't', 'states-4');
    await buildStates(storage, group, new Date('2026-09-01T00:00:00Z'));
    const expected = (2 + 3 + 4 + 1 + 1) / 5;
    for (const monthsFromDays of [[], ['2026-02-01']]) {
      expect(await quarter('ads', { at, monthsFromDays })).toBeNull();
      expect(await quarter('search', { at, monthsFromDays })).toBeCloseTo(expected, 12);
      expect(await quarter(ALL_TEAMS, { at, monthsFromDays })).toBeCloseTo(expected, 12);
    }
  });
});
