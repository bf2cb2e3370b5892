// Serving while ingesting (issue 20): the start command (`node services/stack`: every role in one
// process on embedded ClickHouse, its own Kafka broker and Redis) with the demo organisation, and
// optionally more history, then a steady stream of live events with API readers, then a burst.
// Prints, per history size: reads p50/p99/max and how many took over 2 s (steady, burst, after
// the burst), freshness produce -> KPI value p50/p95 (same phases, and how long after the burst
// it was back under 2 s), RSS of the stack process, and SIGTERM -> exit. Asserts nothing.
// Run by hand:
//   node --import tsx bench/serving.ts [--history 50000,1000000] [--rate 500] [--burst 5000]
//     [--steady-s 120] [--burst-s 60] [--after-s 30] [--clients 20] [--think-ms 100]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createQueues } from '@kpi/queue';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { demoHistory } from '@kpi/demo';
import { makeEvent, topicOfType, type AnyEvent, type CloudEvent } from '@kpi/events';
import { cpuSeconds, quantile, report } from './support.ts';
import { startStack, waitReady, type StackProcess } from '../test/support/stack.ts';

const { values: args } = parseArgs({
  options: {
    history: { type: 'string', default: '50000,1000000' },
    rate: { type: 'string', default: '500' },
    burst: { type: 'string', default: '5000' },
    'steady-s': { type: 'string', default: '120' },
    'burst-s': { type: 'string', default: '60' },
    'after-s': { type: 'string', default: '30' },
    clients: { type: 'string', default: '20' },
    'think-ms': { type: 'string', default: '100' },
  },
});
const histories = args.history.split(',').map(Number);
const [rate, burst, clients, thinkMs] = [Number(args.rate), Number(args.burst), Number(args.clients), Number(args['think-ms'])];
const seconds = { steady: Number(args['steady-s']), burst: Number(args['burst-s']), after: Number(args['after-s']) };

type Phase = 'steady' | 'burst' | 'after the burst';
const PROBE_TEAM = 'freshness-probe';
const TEAMS = ['ranking', 'search', 'ads', 'fraud', 'recsys', 'forecasting'];
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** A live event of the stream: serving windows, arrivals, answers, runs and incidents, at the time it is sent. */
function liveEvent(n: number): CloudEvent {
  const team = TEAMS[n % TEAMS.length]!;
  const time = new Date().toISOString();
  const options = { source: 'bench-serving', id: `live-${n}`, time };
  switch (n % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
      return makeEvent('serving.window', { model_id: `${team}-model-${n % 5}`, team, tier: ([1, 2, 3] as const)[n % 3]!, requests: 1000 + (n % 500), latency_p95_ms: 40 + (n % 60), cost_usd: 0.5 }, options);
    case 4:
    case 5:
      return makeEvent('dataset.arrived', { dataset: `${team}_hourly`, team, expected_at: time, sla_minutes: 120 }, options);
    case 6:
      return makeEvent('survey.response', { team, score: 1 + (n % 5) }, options);
    case 7:
      return makeEvent('training.run_completed', { run_id: `run-${n}`, model_id: `${team}-model`, team, cost_usd: 10 + (n % 7), reproducible: n % 2 === 0 }, options);
    case 8:
      return makeEvent('incident.opened', { incident_id: `live-inc-${n}`, team, tier: 2, severity: 'sev2', category: 'model', detected_at: time }, options);
    default:
      return makeEvent('incident.mitigated', { incident_id: `live-inc-${n - 1}` }, options);
  }
}

async function send(producer: Producer, events: (CloudEvent | AnyEvent)[]): Promise<void> {
  const byTopic = new Map<string, { key: string; value: string }[]>();
  for (const event of events) {
    const topic = `ml.${topicOfType[event.type as keyof typeof topicOfType] ?? 'signals'}`;
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), { key: event.id, value: JSON.stringify(event) }]);
  }
  await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
}

/** Waits until the stack has no consumer lag and no recompute job waiting or running, twice in a row. */
async function settle(stack: StackProcess, timeoutMs = 30 * 60_000): Promise<number> {
  // The stack's own Redis: its process title is `redis-server <host>:<port>`.
  const port = /:(\d+)/.exec(readFileSync(`/proc/${stack.pidOf('redis')}/cmdline`, 'utf8'))![1];
  const redis = new Redis(`redis://127.0.0.1:${port}`);
  const queues = createQueues(redis, 'kpi', { warn: () => {} });
  const started = Date.now();
  try {
    for (let idle = 0; Date.now() - started < timeoutMs; await sleep(1_000)) {
      const metrics = String((await stack.request('/metrics', { timeoutMs: 10_000 })).body ?? '');
      const lag = [...metrics.matchAll(/^kpi_consumer_lag\{[^}]*\} (\d+)/gm)].reduce((sum, [, n]) => sum + Number(n), 0);
      const jobs = Object.values(await queues.queue('kpiRecompute').getJobCounts('waiting', 'active', 'delayed', 'prioritized')).reduce((sum, n) => sum + n, 0);
      idle = lag === 0 && jobs === 0 ? idle + 1 : 0;
      if (idle >= 2) return (Date.now() - started) / 1000;
    }
    throw new Error('the stack did not settle');
  } finally {
    await queues.close();
    redis.disconnect();
  }
}

