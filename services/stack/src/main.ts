import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEMO_CUSTOM_KPI, demoHistory, produceEvents, startTrickle } from '@kpi/demo';
import { loadConfig, type Config } from '@kpi/config';
import { startLocalKafka, startLocalRedis, type LocalKafka, type LocalRedis } from '@kpi/infra';
import { createRuntime, runMain, stopAll, stopOnSignals, type RoleHandle, type Runtime } from '@kpi/runtime';
import { startIngestRole } from '@kpi/ingest';
import { startWorkerRole } from '@kpi/worker';
import { startApiRole, type ApiHandle } from '@kpi/api';

/**
 * The start command: the whole pipeline on one machine. Starts a local Kafka broker and Redis
 * unless KAFKA_BROKERS / REDIS_URL point elsewhere and runs the roles of
 * KPI_ROLES (all by default; ingest creates the topics) in this process on embedded ClickHouse in DATA_DIR, so that a
 * restart keeps every event and KPI. SIGINT/SIGTERM stops everything it started.
 */
runMain(async () => {
  const config = loadConfig();
  const dataDir = resolve(config.dataDir);
  // Everything started so far, stopped in reverse order on a signal, even during start-up.
  const started: { stop(): Promise<void> }[] = [];
  let log: Runtime['log'] | undefined;
  const stopEverything = async () => {
    for (const service of started.reverse()) await service.stop().catch((error) => log?.error({ err: error }, 'did not stop cleanly'));
  };
  stopOnSignals(() => log, stopEverything);
  try {
    let kafka: LocalKafka | undefined;
    let redis: LocalRedis | undefined;
    if (!config.kafka.brokers) {
      kafka = await startLocalKafka({ dataDir: join(dataDir, 'kafka'), port: config.kafka.localPort });
      started.push(kafka);
    }
    if (!config.redis.url) {
      redis = await startLocalRedis({ persistDir: join(dataDir, 'redis') });
      started.push(redis);
    }
    const runtime = await createRuntime(config, { brokers: kafka?.brokers, redisUrl: redis?.url });
    log = runtime.log;
    const handles: RoleHandle[] = [];
    started.push({ stop: () => stopAll(runtime, handles) });
    // The worker first: it has nothing to wait for, while a restarted ingest consumer may wait
    // for its predecessor's Kafka session to time out before it gets its partitions.
    if (config.roles.includes('worker')) handles.push(await startWorkerRole(runtime));
    if (config.roles.includes('ingest')) handles.push(await startIngestRole(runtime));
    const api = config.roles.includes('api') ? await startApiRole(runtime) : undefined;
    if (api) handles.push(api);
    if (config.demo) {
      const trickle = await startDemo(runtime);
      started.push({ stop: async () => trickle.stop() });
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
