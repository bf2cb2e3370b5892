import { describe, expect, it } from 'vitest';
import { ValueReplica } from '../src/replica.ts';

const row = (granularity: string, start: string, value: number, team = 'search') => ({
  kpi: 'incident_count',
  granularity,
  tier: 'all',
  team,
  start,
  value,
  numerator: null,
  denominator: null,
  sample_size: 1,
  details: {},
});

describe('the served copy of kpi_values', () => {
  it('reads the periods starting in [from, to] of each series asked, and nothing else', () => {
    const replica = new ValueReplica();
    const days = Array.from({ length: 400 }, (_, i) => new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
    replica.apply(days.map((day, i) => row('day', `${day} 00:00:00`, i)), 1);
    replica.apply([row('month', '2025-01-01 00:00:00', 1), row('month', '2025-02-01 00:00:00', 2), row('month', '2025-03-01 00:00:00', 3), row('day', '2025-01-02 00:00:00', 99, 'ads')], 1);
    const read = (granularity: 'day' | 'month', from: string, to: string, teams = ['search']) =>
      replica.read({ kpis: ['incident_count'], granularity, tier: 'all', teams, from: new Date(from), to: new Date(to) }).map((stored) => [stored.start, stored.value]);
    expect(read('day', '2025-01-30T00:00:00Z', '2025-02-02T00:00:00Z')).toEqual([
      ['2025-01-30 00:00:00', 29],
      ['2025-01-31 00:00:00', 30],
      ['2025-02-01 00:00:00', 31],
      ['2025-02-02 00:00:00', 32],
    ]);
    // A `from` inside a period starts at the next one; `to` is the start of the last period read.
    expect(read('month', '2025-01-15T00:00:00Z', '2025-03-01T00:00:00Z')).toEqual([
      ['2025-02-01 00:00:00', 2],
      ['2025-03-01 00:00:00', 3],
    ]);
    expect(read('day', '2025-01-02T00:00:00Z', '2025-01-02T00:00:00Z', ['search', 'ads'])).toEqual([
      ['2025-01-02 00:00:00', 1],
      ['2025-01-02 00:00:00', 99],
    ]);
    expect(read('day', '2030-01-01T00:00:00Z', '2030-02-01T00:00:00Z')).toEqual([]);
  });

  it('keeps the value computed last, whatever order versions arrive in', () => {
    const replica = new ValueReplica();
    replica.apply([row('month', '2025-01-01 00:00:00', 2)], 20);
    expect(replica.apply([row('month', '2025-01-01 00:00:00', 1)], 10)).toBe(0);
    expect(replica.read({ kpis: ['incident_count'], granularity: 'month', tier: 'all', teams: ['search'], from: new Date('2025-01-01'), to: new Date('2025-01-01') })[0]!.value).toBe(2);
  });

  it('moves the version of the scopes whose values changed, and of every scope when anything else did', () => {
    const replica = new ValueReplica();
    replica.apply([row('month', '2025-01-01 00:00:00', 1), row('month', '2025-01-01 00:00:00', 1, 'ads')], 10);
    const versions = () => [replica.scopeVersion('month', 'search'), replica.scopeVersion('month', 'ads'), replica.scopeVersion('day', 'search')];
    const [search, ads, daySearch] = versions();
    replica.apply([row('month', '2025-02-01 00:00:00', 2)], 20);
    const [searchAfter, ...others] = versions();
    expect(searchAfter).not.toBe(search);
    expect(others).toEqual([ads, daySearch]);
    // An older version that does not replace the value changes nothing.
    const before = versions();
    replica.apply([row('month', '2025-02-01 00:00:00', 1, 'search')], 5);
    expect(versions()).toEqual(before);
    // Targets reloaded, a KPI removed: every scope.
    replica.changed();
    const afterChange = versions();
    afterChange.forEach((version, i) => expect(version).not.toBe(before[i]));
    replica.remove('incident_count', 100);
    versions().forEach((version, i) => expect(version).not.toBe(afterChange[i]));
    // Another copy (a reload) never shares a version with this one.
    expect(new ValueReplica().scopeVersion('month', 'search')).not.toBe(new ValueReplica().scopeVersion('month', 'search'));
  });
});
