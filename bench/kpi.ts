/**
 * KPI engine benchmark (issue 13). Run by hand: `node --import tsx bench/kpi.ts [events ...]`
 * (default 1 000 000 then 10 000 000, in one run). Loads a realistic organisation (the demo
 * generator with 24 teams, several seeds) through Kafka and the ingest role into embedded
 * ClickHouse, and at each size measures:
 * - the full rebuild, run as `node services/worker --rebuild` in its own process, that process's
 *   start-up (spawn to its "rebuild started" line: loading the build, opening ClickHouse,
 *   connecting Redis) and its peak RSS (embedded ClickHouse included, since it lives in the process);
 * - the floor: one SELECT reading every stored event once (FINAL, every column);
 * - API latency under 20 concurrent clients (autocannon), and the served values' load at start;
 * - freshness: produce -> updated KPI value through the API, with the worker running.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import type { Config } from '@kpi/config';
import { DEMO_CUSTOM_KPI, demoHistory, produceEvents } from '@kpi/demo';
import { makeEvent } from '@kpi/events';
import { startIngestRole } from '@kpi/ingest';
import { startWorkerRole } from '@kpi/worker';
import { buildApi } from '@kpi/api';
import { createRuntime, stopAll, type Runtime } from '@kpi/runtime';
import { benchInfra, cpuSeconds, quantile, report } from './support.ts';

// Built now, so that the rebuild's start-up below does not include building it.
execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });

/** pino's number for warn: the rebuild's log lines shown from this level up. */
const WARN_LEVEL = 40;

const sizes = process.argv.slice(2).map(Number);
const targets = sizes.length > 0 ? sizes : [1_000_000, 10_000_000];
const infra = await benchInfra();
const env = { INGEST_BATCH_SIZE: '10000' };
const config = infra.config(env);
// At info, so that the rebuild's "rebuild started" line marks the end of its start-up.
const childEnv = { ...process.env, KAFKA_BROKERS: infra.kafka.brokers.join(','), REDIS_URL: infra.redis.url, DATA_DIR: infra.dataDir, LOG_LEVEL: 'info', KPI_DEMO: '0', ...env };

let produced = 0;
let seed = 1;
const rows: Record<string, string | number> = {};

for (const target of targets) {
  // Load: the demo organisation through Kafka and the ingest role, until `target` events are committed.
  let runtime = await createRuntime(config);
  if (!runtime.catalog.get(DEMO_CUSTOM_KPI.id)) await runtime.catalog.put(DEMO_CUSTOM_KPI);
  const ingest = await startIngestRole(runtime);
  const producer = await runtime.producer();
  const loadStarted = Date.now();
  for (; produced < target; seed++) {
    const events = demoHistory(seed, Date.now(), 24).slice(0, target - produced);
    await produceEvents(producer, config.kafka.topics, events);
    produced += events.length;
  }
  await waitForCommits(runtime, config, produced);
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  // The ingest role queued recomputes while loading; the rebuild below replaces them.
  await runtime.redis.flushdb();
  await stopAll(runtime, [ingest]);

  // The rebuild in a process of its own (embedded ClickHouse binds the data directory to one process).
  const rebuild = await measureProcess(['services/worker', '--rebuild'], childEnv, 'rebuild started');

  runtime = await createRuntime(config);
  const floor = await scanFloor(runtime);
  const [stored] = await runtime.storage.query<{ values: number }>('SELECT count() AS values FROM {db:Identifier}.kpi_values FINAL');
  const label = `${(target / 1e6).toLocaleString('en')}M events`;
  rows[`${label}: load through Kafka and ingest`] = `${loadSeconds.toFixed(1)} s`;
  rows[`${label}: full rebuild (node services/worker --rebuild)`] = `${rebuild.seconds.toFixed(1)} s, ${Number(stored?.values).toLocaleString('en')} values`;
  rows[`${label}: scan floor (one SELECT over every event, FINAL)`] = `${floor.toFixed(2)} s`;
  rows[`${label}: rebuild / floor`] = `${(rebuild.seconds / floor).toFixed(1)}x`;
  rows[`${label}: rebuild process start-up (spawn to "rebuild started")`] = `${rebuild.startUpSeconds.toFixed(2)} s (${rebuild.startUpCpuSeconds.toFixed(2)} s CPU)`;
  rows[`${label}: rebuild process peak RSS`] = `${rebuild.peakRssMb.toFixed(0)} MB`;
  Object.assign(rows, await measureServing(runtime, config, label));
  await runtime.close();
}
await infra.stop();
report('KPI engine benchmark: the demo organisation (24 teams, two years), embedded ClickHouse', rows);
process.exit(0);

