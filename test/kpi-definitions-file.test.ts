import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@kpi/config';
import { makeEvent, type AnyEvent } from '@kpi/events';
import { storeEvents } from '@kpi/ingest';
import { ALL_TEAMS, Catalog, computeValues, type ScopedValue } from '@kpi/kpi';
import type { Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage } from '@kpi/testing';

// Custom KPIs from KPI_DEFINITIONS_FILE (SPEC 5b): read once when the catalog loads, computed by
// the engine like those of the API, and a bad file stops start-up naming the variable, the entry
// and the field. Expected values are worked out by hand below.
const dir = mkdtempSync(join(tmpdir(), 'kpi-definitions-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const DEFINITIONS = `
# A count over a built-in type, filtered and tiered.
- id: shadow_releases
  name: Shadow releases
  description: Releases deployed to the shadow environment
  unit: count
  direction: higher
  source: release.deployed
  tier: data.tier
  where: {data.environment: shadow}
  value: {agg: count}
  targets: [{op: '>=', value: 2, granularity: quarter}]
# A median over a custom type, anchored on a time in its data.
- id: review_turnaround_hours
  name: Review turnaround
  description: Median hours from request to review
  unit: hours
  direction: lower
  source: custom.code_review
  schema:
    type: object
    required: [team, hours, reviewed_at]
    properties: {team: {type: string}, hours: {type: number}, reviewed_at: {type: string, format: date-time}}
  anchor: data.reviewed_at
  value: {agg: median, field: data.hours}
  targets: [{op: '<=', value: 24}]
`;

let storage: Storage;
let catalog: Catalog;

const release = (id: string, team: string, tier: 1 | 2 | 3, environment: 'production' | 'shadow', time: string) =>
  makeEvent('release.deployed', { release_id: id, model_id: `${team}-model`, model_version: '1', team, tier, environment }, { source: 'definitions-file', id, time });
const review = (id: string, team: string, hours: number, reviewedAt: string): AnyEvent => ({
  specversion: '1.0',
  id,
  source: 'definitions-file',
  type: 'custom.code_review',
  // Sent in December: only `reviewed_at` says which period a review counts in.
  time: '2025-12-31T00:00:00Z',
  datacontenttype: 'application/json',
  data: { team, hours, reviewed_at: reviewedAt },
});

const EVENTS: AnyEvent[] = [
  release('c1', 'search', 1, 'shadow', '2025-01-10T10:00:00Z'),
  release('c2', 'search', 2, 'shadow', '2025-02-10T10:00:00Z'),
  release('c3', 'ranking', 1, 'shadow', '2025-02-20T10:00:00Z'),
  release('p1', 'search', 1, 'production', '2025-02-21T10:00:00Z'),
  release('c4', 'ranking', 1, 'shadow', '2025-04-02T10:00:00Z'),
  review('r1', 'search', 10, '2025-01-05T09:00:00Z'),
  review('r2', 'search', 30, '2025-01-20T09:00:00Z'),
  review('r3', 'ranking', 5, '2025-02-03T09:00:00Z'),
  review('r4', 'search', 2, '2025-02-04T09:00:00Z'),
];

let values: ScopedValue[] = [];
const value = (kpi: string, granularity: string, start: string, team = ALL_TEAMS, tier = 'all') =>
  values.find((v) => v.kpi === kpi && v.granularity === granularity && v.period.start.toISOString().startsWith(start) && v.team === team && v.tier === tier)?.evaluation;

beforeAll(async () => {
  storage = await migratedStorage(isolatedConfig());
  catalog = await Catalog.fromConfig(storage, { definitionsFile: file('kpis.yaml', DEFINITIONS) });
  await storeEvents(storage, EVENTS, 't', 'definitions-file');
  const kpis = ['shadow_releases', 'review_turnaround_hours'].map((id) => catalog.get(id)!);
  const windows = (['month', 'quarter', 'year'] as const).map((granularity) => ({ granularity, from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-12-31T00:00:00Z') }));
  await computeValues(storage, { kpis, windows, teams: [ALL_TEAMS, 'search', 'ranking'], now: new Date('2026-01-01T00:00:00Z') }, async (batch) => {
    values.push(...batch);
  });
});
afterAll(() => {
  catalog?.close();
  return storage?.close();
});

describe('KPI_DEFINITIONS_FILE', () => {
  it('puts its KPIs in the catalog as custom ones, with their custom event types', () => {
    expect(catalog.list().map((kpi) => kpi.id)).toEqual(expect.arrayContaining(['releases_delivered', 'shadow_releases', 'review_turnaround_hours']));
    expect(catalog.definitionOf('shadow_releases')).toMatchObject({ unit: 'count', source: 'release.deployed' });
    expect(catalog.eventTypes.has('custom.code_review')).toBe(true);
  });

  it('a filtered, tiered count over a built-in type', () => {
    // Q1 shadow releases: c1 (search, tier 1), c2 (search, tier 2), c3 (ranking, tier 1); p1 is production.
    expect(value('shadow_releases', 'quarter', '2025-01-01')).toMatchObject({ value: 3, sample_size: 3 });
    expect(value('shadow_releases', 'quarter', '2025-01-01', 'search')).toMatchObject({ value: 2 });
    expect(value('shadow_releases', 'quarter', '2025-01-01', ALL_TEAMS, '1')).toMatchObject({ value: 2 });
    expect(value('shadow_releases', 'month', '2025-02-01')).toMatchObject({ value: 2 });
    // The year adds April's c4.
    expect(value('shadow_releases', 'year', '2025-01-01')).toMatchObject({ value: 4 });
    expect(value('shadow_releases', 'month', '2025-03-01')).toMatchObject({ value: 0, sample_size: 0 });
  });

  it('a median over a custom type, in the period of the time its data names', () => {
    // January reviews: 10 and 30 (search) -> median 20; February: 5 (ranking), 2 (search) -> 3.5.
    expect(value('review_turnaround_hours', 'month', '2025-01-01')).toMatchObject({ value: 20, sample_size: 2 });
    expect(value('review_turnaround_hours', 'month', '2025-02-01')).toMatchObject({ value: 3.5, sample_size: 2 });
    // Q1, search: 2, 10, 30 -> 10. Nothing counts in December, when they were sent.
    expect(value('review_turnaround_hours', 'quarter', '2025-01-01', 'search')).toMatchObject({ value: 10, sample_size: 3 });
    expect(value('review_turnaround_hours', 'month', '2025-12-01')).toMatchObject({ value: null, sample_size: 0 });
  });

  it('a bad file stops start-up naming the variable, the entry and the field', async () => {
    const bad = file('bad.yaml', `${DEFINITIONS}\n- id: releases_delivered\n  name: x\n  unit: count\n  direction: higher\n  source: release.deployed\n  value: {agg: count}\n`);
    await expect(Catalog.fromConfig(storage, { definitionsFile: bad })).rejects.toThrow(ConfigError);
    const wrongAgg = file('agg.yaml', DEFINITIONS.replace('agg: median', 'agg: mode'));
    await expect(Catalog.fromConfig(storage, { definitionsFile: wrongAgg })).rejects.toThrow(/KPI_DEFINITIONS_FILE=.*agg\.yaml: \[1\].*agg/);
    await expect(Catalog.fromConfig(storage, { definitionsFile: join(dir, 'missing.yaml') })).rejects.toThrow(/KPI_DEFINITIONS_FILE=/);
  });
});
