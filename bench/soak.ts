// Soak: the start command (`node services/stack`, every role in one process, its own Kafka broker
// and Redis) under a steady stream of events and API readers for a long run, with its Redis and
// then its broker SIGKILLed once each (the supervisor brings them back). Prints events sent and
// counted, RSS of every process at start and end, and API errors and timeouts while each
// dependency was down. Run by hand:
//   node --import tsx bench/soak.ts [--minutes 30] [--rate 500] [--clients 20] [--think-ms 1000]
// Each API client waits --think-ms between its requests (a dashboard refreshing), 0 for a closed loop.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { makeEvent, topicOfType, type CloudEvent } from '@kpi/events';
import { quantile, report } from './support.ts';
import { startStack, waitReady, type StackProcess } from '../test/support/stack.ts';

const { values: args } = parseArgs({
  options: { minutes: { type: 'string', default: '30' }, rate: { type: 'string', default: '500' }, clients: { type: 'string', default: '20' }, 'think-ms': { type: 'string', default: '1000' } },
});
const minutes = Number(args.minutes);
const rate = Number(args.rate);
const clients = Number(args.clients);
const thinkMs = Number(args['think-ms']);
const durationMs = minutes * 60_000;

const TEAMS = ['ranking', 'search', 'ads', 'fraud', 'vision', 'speech'];
const MONTHS = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06'];
/** Each event type sent, and the KPI whose sample size counts it (one per entity, team `all`, per month). */
const COUNTED_BY = {
  'serving.window': 'inference_latency_p95_ms',
  'dataset.arrived': 'data_freshness_sla',
  'survey.response': 'stakeholder_satisfaction',
  'training.run_completed': 'training_cost_per_run',
} as const;
type SoakType = keyof typeof COUNTED_BY;
const MIX: SoakType[] = ['serving.window', 'serving.window', 'serving.window', 'serving.window', 'serving.window', 'dataset.arrived', 'dataset.arrived', 'survey.response', 'survey.response', 'training.run_completed'];

function soakEvent(n: number): CloudEvent {
  const type = MIX[n % MIX.length]!;
  const team = TEAMS[n % TEAMS.length]!;
  const month = MONTHS[Math.floor(n / 7) % MONTHS.length]!;
  const time = `${month}-${String(1 + (n % 28)).padStart(2, '0')}T${String(n % 24).padStart(2, '0')}:00:00Z`;
  const options = { source: 'soak', id: `soak-${n}`, time };
  switch (type) {
    case 'serving.window':
      return makeEvent(type, { model_id: `${team}-model`, team, tier: ([1, 2, 3] as const)[n % 3]!, requests: 1000 + (n % 500), latency_p95_ms: 40 + (n % 60), cost_usd: 0.5 }, options);
    case 'dataset.arrived':
      return makeEvent(type, { dataset: `${team}_daily`, team, expected_at: time, sla_minutes: 120 }, options);
    case 'survey.response':
      return makeEvent(type, { team, score: 1 + (n % 5) }, options);
    case 'training.run_completed':
      return makeEvent(type, { run_id: `run-${n}`, model_id: `${team}-model`, team, cost_usd: 10 + (n % 7), reproducible: n % 2 === 0 }, options);
  }
}

type Phase = 'steady' | 'redis down' | 'kafka down';
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const stack: StackProcess = await startStack({ LOG_LEVEL: 'info', API_CHECK_RESPONSES: 'false' });
process.on('exit', () => stack.kill());
process.stdout.write(`soak: ${minutes} min, ${rate} events/s, ${clients} API clients (${thinkMs} ms between requests); stack data in ${stack.dataDir}\n`);
await waitReady(stack);
const startedAt = Date.now();

// --- the state of Redis and the broker, as /readyz sees it, and which fault is in progress ---
let phase: Phase = 'steady';
const outages: { phase: Phase; from: number; to?: number }[] = [];
const readiness = { redis: true, kafka: true };

// --- RSS of every process, sampled every 10 s (Redis and the broker change pid when restarted) ---
const rss: Record<'stack (node + embedded ClickHouse)' | 'redis-server' | 'kafka broker (java)', number[]> = { 'stack (node + embedded ClickHouse)': [], 'redis-server': [], 'kafka broker (java)': [] };
const sampleRss = () => {
  try {
    rss['stack (node + embedded ClickHouse)'].push(rssMb(stack.child.pid!));
    rss['redis-server'].push(rssMb(stack.pidOf('redis')));
    rss['kafka broker (java)'].push(rssMb(stack.pidOf('kafka')));
  } catch {
    /* a process between lives: the next sample */
  }
};
sampleRss();

