import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEMO_CUSTOM_KPI, demoHistory, produceEvents, startTrickle } from '@kpi/demo';
import { loadConfig, type Config } from '@kpi/config';
import { startLocalKafka, startLocalRedis, supervise, type LocalKafka, type LocalRedis, type Supervisor } from '@kpi/infra';
import { localRestarts } from '@kpi/metrics';
import { createLogger, createRuntime, Deadline, EXIT, runMain, runSteps, stopAll, stopOnSignals, type RoleHandle, type Runtime, type StopStep } from '@kpi/runtime';
import { startIngestRole } from '@kpi/ingest';
import { startWorkerRole } from '@kpi/worker';
import { startApiRole, type ApiHandle } from '@kpi/api';

/** Local Kafka and Redis get at least this long after SIGTERM before SIGKILL, deadline or not. */
const LOCAL_STOP_GRACE_MS = 3_000;

/**
 * The start command: the whole pipeline on one machine. Starts a local Kafka broker and Redis
 * unless KAFKA_BROKERS / REDIS_URL point elsewhere, restarts them when they exit unexpectedly
 * (giving up, exit code 4, when they keep failing), and runs the roles of KPI_ROLES (all by
 * default; ingest creates the topics) in this process on embedded ClickHouse in DATA_DIR, so that
 * a restart keeps every event and KPI. SIGINT/SIGTERM stops everything it started within
 * SHUTDOWN_TIMEOUT_MS: roles first (stop consuming, drain, close), then the local broker and Redis.
 */
runMain(async () => {
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
    const runtime = await createRuntime(config, { brokers: kafka?.brokers, redisUrl: redis?.url, log });
    const handles: RoleHandle[] = [];
    started.push({ name: 'roles', stop: (deadline) => stopAll(runtime, handles, deadline).then((clean) => { if (!clean) throw new Error('a role did not stop cleanly'); }) });
    // The worker first: it has nothing to wait for, while a restarted ingest consumer may wait
    // for its predecessor's Kafka session to time out before it gets its partitions.
    if (config.roles.includes('worker')) handles.push(await startWorkerRole(runtime));
    if (config.roles.includes('ingest')) handles.push(await startIngestRole(runtime));
    const api = config.roles.includes('api') ? await startApiRole(runtime) : undefined;
    if (api) handles.push(api);
    if (config.demo) {
      const trickle = await startDemo(runtime);
      started.push({ name: 'demo trickle', stop: async () => trickle.stop() });
    }
    printBanner(config, runtime.brokers, redis?.url ?? config.redis.url!, dataDir, api);
  } catch (error) {
    await stopEverything();
    throw error;
  }
});

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
