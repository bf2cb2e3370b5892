import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEvents } from '@kpi/ingest';
import { makeEvent } from '@kpi/events';
import { ALL_TEAMS, computeValues, kpiById, saveOverride, type ScopedValue, type TargetOverride } from '@kpi/kpi';
import type { Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage } from '@kpi/testing';

// The TTM backlog (incidents open past the target, in time_to_mitigate_hours' details) counts
// against the target reports use: the catalog's tier-1 72 h, or the team's override. Two teams
// each have one tier-1 incident detected 2026-03-29T12:00Z and never mitigated: at the end of
// 2026-Q1 (2026-04-01T00:00Z) it has been open 60 h, past 48 h but not past 72 h.
const QUARTER_START = new Date('2026-01-01T00:00:00Z');
const QUARTER_END = new Date('2026-04-01T00:00:00Z');
const TTM = kpiById('time_to_mitigate_hours')!;
/** A window holding the one period that starts at `start` (windows take periods starting in [from, to)). */
const startingAt = (start: Date) => ({ from: start, to: new Date(start.getTime() + 1) });

let storage: Storage;
beforeAll(async () => {
  storage = await migratedStorage(isolatedConfig());
  const opened = (team: string) =>
    makeEvent('incident.opened', { incident_id: `${team}-open`, team, tier: 1, severity: 'sev1', category: 'model', detected_at: '2026-03-29T12:00:00Z' }, { source: 'pagerduty', id: `${team}-open`, time: '2026-03-29T13:00:00Z' });
  await storeEvents(storage, [opened('ranking'), opened('search')], 'backlog-test', 'backlog-test');
});
afterAll(() => storage?.close());

/** The backlog details of 2026-Q1 and March 2026, tier all, per team scope, with these overrides. */
async function backlogs(overrides: TargetOverride[]): Promise<Map<string, Record<string, unknown>>> {
  const values: ScopedValue[] = [];
  const windows = [{ granularity: 'quarter' as const, ...startingAt(QUARTER_START) }, { granularity: 'month' as const, ...startingAt(new Date('2026-03-01T00:00:00Z')) }];
  await computeValues(storage, { kpis: [TTM], windows, teams: [ALL_TEAMS, 'ranking', 'search'], now: new Date('2026-06-01T00:00:00Z'), overrides }, async (batch) => {
    values.push(...batch);
  });
  const details = (value: ScopedValue) => ({ count: value.evaluation.details.open_past_target, listed: value.evaluation.details.open_past_target_incidents });
  return new Map(values.filter((value) => value.tier === 'all').map((value) => [`${value.granularity} ${value.team}`, details(value)]));
}

describe('the TTM backlog', () => {
  it("counts against the catalog's tier-1 target (72 h) without overrides: nothing is open past it", async () => {
    const backlog = await backlogs([]);
    for (const scope of ['quarter *', 'quarter ranking', 'quarter search', 'month ranking']) expect(backlog.get(scope), scope).toEqual({ count: 0, listed: [] });
  });

  it("counts against a team's overridden target, for the granularity the override names", async () => {
    // ranking lowers its quarterly TTM target to 48 h: its incident, open 60 h at the quarter end, is past it.
    const backlog = await backlogs([{ team: 'ranking', kpi: TTM.id, op: '<=', value: 48, granularity: 'quarter' }]);
    expect(backlog.get('quarter ranking')).toEqual({ count: 1, listed: [{ incident_id: 'ranking-open', team: 'ranking', tier: 1, hours_open: 60 }] });
    // March ends at the same instant, but the override is for quarters only: 72 h still applies.
    expect(backlog.get('month ranking')).toEqual({ count: 0, listed: [] });
    // The other team and the organisation keep the catalog's 72 h.
    expect(backlog.get('quarter search')).toEqual({ count: 0, listed: [] });
    expect(backlog.get('quarter *')).toEqual({ count: 0, listed: [] });
  });

  it('reads the overrides set through the admin API when none are given', async () => {
    await saveOverride(storage, { team: ALL_TEAMS, kpi: TTM.id, op: '<=', value: 59.5 });
    const values: ScopedValue[] = [];
    await computeValues(storage, { kpis: [TTM], windows: [{ granularity: 'quarter', ...startingAt(QUARTER_START) }], teams: [ALL_TEAMS], now: QUARTER_END }, async (batch) => {
      values.push(...batch);
    });
    // The organisation's 59.5 h: both incidents (60 h open) are past it.
    expect(values.find((value) => value.tier === 'all')!.evaluation.details.open_past_target).toBe(2);
  });
});
