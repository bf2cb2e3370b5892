import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, describe, expect, it } from 'vitest';
import { createStorage, loadMigrations, migrate, wrapClient } from '../src/index.ts';

// Embedded ClickHouse through the same @clickhouse/client code that talks to a server.
const dataDir = mkdtempSync(join(tmpdir(), 'kpi-storage-'));
const storage = createStorage({ clickhouse: { url: undefined, user: 'default', password: '', database: 'migrate_test', cluster: undefined }, dataDir });
afterAll(() => storage.close());

describe('migrations', () => {
  it('create the schema once, even when two runs start at once', async () => {
    const [first, second] = await Promise.all([migrate(storage), migrate(storage)]);
    const all = loadMigrations(undefined).map((migration) => migration.version);
    expect([...new Set([...first, ...second])].sort((a, b) => a - b)).toEqual(all);
    expect(await migrate(storage)).toEqual([]);
    const tables = await storage.query<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name');
    expect(tables.map((table) => table.name)).toEqual(expect.arrayContaining(['events', 'kpi_values', 'schema_migrations']));
    const recorded = await storage.query<{ n: number }>('SELECT count() AS n FROM {db:Identifier}.schema_migrations FINAL');
    expect(recorded[0]!.n).toBe(all.length);
    const [events] = await storage.query<{ ddl: string }>("SELECT create_table_query AS ddl FROM system.tables WHERE database = {db:String} AND name = 'events'");
    expect(events!.ddl).toMatch(/vertical_merge_algorithm_min_columns_to_activate = 1/);
  });

  it('insert TabSeparated text through the client as against a server, escapes and all', async () => {
    // The server's code path (@clickhouse/client's stream insert), on the same embedded engine.
    const viaClient = wrapClient(createClient({ connection: createChdbConnection({ path: join(dataDir, 'clickhouse') }) as never }), storage.database, undefined);
    await viaClient.command('CREATE TABLE IF NOT EXISTS {db:Identifier}.tsv_test (k String, v String) ENGINE = MergeTree ORDER BY k');
    await viaClient.insertTabSeparated('tsv_test', ['k', 'v'], 'a\ttab\\there\nb\tline\\nbreak\n');
    await storage.insertTabSeparated('tsv_test', ['k', 'v'], 'c\traw\\tinsert\n');
    const rows = await storage.query<{ k: string; v: string }>('SELECT k, v FROM {db:Identifier}.tsv_test ORDER BY k');
    expect(rows).toEqual([
      { k: 'a', v: 'tab\there' },
      { k: 'b', v: 'line\nbreak' },
      { k: 'c', v: 'raw\tinsert' },
    ]);
  });

  it('render Replicated engines and ON CLUSTER when a cluster is configured', () => {
    const clustered = loadMigrations('analytics').flatMap((migration) => migration.statements);
    const single = loadMigrations(undefined).flatMap((migration) => migration.statements);
    expect(clustered.filter((statement) => statement.startsWith('CREATE TABLE')).every((statement) => statement.includes('ON CLUSTER analytics') && statement.includes('ENGINE = Replicated'))).toBe(true);
    expect(single.some((statement) => statement.includes('Replicated') || statement.includes('ON CLUSTER'))).toBe(false);
  });
});