// --- the producer: `rate` events/s, on schedule; while the broker is away the backlog waits and is sent after ---
const producer = new Kafka({ brokers: stack.brokers, logLevel: logLevel.NOTHING }).producer({ idempotent: true });
await producer.connect();
let acknowledged = 0;
let running = true;
const target = Math.ceil((durationMs / 1000) * rate);
/** Sends events [acknowledged, due) in batches, each retried until Kafka acknowledges it. */
const sendUpTo = async (due: number) => {
  while (acknowledged < due) {
    const byTopic = new Map<string, { key: string; value: string }[]>();
    const count = Math.min(5_000, due - acknowledged);
    for (let n = acknowledged; n < acknowledged + count; n++) {
      const event = soakEvent(n);
      const topic = `ml.${topicOfType[event.type]}`;
      const messages = byTopic.get(topic) ?? [];
      messages.push({ key: event.id, value: JSON.stringify(event) });
      byTopic.set(topic, messages);
    }
    try {
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      acknowledged += count;
    } catch {
      await sleep(500); // the same batch again: duplicates count once, by (source, id)
    }
  }
};
const producing = (async () => {
  while (running) {
    await sendUpTo(Math.min(Math.floor(((Date.now() - startedAt) / 1000) * rate), target));
    await sleep(20);
  }
})();

// --- API readers: values of random KPIs and scopes, and scorecards, each with a 2 s timeout ---
const catalog = ((await stack.request('/v1/kpis')).body as { id: string; tiered?: boolean }[]).map((kpi) => kpi.id);
const outcomes: Record<Phase, { ok: number; errors: number; timeouts: number; latencies: number[]; statuses: Map<number, number> }> = {
  steady: { ok: 0, errors: 0, timeouts: 0, latencies: [], statuses: new Map() },
  'redis down': { ok: 0, errors: 0, timeouts: 0, latencies: [], statuses: new Map() },
  'kafka down': { ok: 0, errors: 0, timeouts: 0, latencies: [], statuses: new Map() },
};
const reading = Array.from({ length: clients }, async (_, client) => {
  for (let i = 0; running; i++) {
    const team = i % 3 === 0 ? 'all' : TEAMS[(client + i) % TEAMS.length]!;
    const path =
      i % 5 === 0
        ? `/v1/scorecard?team=${team}&quarter=2026-Q${1 + (i % 2)}`
        : `/v1/kpis/${catalog[(client * 7 + i) % catalog.length]}/values?granularity=${['week', 'month', 'quarter'][i % 3]}&team=${team}&from=2026-01-01&to=2026-07-01`;
    const at = phase;
    const response = await stack.request(path, { timeoutMs: 2_000 });
    const outcome = outcomes[at];
    if (response.timedOut) outcome.timeouts++;
    else if (response.status >= 200 && response.status < 300) outcome.ok++;
    else outcome.errors++;
    if (!response.timedOut) outcome.statuses.set(response.status, (outcome.statuses.get(response.status) ?? 0) + 1);
    outcome.latencies.push(response.ms);
    await sleep(thinkMs);
  }
});

// --- the faults: Redis SIGKILLed at a third of the run, the broker at two thirds ---
const kill = async (service: 'redis' | 'kafka') => {
  const pid = stack.pidOf(service);
  phase = service === 'redis' ? 'redis down' : 'kafka down';
  const outage: (typeof outages)[number] = { phase, from: Date.now() };
  outages.push(outage);
  process.kill(pid, 'SIGKILL');
  process.stdout.write(`${new Date().toISOString()} SIGKILL ${service} (pid ${pid})\n`);
  await sleep(200);
  while (Date.now() - outage.from < 180_000) {
    const ready = await stack.request('/readyz', { timeoutMs: 2_000 });
    if (ready.body?.checks?.[service] === true) break;
    await sleep(250);
  }
  outage.to = Date.now();
  phase = 'steady';
  process.stdout.write(`${new Date().toISOString()} ${service} back after ${((outage.to - outage.from) / 1000).toFixed(1)} s\n`);
};
const rssTimer = setInterval(sampleRss, 10_000);
// --- what the stack's RSS holds, from its /metrics once a minute: V8's heap, Node's buffers, the engine's own account ---
const MEMORY_PARTS = {
  'V8 heap used': 'kpi_process_nodejs_heap_size_used_bytes',
  'Node external (buffers)': 'kpi_process_nodejs_external_memory_bytes',
  'ClickHouse tracked': 'kpi_clickhouse_memory_tracked_bytes',
  'of which mark cache': 'kpi_clickhouse_cache_bytes{cache="mark"}',
  'query condition cache': 'kpi_clickhouse_cache_bytes{cache="query_condition"}',
  'compiled expressions': 'kpi_clickhouse_cache_bytes{cache="compiled_expression"}',
} as const;
const memoryParts = Object.fromEntries(Object.keys(MEMORY_PARTS).map((part) => [part, [] as number[]])) as Record<keyof typeof MEMORY_PARTS, number[]>;
const sampleMemoryParts = async () => {
  const text = String((await stack.request('/metrics', { timeoutMs: 5_000 })).body ?? '');
  for (const [part, metric] of Object.entries(MEMORY_PARTS) as [keyof typeof MEMORY_PARTS, string][]) {
    const bytes = text.split('\n').find((line) => line.startsWith(`${metric} `))?.slice(metric.length + 1);
    if (bytes !== undefined) memoryParts[part].push(Number(bytes) / 2 ** 20);
  }
};
const progressTimer = setInterval(async () => {
  await sampleMemoryParts().catch(() => undefined);
  const parts = Object.entries(memoryParts).map(([part, samples]) => `${part} ${samples.at(-1)?.toFixed(0) ?? '?'} MB`).join(', ');
  process.stdout.write(`${new Date().toISOString()} ${Math.round((Date.now() - startedAt) / 1000)} s: ${acknowledged} events acknowledged, RSS stack ${rss['stack (node + embedded ClickHouse)'].at(-1)?.toFixed(0)} MB (${parts})\n`);
}, 60_000);
await sleep(durationMs / 3);
await kill('redis');
await sleep(Math.max(0, startedAt + (2 * durationMs) / 3 - Date.now()));
await kill('kafka');
await sleep(Math.max(0, startedAt + durationMs - Date.now()));

