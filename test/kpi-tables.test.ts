import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, makeEvent, sampleData } from '@kpi/events';
import { storeEvents } from '@kpi/ingest';
import { SOURCES } from '@kpi/kpi';
import { loadMigrations, sql, type Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage } from '@kpi/testing';

// The KPI engine reads typed tables that ingestion fills with each chunk's events (kpi-rows.ts):
// every source's rows must come out of the events its KPIs read, once each however often they are
// inserted, with the fields the SQL of migrations 011 and 013 extracted before ingestion did.
let storage: Storage;
const events = EVENT_TYPES.map((type, i) => makeEvent(type, sampleData[type], { source: 'tables-test', id: `e-${i}`, time: '2026-03-01T10:00:00Z' }));
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
  await storeEvents(storage, events, 't', 'tables-test-1');
  // The same events again in another chunk: duplicates by (source, id).
  await storeEvents(storage, events, 't', 'tables-test-2');
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

  it('hold what the views of migrations 011 and 013 extracted from the same events, field by field', async () => {
    // Text that TabSeparated lines and the quoted strings inside their arrays must escape, and facts left out.
    const awkward = "it's \\ a\ttab\nnewline\r\u0000 \"quoted\" ünïcode";
    await storeEvents(
      storage,
      [
        makeEvent('release.deployed', {
          ...sampleData['release.deployed'],
          release_id: `rel ${awkward}`,
          model_id: awkward,
          monitoring: { drift_enabled: false, drift_alerting: true, features: [{ name: awkward, critical: true, drift_monitored: false }, { name: "'", critical: false, drift_monitored: true }] },
          slices: [{ segment: awkward, value: 1e-7, baseline: -2.5, higher_is_better: false }],
        }),
        makeEvent('release.updated', { release_id: `rel ${awkward}`, reproducible: false }),
        makeEvent('incident.opened', { ...sampleData['incident.opened'], incident_id: awkward, model_id: awkward }),
        makeEvent('incident.mitigated', { incident_id: awkward }),
        makeEvent('serving.window', { ...sampleData['serving.window'], model_id: awkward }),
        makeEvent('dataset.arrived', { ...sampleData['dataset.arrived'], dataset: awkward }),
        makeEvent('data.validated', { ...sampleData['data.validated'], suite: awkward }),
        makeEvent('survey.response', { ...sampleData['survey.response'], comment: awkward }),
      ].map((event) => ({ ...event, source: awkward })),
      't',
      'tables-test-awkward',
    );
    // The views' SELECTs, as the migrations wrote them, run over `events` into copies of each table.
    const views = loadMigrations(undefined)
      .flatMap((migration) => migration.statements)
      .filter((statement) => statement.startsWith('CREATE MATERIALIZED VIEW') && !statement.includes('entity_events'));
    expect(views).toHaveLength(7);
    for (const view of views) {
      const table = /TO \{db:Identifier\}\.(\w+) AS/.exec(view)![1]!;
      const select = view.slice(view.search(/ AS\s+SELECT/) + 4);
      // Same columns and types; one row per event after FINAL, as the original.
      await storage.command(`CREATE TABLE {db:Identifier}.{copy:Identifier} ENGINE = ReplacingMergeTree(ingested_at) ORDER BY (source, id) AS SELECT * FROM {db:Identifier}.{original:Identifier} WHERE 0`, {
        original: table,
        copy: `${table}_by_sql`,
      });
      await storage.command(`INSERT INTO {db:Identifier}.{copy:Identifier} ${select}`, { copy: `${table}_by_sql` });
      const read = (name: string) => storage.query(`SELECT * EXCEPT (ingested_at) FROM {db:Identifier}.{name:Identifier} FINAL ORDER BY source, id`, { name });
      const written = await read(table);
      expect(written.length, table).toBeGreaterThan(0);
      expect(written, table).toEqual(await read(`${table}_by_sql`));
    }
  });
});