async function waitForCommits(runtime: Runtime, config: Config, count: number) {
  const admin = runtime.kafka.admin();
  await admin.connect();
  const topics = [config.kafka.topics.releases, config.kafka.topics.incidents, config.kafka.topics.experiments, config.kafka.topics.signals];
  while ((await admin.fetchOffsets({ groupId: config.kafka.groupId, topics })).flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) < count) await sleep(500);
  await admin.disconnect();
}

/**
 * Runs a node entry point to completion: wall time, peak RSS (VmHWM, sampled until exit) and
 * start-up, the time and CPU time until it logs `startedMessage` (on a busy machine the CPU time
 * says more than the wall time). Its log lines at warn and above are shown.
 */
async function measureProcess(args: string[], env: NodeJS.ProcessEnv, startedMessage: string): Promise<{ seconds: number; startUpSeconds: number; startUpCpuSeconds: number; peakRssMb: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let startUpSeconds = NaN;
  let startUpCpuSeconds = NaN;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const entry = parseLogLine(line);
    if (entry?.msg === startedMessage && Number.isNaN(startUpSeconds)) {
      startUpSeconds = (Date.now() - started) / 1000;
      startUpCpuSeconds = cpuSeconds(child.pid!);
    }
    if (!entry || entry.level >= WARN_LEVEL) console.log(line);
  });
  let peak = 0;
  const sample = setInterval(() => {
    try {
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024);
    } catch {
      /* exited */
    }
  }, 100);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sample);
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`);
  if (Number.isNaN(startUpSeconds)) throw new Error(`${args.join(' ')} never logged "${startedMessage}"`);
  return { seconds: (Date.now() - started) / 1000, startUpSeconds, startUpCpuSeconds, peakRssMb: peak };
}

/** A JSON log line (pino) or undefined for any other output. */
function parseLogLine(line: string): { level: number; msg?: string } | undefined {
  try {
    const entry: unknown = JSON.parse(line);
    return typeof entry === 'object' && entry !== null && 'level' in entry && typeof entry.level === 'number' ? (entry as { level: number; msg?: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** The time of one query that reads every stored event once, every column, deduplicated as the KPIs read them. */
async function scanFloor(runtime: Runtime): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await runtime.storage.query('SELECT count(), sum(length(data)), max(time), uniqExact(type), max(ingested_at) FROM {db:Identifier}.events FINAL');
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}

/** API latency (20 clients), the served values' load, and freshness produce -> KPI value, with every role running. */
async function measureServing(runtime: Runtime, config: Config, label: string): Promise<Record<string, string>> {
  const worker = await startWorkerRole(runtime);
  const ingest = await startIngestRole(runtime);
  const api = await buildApi({ runtime, tokens: config.apiTokens! });
  const address = await api.listen({ port: 0, host: '127.0.0.1' });
  const load = (path: string) =>
    autocannon({ url: `${address}${path}`, connections: 20, duration: 10, headers: { authorization: 'Bearer bench' } }) as Promise<autocannon.Result>;
  const valuesLoad = await load('/v1/kpis/time_to_mitigate_hours/values?granularity=week&team=ranking&tier=1');
  const scorecard = await load('/v1/scorecard');
  // What a process pays once, at start, to serve every value from memory.
  const reloadStarted = performance.now();
  await runtime.serving.reload();
  const reloadSeconds = (performance.now() - reloadStarted) / 1000;
  const producer = await runtime.producer();
  const freshness: number[] = [];
  for (let i = 0; i < 20; i++) {
    const team = `fresh-${Date.now().toString(36)}-${i}`;
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
  await worker.stop();
  await ingest.stop();
  const latency = (result: autocannon.Result) => `p50 ${result.latency.p50} ms, p97.5 ${result.latency.p97_5} ms, p99 ${result.latency.p99} ms (${Math.round(result.requests.average)} req/s, ${result.non2xx} non-2xx)`;
  return {
    [`${label}: GET /v1/kpis/:id/values, 20 clients`]: latency(valuesLoad),
    [`${label}: GET /v1/scorecard, 20 clients`]: latency(scorecard),
    [`${label}: served values loaded from ClickHouse (at start)`]: `${reloadSeconds.toFixed(2)} s, ${runtime.serving.values.size.toLocaleString('en')} values`,
    [`${label}: freshness produce -> KPI value`]: `p50 ${quantile(freshness, 0.5)} ms, p95 ${quantile(freshness, 0.95)} ms`,
  };
}