// --- the end: every event sent must be counted, once ---
running = false;
await Promise.all([producing, ...reading]);
clearInterval(progressTimer);
// The schedule is complete only once the backlog of an outage was sent too.
await sendUpTo(target);
await producer.disconnect();
const counted = async () => {
  let total = 0;
  for (const kpi of Object.values(COUNTED_BY)) {
    const response = await stack.request(`/v1/kpis/${kpi}/values?granularity=month&team=all&from=2026-01-01&to=2026-07-01`, { timeoutMs: 10_000 });
    for (const value of (response.body?.values ?? []) as { sample_size: number }[]) total += value.sample_size;
  }
  return total;
};
const settleStarted = Date.now();
let countedEvents = await counted();
while (countedEvents !== acknowledged && Date.now() - settleStarted < 10 * 60_000) {
  await sleep(5_000);
  countedEvents = await counted();
}
const settleSeconds = (Date.now() - settleStarted) / 1000;
const metrics = (await stack.request('/metrics')).body as string;
const restarts = [...metrics.matchAll(/kpi_local_service_restarts_total\{service="(\w+)"\} (\d+)/g)].map(([, service, n]) => `${service}: ${n}`).join(', ');
clearInterval(rssTimer);
sampleRss();

const stopStarted = Date.now();
stack.child.kill('SIGTERM');
const exitCode = await stack.exited;
const stopSeconds = (Date.now() - stopStarted) / 1000;

report(`soak: ${minutes} min at ${rate} events/s, ${clients} API clients, ${thinkMs} ms between requests (node services/stack)`, {
  'events sent (acknowledged by Kafka)': acknowledged,
  'events counted (KPI sample sizes, once each)': countedEvents,
  'equal': String(countedEvents === acknowledged),
  'counted within (after the last send)': `${settleSeconds.toFixed(0)} s`,
  ...Object.fromEntries(outages.map((outage) => [`${outage.phase}: until /readyz saw it back`, `${((outage.to! - outage.from) / 1000).toFixed(1)} s`])),
  ...Object.fromEntries(
    Object.entries(rss).map(([process, samples]) => [`RSS ${process}: start / end / max`, `${samples[0]?.toFixed(0)} / ${samples.at(-1)?.toFixed(0)} / ${Math.max(...samples).toFixed(0)} MB`]),
  ),
  ...Object.fromEntries(
    Object.entries(memoryParts).map(([part, samples]) => [`stack ${part}, minute by minute: first / last / max`, `${samples[0]?.toFixed(0)} / ${samples.at(-1)?.toFixed(0)} / ${Math.max(...samples).toFixed(0)} MB`]),
  ),
  ...Object.fromEntries(
    Object.entries(outcomes).flatMap(([phase, outcome]) => {
      const sorted = [...outcome.latencies].sort((a, b) => a - b);
      return [
        [`API ${phase}: requests ok / errors / timeouts (2 s)`, `${outcome.ok} / ${outcome.errors} / ${outcome.timeouts}`],
        [`API ${phase}: statuses`, [...outcome.statuses].map(([status, n]) => `${status}: ${n}`).join(', ') || '-'],
        [`API ${phase}: latency p50 / p99 / max`, sorted.length ? `${quantile(sorted, 0.5)} / ${quantile(sorted, 0.99)} / ${sorted.at(-1)} ms` : '-'],
      ];
    }),
  ),
  'local restarts (kpi_local_service_restarts_total)': restarts || 'none',
  'SIGTERM -> exit': `${stopSeconds.toFixed(1)} s, exit code ${exitCode}`,
});
process.exit(countedEvents === acknowledged ? 0 : 1);
