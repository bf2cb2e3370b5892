// Where a rebuild spends its time, per KPI (compute vs store): `node --import tsx bench/profile-rebuild.ts [events] [data dir]`. Loads the demo organisation straight into embedded ClickHouse (no Kafka), once per data directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@kpi/config';
import { demoHistory } from '@kpi/demo';
import { storeEvents } from '@kpi/ingest';
import { ALL_TEAMS, CATALOG, computeValues, GRANULARITIES, periodStartOf, storeValues } from '@kpi/kpi';
import { createStorage, eventQueries, migrate } from '@kpi/storage';

const count = Number(process.argv[2] ?? 100000);
const dataDir = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'kpi-prof-'));
const config = loadConfig({ DATA_DIR: dataDir, KAFKA_BROKERS: 'x:1', REDIS_URL: 'redis://x:1' });
const storage = createStorage({ clickhouse: config.clickhouse, dataDir });
await migrate(storage);
const [existing] = await storage.query<{ n: number }>('SELECT count() AS n FROM {db:Identifier}.events');
if (Number(existing!.n) === 0) {
  let n = 0;
  for (let seed = 1; n < count; seed++) {
    const events = demoHistory(seed, Date.parse('2026-12-01T00:00:00Z'), 24).slice(0, count - n);
    for (let i = 0; i < events.length; i += 10000) {
      await storeEvents(storage, events.slice(i, i + 10000), 't', `p-${seed}-${i}`);
    }
    n += events.length;
  }
  console.log('loaded', n, 'into', dataDir);
}
const now = new Date('2026-12-01T00:00:00Z');
const first = (await eventQueries.firstEventTime(storage))!;
const teams = [ALL_TEAMS, ...(await eventQueries.knownTeams(storage))];
const windows = GRANULARITIES.map((granularity) => ({ granularity, from: periodStartOf(granularity, first), to: new Date(now.getTime() + 1) }));
const only = process.env.KPIS?.split(',');
const kpis = only ? CATALOG.filter((k) => only.includes(k.id)) : CATALOG;
let t = performance.now();
let storeMs = 0;
const started = performance.now();
await computeValues(storage, { kpis, windows, teams, now }, async (values) => {
  const computed = performance.now() - t;
  const s = performance.now();
  if (!process.env.NOSTORE) await storeValues(storage, values, now);
  storeMs += performance.now() - s;
  console.log(values[0]?.kpi, values.length, 'compute', computed.toFixed(0), 'ms store', (performance.now() - s).toFixed(0), 'ms');
  t = performance.now();
});
console.log('total', ((performance.now() - started) / 1000).toFixed(1), 's, store', (storeMs / 1000).toFixed(1), 's');
await storage.close();
