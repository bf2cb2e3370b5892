import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStorage, withParameters } from '../src/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'kpi-params-'));
const storage = createStorage({ clickhouse: { url: undefined, user: 'default', password: '', database: 'params_test', cluster: undefined }, dataDir });
afterAll(() => storage.close());

// Values that break out of a naively quoted literal, or that a text format would mangle.
const HOSTILE = ["it's", 'back\\slash', "\\'; DROP TABLE x; --", 'tab\there', 'new\nline', 'cr\rhere', 'ünïcödé ✓', '{x:String}', '', '\\N'];

describe('query parameters bound on the embedded connection', () => {
  it('come back exactly as given, whatever they contain', async () => {
    for (const value of HOSTILE) {
      const [row] = await storage.query<{ v: string }>('SELECT {v:String} AS v', { v: value });
      expect(row!.v).toBe(value);
    }
    const [arrays] = await storage.query<{ v: string[] }>('SELECT {v:Array(String)} AS v', { v: HOSTILE });
    expect(arrays!.v).toEqual(HOSTILE);
  });

  it('bind typed values, NULL and identifiers as a server binds them', async () => {
    const [row] = await storage.query<{ n: number; t: string; none: null; inside: number; db: string }>(
      "SELECT {n:UInt32} AS n, toString({t:DateTime64(3, 'UTC')}) AS t, {none:Nullable(String)} AS none, 'b' IN {set:Array(String)} AS inside, currentDatabase() AS db",
      { n: 42, t: '2026-03-01 10:00:00.123', none: null, set: ['a', 'b'] },
    );
    expect(row).toMatchObject({ n: 42, t: '2026-03-01 10:00:00.123', none: null, inside: 1 });
    await storage.command('CREATE DATABASE IF NOT EXISTS {db:Identifier}');
    await storage.command('CREATE TABLE IF NOT EXISTS {db:Identifier}.{table:Identifier} (k String) ENGINE = MergeTree ORDER BY k', { table: 'odd name' });
    const [table] = await storage.query<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String}');
    expect(table!.name).toBe('odd name');
  });

  it('refuse a parameter name that is not an identifier', () => {
    expect(() => withParameters('SELECT 1', { 'x = 1; DROP': 1 })).toThrow(/invalid query parameter name/);
  });

  it('let a read on the serve lane pass a long statement on the compute lane', async () => {
    const long = storage.lane('compute').query('SELECT sum(cityHash64(number)) AS s FROM numbers({n:UInt64})', { n: 300_000_000 });
    let longDone = false;
    void long.then(() => (longDone = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const [read] = await storage.lane('serve').query<{ v: number }>('SELECT {v:UInt8} AS v', { v: 7 });
    expect(read!.v).toBe(7);
    expect(longDone).toBe(false);
    await long;
  });

  it('run background lanes at a lower OS priority than reads', async () => {
    const niceness = async (lane: 'serve' | 'compute' | 'ingest') => Number((await storage.lane(lane).query<{ p: string }>("SELECT getSetting('os_thread_priority') AS p"))[0]!.p);
    expect(await niceness('serve')).toBe(0);
    expect(await niceness('compute')).toBeGreaterThan(0);
    expect(await niceness('ingest')).toBeGreaterThan(0);
  });
});
