import { createStorage, migrate } from '@kpi/storage';
import { makeEvent } from '@kpi/events';
import { planRecomputes } from '@kpi/kpi';
import { eventLine, insertEventLines } from './src/rows.ts';
import { eventRef } from '@kpi/events';
import { rmSync } from 'node:fs';
rmSync('/tmp/pq', { recursive: true, force: true });
const storage = createStorage({ clickhouse: { url: undefined, user: 'default', password: '', database: 'pq', cluster: undefined }, dataDir: '/tmp/pq' });
await migrate(storage);
const t0 = Date.parse('2026-06-01T00:00:00Z');
const ev = (i: number) => { const time = new Date(t0 + i * 1000).toISOString(); const team = `team-${i % 24}`;
  return i % 2 ? makeEvent('incident.opened', { incident_id: `inc-${i}`, team, tier: 1, severity: 'sev2', category: 'model', started_at: time, detected_at: time }, { id: `b${i}`, time })
    : makeEvent('serving.window', { model_id: `m-${i % 80}`, team, tier: 1, requests: 1000, latency_p95_ms: 80, cost_usd: 0.3 }, { id: `b${i}`, time }); };
for (let k = 0; k < 250; k++) { let lines = ''; for (let j = 0; j < 4000; j++) lines += eventLine(ev(k * 4000 + j), { topic: 't', partition: 0, offset: String(k * 4000 + j) }); await insertEventLines(storage, lines, `t${k}`); }
console.log('inserted');
for (let r = 0; r < 5; r++) {
  const refs = Array.from({ length: 2000 }, (_, j) => eventRef(ev(900_001 + r * 4000 + j * 2)));
  const s = performance.now(); const c0 = process.cpuUsage();
  const plans = await planRecomputes(storage, refs, new Date('2026-11-24T00:00:00Z'));
  const c = process.cpuUsage(c0);
  console.log('plan ms', (performance.now() - s).toFixed(1), 'cpu ms', ((c.user + c.system) / 1000).toFixed(1), 'plans', plans.length);
}
await storage.close();
