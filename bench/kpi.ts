/**
 * KPI engine benchmark (issue 4). Run by hand: `node --import tsx bench/kpi.ts [events]` (default 1 000 000).
 * Loads a realistic organisation (the demo generator with 24 teams, several seeds) through Kafka
 * and the ingest role into embedded ClickHouse, then measures: a full rebuild of every KPI for
 * every team, tier and granularity; API latency under 20 concurrent clients (autocannon); and
 * freshness from produce to an updated KPI value with the worker running.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { demoHistory, produceEvents } from '@kpi/demo';
import { makeEvent } from '@kpi/events';
import { startIngestRole } from '@kpi/ingest';
import { rebuildAll, startWorkerRole } from '@kpi/worker';
import { buildApi } from '@kpi/api';
import { createRuntime, stopAll } from '@kpi/runtime';
import { benchInfra, quantile, report } from './support.ts';

const target = Number(process.argv[2] ?? 1_000_000);
const infra = await benchInfra();
const config = infra.config({ INGEST_BATCH_SIZE: '10000' });
const runtime = await createRuntime(config);
const ingest = await startIngestRole(runtime);
const producer = await runtime.producer();

let produced = 0;
let loadSeconds = 0;
for (let seed = 1; produced < target; seed++) {
  const events = demoHistory(seed, Date.now(), 24).slice(0, target - produced);
  const started = Date.now();
  await produceEvents(producer, config.kafka.topics, events);
  loadSeconds += (Date.now() - started) / 1000;
  produced += events.length;
}
const admin = runtime.kafka.admin();
await admin.connect();
const topics = [config.kafka.topics.releases, config.kafka.topics.incidents, config.kafka.topics.experiments, config.kafka.topics.signals];
while ((await admin.fetchOffsets({ groupId: config.kafka.groupId, topics })).flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) < produced) await sleep(500);
await admin.disconnect();
// The ingest role queued recomputes while loading; the rebuild below replaces them.
await runtime.redis.flushdb();

const rebuildStarted = Date.now();
const written = await rebuildAll(runtime.storage);
const rebuildSeconds = (Date.now() - rebuildStarted) / 1000;

const api = await buildApi({ runtime, tokens: config.apiTokens! });
const address = await api.listen({ port: 0, host: '127.0.0.1' });
const load = (path: string) =>
  autocannon({ url: `${address}${path}`, connections: 20, duration: 10, headers: { authorization: 'Bearer bench' } }) as Promise<autocannon.Result>;
const values = await load('/v1/kpis/time_to_mitigate_hours/values?granularity=week&team=ranking&tier=1');
const scorecard = await load('/v1/scorecard');

// Uncached: a single client, the values version bumped before each request so every read goes to ClickHouse.
const cold: number[] = [];
for (let i = 0; i < 50; i++) {
  await runtime.queues.valuesChanged();
  const started = performance.now();
  await api.inject({ url: `/v1/kpis/time_to_mitigate_hours/values?granularity=week&team=ranking&tier=1`, headers: { authorization: 'Bearer bench' } });
  cold.push(performance.now() - started);
}
cold.sort((a, b) => a - b);

const worker = await startWorkerRole(runtime);
const freshness: number[] = [];
for (let i = 0; i < 20; i++) {
  const team = `fresh-${i}`;
  const sent = Date.now();
  await produceEvents(producer, config.kafka.topics, [makeEvent('survey.response', { team, score: 5 })]);
  for (;;) {
    const response = await api.inject({ url: `/v1/kpis/stakeholder_satisfaction/values?team=${team}`, headers: { authorization: 'Bearer bench' } });
    if (response.json().values.at(-1).sample_size === 1) break;
    await sleep(20);
  }
  freshness.push(Date.now() - sent);
}
freshness.sort((a, b) => a - b);
await api.close();
await stopAll(runtime, [ingest, worker]);
await infra.stop();

const latency = (result: autocannon.Result) => `p50 ${result.latency.p50} ms, p90 ${result.latency.p90} ms, p97.5 ${result.latency.p97_5} ms, p99 ${result.latency.p99} ms (${Math.round(result.requests.average)} req/s, ${result.non2xx} non-2xx)`;
report(`KPI engine benchmark: ${produced.toLocaleString()} events (24 teams, two years), embedded ClickHouse`, {
  'load through Kafka (produce only)': `${loadSeconds.toFixed(1)} s`,
  'full rebuild: 28 KPIs x 3 granularities x all teams and tiers': `${rebuildSeconds.toFixed(1)} s (${written.toLocaleString()} values)`,
  'GET /v1/kpis/:id/values, 20 clients': latency(values),
  'GET /v1/scorecard, 20 clients': latency(scorecard),
  'GET /v1/kpis/:id/values uncached, 1 client': `p50 ${quantile(cold, 0.5).toFixed(1)} ms, p95 ${quantile(cold, 0.95).toFixed(1)} ms`,
  'freshness produce -> KPI value, p50': `${quantile(freshness, 0.5)} ms`,
  'freshness produce -> KPI value, p95': `${quantile(freshness, 0.95)} ms`,
});
process.exit(0);