async function run(history: number): Promise<Record<string, string>> {
  // BENCH_STACK_NODE_ARGS profiles the stack, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (written at its exit).
  const stack = await startStack({ KPI_DEMO: '1', API_CHECK_RESPONSES: 'false', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }, process.env.BENCH_STACK_NODE_ARGS?.split(' ') ?? []);
  process.on('exit', () => stack.kill());
  await waitReady(stack);
  const producer = new Kafka({ brokers: stack.brokers, logLevel: logLevel.NOTHING }).producer({ idempotent: true });
  await producer.connect();
  const label = `${(history / 1000).toLocaleString('en')}k events of history`;
  process.stdout.write(`${label}: loading (stack data in ${stack.dataDir})\n`);
  // The demo organisation (~48 000 events) is produced by the stack itself; more history as 24-team organisations.
  const loadStarted = Date.now();
  let loaded = 48_000;
  for (let seed = 1000; loaded < history; seed++) {
    const events = demoHistory(seed, Date.now(), 24).slice(0, history - loaded);
    for (let i = 0; i < events.length; i += 5_000) await send(producer, events.slice(i, i + 5_000));
    loaded += events.length;
  }
  const settleSeconds = await settle(stack);
  const rows: Record<string, string> = { [`${label}: loaded and recomputed in`]: `${((Date.now() - loadStarted) / 1000).toFixed(0)} s (settled ${settleSeconds.toFixed(0)} s after the last send)` };

  // --- the stream: `perSecond` events/s, sent every 100 ms; the rate changes with the phase ---
  let phase: Phase = 'steady';
  let perSecond = rate;
  let sent = 0;
  let streaming = true;
  const streamStarted = Date.now();
  const streaming$ = (async () => {
    let due = 0;
    let tick = Date.now();
    while (streaming) {
      const now = Date.now();
      due += ((now - tick) / 1000) * perSecond;
      tick = now;
      const batch: CloudEvent[] = [];
      for (; sent < Math.floor(due); sent++) batch.push(liveEvent(sent));
      if (batch.length > 0) await send(producer, batch);
      await sleep(100);
    }
  })();

  // --- readers: what a dashboard and a scraper ask for ---
  const catalog = ((await stack.request('/v1/kpis')).body as { id: string }[]).map((kpi) => kpi.id);
  const reads: Record<Phase, number[]> = { steady: [], burst: [], 'after the burst': [] };
  // Steady-state reads per route, to see which answers are slow.
  const steadyByRoute = new Map<string, number[]>();
  const failures: Record<Phase, number> = { steady: 0, burst: 0, 'after the burst': 0 };
  let reading = true;
  const paths = (client: number, i: number) => {
    const team = i % 3 === 0 ? 'all' : TEAMS[(client + i) % TEAMS.length]!;
    switch (i % 20) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        return `/v1/scorecard?team=${team}&trend=8`;
      case 5:
        return '/v1/teams';
      case 6:
        return '/v1/alerts';
      case 7:
        return `/v1/triage?team=${team}&triaged=false`;
      case 8:
        return client === 0 ? '/v1/metrics' : '/v1/kpis';
      default:
        return `/v1/kpis/${catalog[(client * 7 + i) % catalog.length]}/values?granularity=${['week', 'month', 'quarter'][i % 3]}&team=${team}`;
    }
  };
  const readers = Array.from({ length: clients }, async (_, client) => {
    for (let i = 0; reading; i++) {
      const at = phase;
      const response = await stack.request(paths(client, i), { timeoutMs: 10_000 });
      if (response.status !== 200) failures[at]++;
      reads[at].push(response.ms);
      if (at === 'steady') {
        const route = paths(client, i).replace(/\?.*$/, '').replace(/^\/v1\/kpis\/[^/]+\/values$/, '/v1/kpis/:id/values');
        steadyByRoute.set(route, [...(steadyByRoute.get(route) ?? []), response.ms]);
      }
      await sleep(thinkMs);
    }
  });

  // --- freshness: a survey answer of the probe team every 500 ms, polled until its month counts it ---
  const freshness: { phase: Phase; sentAt: number; ms: number }[] = [];
  let probing = true;
  const probe$ = (async () => {
    let probes = 0;
    const month = new Date().toISOString().slice(0, 7);
    while (probing) {
      const sentAt = Date.now();
      const at = phase;
      await send(producer, [makeEvent('survey.response', { team: PROBE_TEAM, score: 4 }, { source: 'bench-probe', id: `probe-${sentAt}-${probes}` })]);
      probes++;
      for (;;) {
        const response = await stack.request(`/v1/kpis/stakeholder_satisfaction/values?granularity=month&team=${PROBE_TEAM}&from=${month}-01`, { timeoutMs: 10_000 });
        if ((response.body?.values?.[0]?.sample_size ?? 0) >= probes) break;
        if (Date.now() - sentAt > 120_000) break;
        await sleep(25);
      }
      freshness.push({ phase: at, sentAt, ms: Date.now() - sentAt });
      await sleep(Math.max(0, 500 - (Date.now() - sentAt)));
    }
  })();

  const rss: number[] = [];
  const rssTimer = setInterval(() => rss.push(rssMb(stack.child.pid!)), 5_000);
  // CPU of each process while the stream runs: the stack, its broker and Redis, and this benchmark (producer and readers).
  const processes = { stack: stack.child.pid!, 'kafka broker': stack.pidOf('kafka'), redis: stack.pidOf('redis'), 'this benchmark': process.pid };
  const cpuAtStart = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)]));
  await sleep(seconds.steady * 1000);
  phase = 'burst';
  perSecond = burst;
  const burstStarted = Date.now();
  await sleep(seconds.burst * 1000);
  phase = 'after the burst';
  perSecond = rate;
  const burstEnded = Date.now();
  await sleep(seconds.after * 1000);
  streaming = false;
  reading = false;
  probing = false;
  await Promise.all([streaming$, ...readers, probe$]);
  clearInterval(rssTimer);
  const streamSeconds = (Date.now() - streamStarted) / 1000;
  const cpuShare = Object.entries(processes).map(([name, pid]) => `${name} ${((cpuSeconds(pid) - cpuAtStart[name]!) / streamSeconds).toFixed(2)}`).join(', ');
  await producer.disconnect();

  // Back under 2 s: the first probe sent after the burst from which every later probe took under 2 s.
  const after = freshness.filter((probe) => probe.sentAt >= burstEnded);
  const firstGood = after.findIndex((_, index) => after.slice(index).every((probe) => probe.ms < 2_000));
  const backUnder2s = firstGood < 0 ? 'not within the run' : `${((after[firstGood]!.sentAt - burstEnded) / 1000).toFixed(1)} s after the burst`;

  // The stack's event loop: how long a ready callback (a read) could wait behind JS work.
  const metrics = String((await stack.request('/metrics', { timeoutMs: 10_000 })).body ?? '');
  const lag = (name: string) => Number(new RegExp(`^kpi_process_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN) * 1000;
  rows[`${label}: event loop delay p99 / max over the run`] = `${lag('p99').toFixed(0)} / ${lag('max').toFixed(0)} ms`;
  const stopStarted = Date.now();
  stack.child.kill('SIGTERM');
  const exitCode = await stack.exited;
  const stopSeconds = (Date.now() - stopStarted) / 1000;
  const leftovers = stack.leftovers();
  stack.kill();

  for (const at of ['steady', 'burst', 'after the burst'] as const) {
    const sorted = [...reads[at]].sort((a, b) => a - b);
    const fresh = freshness.filter((probe) => probe.phase === at).map((probe) => probe.ms).sort((a, b) => a - b);
    const eventsPerSecond = at === 'burst' ? burst : rate;
    rows[`${label}: ${at} (${eventsPerSecond}/s): reads p50 / p99 / max`] = sorted.length ? `${quantile(sorted, 0.5)} / ${quantile(sorted, 0.99)} / ${sorted.at(-1)} ms (${sorted.length} reads, ${sorted.filter((ms) => ms > 2_000).length} over 2 s, ${failures[at]} not 200)` : '-';
    rows[`${label}: ${at}: freshness p50 / p95`] = fresh.length ? `${quantile(fresh, 0.5)} / ${quantile(fresh, 0.95)} ms (${fresh.length} probes)` : '-';
  }
  rows[`${label}: freshness back under 2 s`] = backUnder2s;
  rows[`${label}: steady reads p50 / p99 per route`] = [...steadyByRoute]
    .map(([route, ms]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      return `${route} ${quantile(sorted, 0.5)} / ${quantile(sorted, 0.99)} ms`;
    })
    .join('; ');
  rows[`${label}: events streamed`] = `${sent} in ${streamSeconds.toFixed(0)} s (burst started at ${((burstStarted - streamStarted) / 1000).toFixed(0)} s)`;
  rows[`${label}: CPU while streaming (cores)`] = cpuShare;
  rows[`${label}: RSS of the stack process start / end / max`] = `${rss[0]?.toFixed(0)} / ${rss.at(-1)?.toFixed(0)} / ${Math.max(...rss).toFixed(0)} MB`;
  rows[`${label}: SIGTERM -> exit`] = `${stopSeconds.toFixed(1)} s, exit code ${exitCode}${leftovers.length ? `, ${leftovers.length} processes left behind` : ''}`;
  return rows;
}

const rows: Record<string, string> = {};
for (const history of histories) Object.assign(rows, await run(history));
report(`serving while ingesting: ${rate} events/s for ${seconds.steady} s, ${burst} events/s for ${seconds.burst} s, then ${seconds.after} s; ${clients} readers, ${thinkMs} ms between reads (node services/stack)`, rows);
process.exit(0);
