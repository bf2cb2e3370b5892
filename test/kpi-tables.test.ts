import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, makeEvent, sampleData } from '@kpi/events';
import { eventLine } from '@kpi/ingest';
import { SOURCES } from '@kpi/kpi';
import { insertEventLines, loadMigrations, sql, type Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage } from '@kpi/testing';

// The KPI engine reads typed tables filled by materialized views (migrations 011, 013): every source's
// rows must come out of the events its KPIs read, once each however often they are inserted.
let storage: Storage;
const events = EVENT_TYPES.map((type, i) => makeEvent(type, sampleData[type], { source: 'tables-test', id: `e-${i}`, time: '2026-03-01T10:00:00Z' }));
const lines = (offset: number) => events.map((event, i) => eventLine(event, { topic: 't', partition: 0, offset: String(offset + i) })).join('');
const rowCounts = async () =>
  Object.fromEntries(
    await Promise.all(
      Object.entries(SOURCES).map(async ([name, source]) => {
        const [row] = await storage.query<{ n: number }>(sql`SELECT count() AS n FROM (${source.rows()})`);
        return [name, Number(row!.n)] as const;
      }),
    ),
  );

beforeAll(async () => {
  storage = await migratedStorage(isolatedConfig());
  await insertEventLines(storage, lines(0), 'tables-test-1');
  // The same events again in another batch: duplicates by (source, id).
  await insertEventLines(storage, lines(100), 'tables-test-2');
});
afterAll(() => storage?.close());

describe('KPI tables', () => {
  it('give every source one row from one sample event of each type, whatever the duplicates', async () => {
    const expected = Object.fromEntries(Object.keys(SOURCES).map((name) => [name, 1]));
    expect(await rowCounts()).toEqual(expected);
  });

  it('every event type a source reads reaches the table it reads', async () => {
    const types = new Set(Object.values(SOURCES).flatMap((source) => [...source.eventTypes]));
    const stored = await storage.query<{ type: string }>(
      `SELECT DISTINCT type FROM (
         SELECT type FROM {db:Identifier}.release_events UNION ALL SELECT type FROM {db:Identifier}.incident_events
         UNION ALL SELECT type FROM {db:Identifier}.experiment_events UNION ALL SELECT type FROM {db:Identifier}.signal_events
         UNION ALL SELECT 'serving.window' FROM {db:Identifier}.serving_windows UNION ALL SELECT 'dataset.arrived' FROM {db:Identifier}.dataset_arrivals
         UNION ALL SELECT 'data.validated' FROM {db:Identifier}.data_validations)`,
    );
    for (const type of types) expect(stored.map((row) => row.type)).toContain(type);
  });

  it('the migration fills them from the events stored before it', async () => {
    await storage.command('TRUNCATE TABLE {db:Identifier}.serving_windows');
    await storage.command('TRUNCATE TABLE {db:Identifier}.incident_events');
    const backfill = loadMigrations(undefined).find((migration) => migration.name === 'kpi_sources')!.statements.at(-1)!;
    await storage.command(backfill);
    const counts = await rowCounts();
    expect(counts.servingWindows).toBe(1);
    expect(counts.incidents).toBe(1);
  });
});
