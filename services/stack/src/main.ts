import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { DEMO_CUSTOM_KPI, demoHistory, produceEvents, startTrickle } from '@kpi/demo';
import { loadConfig, type Config } from '@kpi/config';
import { startLocalKafka, startLocalRedis, supervise, type LocalKafka, type LocalRedis, type Supervisor } from '@kpi/infra';
import { addMetricsPeer, localRestarts } from '@kpi/metrics';
import { createLogger, createRuntime, Deadline, EXIT, runMain, runSteps, stopAll, stopOnSignals, type Runtime, type StopStep } from '@kpi/runtime';
import { startApiRole, type ApiHandle } from '@kpi/api';
import { RolesThread, runRolesThread, type ComputingRole } from './roles-thread.ts';

/** Local Kafka and Redis get at least this long after SIGTERM before SIGKILL, deadline or not. */
const LOCAL_STOP_GRACE_MS = 3_000;

/** What `node services/stack` runs (scripts/build.mjs); the roles thread runs it too. */
const BUNDLE = new URL('../dist/main.js', import.meta.url);

if (isMainThread) runMain(startCommand);
else await runRolesThread();

/**
 * The start command: the whole pipeline on one machine. Starts a local Kafka broker and Redis
 * unless KAFKA_BROKERS / REDIS_URL point elsewhere, restarts them when they exit unexpectedly
 * (giving up, exit code 4, when they keep failing), and runs the roles of KPI_ROLES (all by
 * default; ingest creates the topics) in this process on embedded ClickHouse in DATA_DIR, so that
 * a restart keeps every event and KPI; ingest and worker run in a thread of their own (see
 * roles-thread.ts), the API in the main thread. SIGINT/SIGTERM stops everything it started within
 * SHUTDOWN_TIMEOUT_MS: roles first (stop consuming, drain, close), then the local broker and Redis.
 */
async function startCommand(): Promise<void> {
  const config = loadConfig();
  const dataDir = resolve(config.dataDir);
  const log = createLogger(config);
  // Everything started so far, stopped in reverse order, even during start-up.
  const started: StopStep[] = [];
  const local: (LocalKafka | LocalRedis)[] = [];
  const supervisors: Supervisor[] = [];
  // A signal during start-up also stops a local broker or Redis that is still starting.
  const startUp = new AbortController();
  let stopping: Promise<boolean> | undefined;
  const stopEverything = () =>
    (stopping ??= (async () => {
      const deadline = Deadline.in(config.shutdown.timeoutMs);
      startUp.abort();
      for (const supervisor of supervisors) supervisor.stop();
      const roles = await runSteps([...started].reverse(), deadline, log);
      // Never left behind: SIGTERM, then SIGKILL when the deadline (or the grace) is over.
      const grace = Math.max(deadline.remaining(), LOCAL_STOP_GRACE_MS);
      const locals = await runSteps([{ name: 'local Kafka and Redis', minMs: grace + 2_000, stop: async () => void (await Promise.all(local.map((service) => service.stop(grace)))) }], deadline, log);
      return roles && locals;
    })());
  stopOnSignals(log, stopEverything, config.shutdown.timeoutMs);
  const superviseLocal = (name: 'kafka' | 'redis', service: LocalKafka | LocalRedis) => {
    const label = name === 'kafka' ? 'Kafka broker' : 'Redis';
    const logFile = service.logFile;
    local.push(service);
    supervisors.push(
      supervise(`the local ${label}`, service, { maxRestarts: config.localRestarts.maxRestarts, windowMs: 10 * 60_000, backoffMs: config.localRestarts.backoffMs, maxBackoffMs: 30_000 }, {
        exited: (info) => log.error({ service: name, ...info }, `the local ${label} exited unexpectedly; restarting it`),
        restarted: () => {
          localRestarts.inc({ service: name });
          log.warn({ service: name }, `the local ${label} is running again`);
        },
        restartFailed: (error) => log.error({ err: error, service: name, logFile }, `the local ${label} did not start`),
        gaveUp: (error) => {
          log.fatal({ service: name, logFile }, `${error.message}${logFile ? `; see ${logFile}` : ''}`);
          void stopEverything().finally(() => process.exit(EXIT.gaveUp));
        },
      }),
    );
  };
  try {
    let kafka: LocalKafka | undefined;
    let redis: LocalRedis | undefined;
    if (!config.kafka.brokers) {
      kafka = await startLocalKafka({ dataDir: join(dataDir, 'kafka'), port: config.kafka.localPort, signal: startUp.signal });
      superviseLocal('kafka', kafka);
    }
    if (!config.redis.url) {
      redis = await startLocalRedis({ persistDir: join(dataDir, 'redis'), signal: startUp.signal });
      superviseLocal('redis', redis);
    }
    const brokers = kafka?.brokers ?? config.kafka.brokers!;
    const redisUrl = redis?.url ?? config.redis.url!;
    // This thread's runtime first: it applies the migrations the roles thread then finds done.
    const runtime = await createRuntime(config, { brokers, redisUrl, log });
    let api: ApiHandle | undefined;
    let thread: RolesThread | undefined;
    // The API and this thread's clients first, then the roles thread (see roles-thread.ts: it
    // outlives this thread's use of ClickHouse).
    started.push({
      name: 'roles',
      stop: async (deadline) => {
        const mainClean = await stopAll(runtime, api ? [api] : [], deadline);
        const threadClean = thread ? await thread.stop(deadline) : true;
        if (!mainClean || !threadClean) throw new Error('a role did not stop cleanly');
      },
    });
    const computing = config.roles.filter((role): role is ComputingRole => role === 'ingest' || role === 'worker');
    if (computing.length > 0) {
      thread = await RolesThread.start(BUNDLE, { roles: computing, brokers, redisUrl }, log, (error) => {
        log.fatal({ err: error }, 'the ingest and worker roles stopped unexpectedly; stopping');
        void stopEverything().finally(() => process.exit(EXIT.failed));
      });
      addMetricsPeer(() => thread!.metrics());
    }
    if (config.roles.includes('api')) api = await startApiRole(runtime);
    if (config.demo) {
      const trickle = await startDemo(runtime);
      started.push({ name: 'demo trickle', stop: async () => trickle.stop() });
    }
    printBanner(config, runtime.brokers, redisUrl, dataDir, api);
  } catch (error) {
    await stopEverything();
    throw error;
  }
}

