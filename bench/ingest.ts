/**
 * Ingestion benchmark (issue 3). Run by hand: `node --import tsx bench/ingest.ts [events]`.
 * (a) a bare kafkajs consumer that only counts messages, (b) the ingest role taking them all the
 * way into embedded ClickHouse with offsets committed, in a child process (`node services/ingest`)
 * whose peak RSS is read from /proc; then end-to-end freshness at a steady 1 000 events/s.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka, createProducer, ensureTopics } from '@kpi/bus';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { produceEvents } from '@kpi/demo';
import { createStorage } from '@kpi/storage';
import { benchInfra, cpuSeconds, peakRssMb, quantile, report } from './support.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const infra = await benchInfra();
const config = infra.config();
const topics = config.kafka.topics;
const eventTopics = [topics.releases, topics.incidents, topics.experiments, topics.signals];
const kafka = createKafka(config.kafka, config.kafka.brokers!);
await ensureTopics(kafka, Object.values(topics), 3);
const producer = await createProducer(kafka);

// A mix of every topic: serving windows and arrivals dominate, as in a real organisation.
const t0 = Date.parse('2026-06-01T00:00:00Z');
function mixed(i: number): CloudEvent {
  const time = new Date(t0 + i * 1000).toISOString();
  const team = `team-${i % 24}`;
  switch (i % 10) {
    case 0:
      return makeEvent('incident.opened', { incident_id: `inc-${i}`, team, tier: 1 + (i % 3) as 1, severity: 'sev2', category: 'model', started_at: time, detected_at: time }, { id: `b${i}`, time });
    case 1:
      return makeEvent('experiment.decided', { experiment_id: `exp-${i}`, decision: 'ship', actionable: true }, { id: `b${i}`, time });
    case 2:
      return makeEvent('alert.triaged', { alert_id: `a-${i}`, team, actionable: i % 3 === 0 }, { id: `b${i}`, time });
    case 3:
      return makeEvent('dataset.arrived', { dataset: `d-${i % 50}`, team, expected_at: time }, { id: `b${i}`, time });
    case 4:
      return makeEvent('training.run_completed', { run_id: `r-${i}`, model_id: `m-${i % 80}`, team, cost_usd: 12.5, reproducible: true }, { id: `b${i}`, time });
    default:
      return makeEvent('serving.window', { model_id: `m-${i % 80}`, team, tier: 1 + (i % 3) as 1, requests: 1000 + (i % 97), latency_p95_ms: 80, cost_usd: 0.3 }, { id: `b${i}`, time });
  }
}

let started = Date.now();
for (let start = 0; start < total; start += 10_000) {
  await produceEvents(producer, topics, Array.from({ length: Math.min(10_000, total - start) }, (_, k) => mixed(start + k)), 10_000);
}
const produceSeconds = (Date.now() - started) / 1000;

// (a) a bare consumer that only counts.
started = Date.now();
const bare = kafka.consumer({ groupId: 'bench-bare', maxBytesPerPartition: 4 * 1024 * 1024 });
await bare.connect();
await bare.subscribe({ topics: eventTopics, fromBeginning: true });
let counted = 0;
await new Promise<void>((resolve) => {
  void bare.run({ eachBatchAutoResolve: true, eachBatch: async ({ batch }) => { counted += batch.messages.length; if (counted >= total) resolve(); } });
});
const bareSeconds = (Date.now() - started) / 1000;
await bare.disconnect();

// (b) the ingest role in its own process, until every offset is committed.
const admin = kafka.admin();
await admin.connect();
const committed = async () =>
  (await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: eventTopics })).flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
const env = { ...process.env, KAFKA_BROKERS: config.kafka.brokers!.join(','), REDIS_URL: config.redis.url!, DATA_DIR: config.dataDir, LOG_LEVEL: 'error' };
// BENCH_INGEST_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the ingest process.
const nodeArgs = (process.env.BENCH_INGEST_NODE_ARGS ?? '').split(' ').filter(Boolean);
const ingest = spawn(process.execPath, [...nodeArgs, 'services/ingest'], { cwd: join(import.meta.dirname, '..'), env, stdio: 'inherit' });
started = Date.now();
let peak = 0;
// The first commit marks the end of start-up (modules, embedded ClickHouse, migrations, group join).
let firstCommit: { at: number; events: number; cpu: number } | undefined;
for (let done = 0; done < total; done = await committed()) {
  if (done > 0) firstCommit ??= { at: Date.now(), events: done, cpu: cpuSeconds(ingest.pid!) };
  peak = Math.max(peak, peakRssMb(ingest.pid!));
  await sleep(200);
}
const ingestSeconds = (Date.now() - started) / 1000;
const steadySeconds = (Date.now() - firstCommit!.at) / 1000;
const steadyCores = (cpuSeconds(ingest.pid!) - firstCommit!.cpu) / steadySeconds;
peak = Math.max(peak, peakRssMb(ingest.pid!));

// Freshness at a steady 1 000 events/s for 30 s: produced_at_ms travels in the event (unknown fields are kept).
const freshTotal = 30_000;
for (let second = 0; second < 30; second++) {
  const tick = Date.now();
  for (let k = 0; k < 10; k++) {
    const messages = Array.from({ length: 100 }, (_, j) => {
      const i = second * 1000 + k * 100 + j;
      const event = makeEvent('survey.response', { team: 'fresh', score: 4 }, { source: 'freshness', id: `f${i}` });
      return { key: event.id, value: JSON.stringify({ ...event, data: { ...event.data, produced_at_ms: Date.now() } }) };
    });
    await producer.send({ topic: topics.signals, acks: -1, messages });
    await sleep(Math.max(0, tick + (k + 1) * 100 - Date.now()));
  }
}
while ((await committed()) < total + freshTotal) await sleep(200);
ingest.kill('SIGTERM');
await new Promise((resolve) => ingest.once('exit', resolve));
await admin.disconnect();
await producer.disconnect();

const storage = createStorage({ clickhouse: config.clickhouse, dataDir: config.dataDir });
const [counts] = await storage.query<{ n: number }>('SELECT count() AS n FROM {db:Identifier}.events FINAL');
const lags = (
  await storage.query<{ lag: number }>(
    "SELECT toUnixTimestamp64Milli(ingested_at) - JSONExtractUInt(data, 'produced_at_ms') AS lag FROM {db:Identifier}.events FINAL WHERE source = 'freshness' ORDER BY lag",
  )
).map((row) => row.lag);
await storage.close();
await infra.stop();

report(`Ingestion benchmark: ${total.toLocaleString()} mixed events, 3 partitions per topic, embedded ClickHouse`, {
  'produce (idempotent producer, acks=all)': `${Math.round(total / produceSeconds).toLocaleString()} events/s`,
  '(a) bare kafkajs consumer, count only': `${Math.round(total / bareSeconds).toLocaleString()} events/s`,
  '(b) ingest role -> ClickHouse, committed': `${Math.round(total / ingestSeconds).toLocaleString()} events/s`,
  'ratio b/a': (bareSeconds / ingestSeconds).toFixed(2),
  '(b) after start-up (from its first commit)': `${Math.round((total - firstCommit!.events) / steadySeconds).toLocaleString()} events/s, start-up ${((firstCommit!.at - started) / 1000).toFixed(1)} s`,
  'CPU of the ingest process after start-up': `${steadyCores.toFixed(2)} cores, ${((steadyCores * steadySeconds * 1e6) / (total - firstCommit!.events)).toFixed(1)} us per event`,
  'peak RSS of the ingest process': `${peak.toFixed(0)} MB`,
  'rows in ClickHouse (FINAL)': `${counts!.n.toLocaleString()} of ${(total + freshTotal).toLocaleString()}`,
  'freshness at 1 000 events/s, p50': `${quantile(lags, 0.5)} ms`,
  'freshness at 1 000 events/s, p95': `${quantile(lags, 0.95)} ms`,
});
process.exit(0);