const DEMO_SEED = 42;

/** First run: two years of a demo organisation through Kafka; every run: a live trickle of new events. */
async function startDemo(runtime: Runtime) {
  const marker = join(resolve(runtime.config.dataDir), 'demo-seeded');
  const producer = await runtime.producer();
  if (!existsSync(marker)) {
    // The demo's own KPI first: ingestion validates its custom events against the definition.
    if (!runtime.catalog.get(DEMO_CUSTOM_KPI.id)) await runtime.catalog.put(DEMO_CUSTOM_KPI);
    const events = demoHistory(DEMO_SEED);
    await produceEvents(producer, runtime.config.kafka.topics, events);
    writeFileSync(marker, `${new Date().toISOString()} ${events.length} events, seed ${DEMO_SEED}\n`);
    runtime.log.info({ events: events.length }, 'demo organisation produced to Kafka (KPI_DEMO=0 to start without it)');
  }
  return startTrickle({ producer, topics: runtime.config.kafka.topics, seed: DEMO_SEED, onError: (error) => runtime.log.warn({ err: error }, 'demo trickle could not produce') });
}

function printBanner(config: Config, brokers: string[], redisUrl: string, dataDir: string, api: ApiHandle | undefined) {
  const lines = [
    '',
    'KPI pipeline is running',
    ...(api ? [`  dashboard & API   ${api.url}/`, `  API docs          ${api.url}/docs`, `  health            ${api.url}/readyz`] : []),
    `  Kafka             ${brokers.join(',')}  (topics: ${Object.values(config.kafka.topics).join(', ')})`,
    `  Redis             ${redisUrl}`,
    `  data              ${dataDir}`,
    ...(api?.generatedToken ? [`  API token (admin) ${api.generatedToken}`, `  open              ${api.url}/#token=${api.generatedToken}`] : api ? ['  API tokens        from KPI_API_TOKENS'] : []),
    '  stop with Ctrl-C',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
