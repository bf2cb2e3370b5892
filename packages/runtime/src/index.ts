import type { Kafka, Producer } from 'kafkajs';
import { pino, type Logger } from 'pino';
import type { Redis } from 'ioredis';
import { ConfigError, type Config } from '@kpi/config';
import { createKafka, createProducer, kafkaReachable } from '@kpi/bus';
import { createQueues, createRedis, createWorkerRedis, redisReady, type Queues } from '@kpi/queue';
import { createStorage, migrate, productionReleasesOfModel, workItemFirstClosed, type Storage } from '@kpi/storage';
import { loadConnectorsFile, mlflowRegistry, type ConnectorDeps, type ConnectorsConfig, type MlflowRegistry } from '@kpi/connectors';
import { Catalog, parseTargetsFile } from '@kpi/kpi';
import { Serving } from '@kpi/serving';
import { clickhouseCacheBytes, clickhouseMemory, statementSeconds, statementWaitSeconds } from '@kpi/metrics';
import { Deadline, EXIT, runSteps, within } from './shutdown.ts';

export { DependencyUnavailable, asUnavailable, withDeadline, type Dependency } from './dependencies.ts';
export { Deadline, EXIT, runSteps, stopOnSignals, within, type StopStep } from './shutdown.ts';

/** What every role of a process shares: one ClickHouse client, one Kafka client, one Redis. */
export interface Runtime {
  config: Config;
  /** The inbound webhook connectors of KPI_CONNECTORS_FILE, parsed once at start-up. */
  connectors: ConnectorsConfig;
  /** What connector mappings read: release history and work items from ClickHouse, MLflow registries (one client per tracking URI). */
  connectorDeps: ConnectorDeps;
  brokers: string[];
  log: Logger;
  storage: Storage;
  kafka: Kafka;
  /** Commands fail fast while Redis is away (see createRedis): the request path, ingestion, job producers. */
  redis: Redis;
  queues: Queues;
  /** The KPI catalog, custom KPIs included, kept current across processes. */
  catalog: Catalog;
  /** KPI values, targets and teams ready to serve (`ready()` loads them; roles that read them wait for it). */
  serving: Serving;
  /**
   * The instant reads are judged at: which period is under way and how far (forecasts, current
   * periods of the API, /v1/metrics, alert rules, reports). The system clock; a test may fix it.
   */
  clock(): Date;
  /** A connection that waits for Redis to come back, for BullMQ workers and their jobs (created on first use). */
  workerRedis(): Redis;
  /** The process's idempotent producer, connected on first use. */
  producer(): Promise<Producer>;
  readiness(): Promise<Readiness>;
  /** Closes the shared clients; statements still running after `timeoutMs` are abandoned (resolves false). */
  close(timeoutMs?: number): Promise<boolean>;
}

export interface Readiness {
  ready: boolean;
  checks: { kafka: boolean; clickhouse: boolean; redis: boolean };
}

/**
 * A started role: stopping it drains its work (consumer batch, jobs in flight, requests); the
 * caller bounds how long that may take (stopAll). A stop that leaves work behind rejects, saying what.
 */
export interface RoleHandle {
  id: string;
  /** Stops it; `deadline` (default: SHUTDOWN_TIMEOUT_MS from now) is when the whole shutdown must be over: work still running then may be abandoned. */
  stop(deadline?: Deadline): Promise<void>;
}

/** How long a start-up waits for Redis before it fails naming it. */
const REDIS_START_TIMEOUT_MS = 30_000;
/** Readiness probes answer within this, whatever a dependency does. */
const PROBE_TIMEOUT_MS = 1_500;

/** The process's logger (JSON lines on stdout). */
export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: undefined });
}

export async function createRuntime(config: Config, options: { brokers?: string[]; redisUrl?: string; log?: Logger; clock?: () => Date } = {}): Promise<Runtime> {
  const brokers = options.brokers ?? config.kafka.brokers;
  const redisUrl = options.redisUrl ?? config.redis.url;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: a role run on its own needs an external Kafka (the start command starts a local one)');
  if (!redisUrl) throw new Error('REDIS_URL is not set: a role run on its own needs an external Redis (the start command starts a local one)');
  // A bad connectors file stops start-up (ConfigError naming the file and field) before anything connects.
  const connectors = loadConnectorsFile(config.connectorsFile);
  const log = options.log ?? createLogger(config);
  const storage = openStorage(config, log);
  await migrate(storage);
  const catalog = await Catalog.fromConfig(storage, config, log);
  // Custom KPIs defined through another process's API reach this one within seconds.
  const refresh = setInterval(() => void catalog.refresh().catch((error) => log.warn({ err: error }, 'could not refresh the KPI catalog')), CATALOG_REFRESH_MS);
  refresh.unref();
  const trackMemory = () => void trackEngineMemory(storage).catch((error) => log.debug({ err: error }, 'could not read ClickHouse memory'));
  const memory = config.clickhouse.url ? undefined : setInterval(trackMemory, ENGINE_MEMORY_MS);
  memory?.unref();
  if (memory) trackMemory();
  const kafka = createKafka(config.kafka, brokers, (level, message, extra) => log[level]({ kafka: extra }, message));
  const redis = createRedis(redisUrl, { commandTimeoutMs: config.redis.commandTimeoutMs });
  watchRedis(redis, log, 'commands');
  await redisReady(redis, REDIS_START_TIMEOUT_MS);
  const queues = createQueues(redis, config.queuePrefix, log);
  await queues.open();
  const serving = new Serving({
    storage: storage.lane('serve'),
    redis,
    redisUrl,
    prefix: config.queuePrefix,
    fileOverrides: parseTargetsFile(config.targetsFile),
    onKpiRemoved: () => void catalog.refresh().catch((error) => log.warn({ err: error }, 'could not refresh the KPI catalog')),
    log,
  });
  let workerRedis: Redis | undefined;
  let producer: Promise<Producer> | undefined;
  return {
    config,
    connectors,
    connectorDeps: connectorDepsOf(storage),
    brokers,
    log,
    storage,
    kafka,
    redis,
    queues,
    catalog,
    serving,
    clock: options.clock ?? (() => new Date()),
    workerRedis() {
      if (!workerRedis) {
        workerRedis = createWorkerRedis(redisUrl);
        watchRedis(workerRedis, log, 'workers');
      }
      return workerRedis;
    },
    producer() {
      // A failed connect is forgotten, so the next caller tries again.
      producer ??= createProducer(kafka).catch((error: unknown) => {
        producer = undefined;
        throw error;
      });
      return producer;
    },
    readiness: () => readinessOf(kafka, storage, redis),
    async close(timeoutMs) {
      clearInterval(refresh);
      clearInterval(memory);
      catalog.close();
      serving.close();
      // Sockets first, so nothing below waits on a dependency that is gone.
      redis.disconnect();
      workerRedis?.disconnect();
      await queues.close();
      if (producer) await (await producer).disconnect();
      const released = await storage.close(timeoutMs);
      if (!released) log.warn({ waitedMs: timeoutMs }, 'ClickHouse statements still running at the deadline: abandoned, the engine left open');
      return released;
    },
  };
}

/** The embedded (or remote) ClickHouse, each statement's time in /metrics and a slow one in the log. */
function openStorage(config: Config, log: Logger): Storage {
  return createStorage({
    clickhouse: config.clickhouse,
    dataDir: config.dataDir,
    observe: (lane, { waitedMs, ranMs, text }) => {
      statementSeconds.observe({ lane }, ranMs / 1000);
      statementWaitSeconds.observe({ lane }, waitedMs / 1000);
      if (ranMs > config.clickhouse.slowStatementMs) log.warn({ lane, ranMs: Math.round(ranMs), waitedMs: Math.round(waitedMs), statement: text.replace(/\s+/g, ' ').slice(0, 500) }, 'slow ClickHouse statement');
    },
  });
}

/** What connector mappings read. Webhook mappings read while their request waits: the serving lane, not behind recomputes. */
function connectorDepsOf(storage: Storage): ConnectorDeps {
  const registries = new Map<string, MlflowRegistry>();
  return {
    releases: (modelId) => productionReleasesOfModel(storage.lane('serve'), modelId),
    workItemFirstClosed: (itemId) => workItemFirstClosed(storage.lane('serve'), itemId),
    // One per registry (MLflow's, or a Databricks workspace's with its token), its cache kept between deliveries.
    mlflowRegistry: (uri, token) => {
      const key = `${uri}\n${token ?? ''}`;
      return registries.get(key) ?? registries.set(key, mlflowRegistry(uri, token)).get(key)!;
    },
  };
}

/** Each dependency answers within PROBE_TIMEOUT_MS, whatever it does. */
async function readinessOf(kafka: Kafka, storage: Storage, redis: Redis): Promise<Readiness> {
  const [kafkaOk, clickhouse, redisOk] = await Promise.all([
    kafkaReachable(kafka, PROBE_TIMEOUT_MS),
    answersWithin(storage.ping(), PROBE_TIMEOUT_MS),
    answersWithin(redis.ping().then((pong) => pong === 'PONG'), PROBE_TIMEOUT_MS),
  ]);
  const checks = { kafka: kafkaOk, clickhouse, redis: redisOk };
  return { ready: kafkaOk && clickhouse && redisOk, checks };
}

const CATALOG_REFRESH_MS = 5_000;
/** How often the embedded engine's memory figures in /metrics are read again. */
const ENGINE_MEMORY_MS = 10_000;

/** The caches of the embedded engine, by their system.metrics names. */
const ENGINE_CACHES = { MarkCacheBytes: 'mark', PrimaryIndexCacheBytes: 'primary_index', QueryConditionCacheBytes: 'query_condition', CompiledExpressionCacheBytes: 'compiled_expression', UncompressedCacheBytes: 'uncompressed' } as const;

/** The embedded engine's own account of its memory and its caches', for /metrics. */
async function trackEngineMemory(storage: Storage) {
  const rows = await storage.lane('serve').query<{ metric: string; value: number }>(`SELECT metric, value FROM system.metrics WHERE metric = 'MemoryTracking' OR has({caches:Array(String)}, metric)`, { caches: Object.keys(ENGINE_CACHES) });
  for (const { metric, value } of rows) {
    if (metric === 'MemoryTracking') clickhouseMemory.set(Number(value));
    else clickhouseCacheBytes.set({ cache: ENGINE_CACHES[metric as keyof typeof ENGINE_CACHES] }, Number(value));
  }
}

/** How long closing the clients waits for ClickHouse statements still running. */
const ENGINE_DRAIN_MS = 2_000;

/** Connection errors are retried by ioredis; a lost and regained connection is worth a line each. */
function watchRedis(redis: Redis, log: Logger, name: string) {
  let lost = false;
  redis.on('error', (error) => log.debug({ err: error, connection: name }, 'redis connection error'));
  redis.on('close', () => {
    if (lost || redis.status === 'end') return;
    lost = true;
    log.warn({ connection: name }, 'lost the connection to Redis; reconnecting');
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    log.info({ connection: name }, 'connected to Redis again');
  });
}

/** A readiness probe: true only when it answers yes in time. */
async function answersWithin(probe: Promise<boolean>, ms: number): Promise<boolean> {
  const outcome = await within(probe.catch(() => false), ms);
  return outcome.done && outcome.value;
}

/**
 * Stops roles in reverse start order, then closes the shared clients, all within `deadline`
 * (default: SHUTDOWN_TIMEOUT_MS from now). Resolves true when everything stopped in time.
 */
export async function stopAll(runtime: Runtime, handles: RoleHandle[], deadline = Deadline.in(runtime.config.shutdown.timeoutMs)): Promise<boolean> {
  const roles = [...handles].reverse().map((handle) => ({ name: `${handle.id} role`, stop: (at: Deadline) => handle.stop(at) }));
  const clients = async (at: Deadline) => {
    // Roles have stopped: what still runs in ClickHouse is a query nobody waits for.
    if (!(await runtime.close(Math.min(at.remaining(), ENGINE_DRAIN_MS)))) throw new Error('statements were still running when the deadline came');
  };
  return runSteps([...roles, { name: 'clients', stop: clients }], deadline, runtime.log);
}

/**
 * Runs a process entry point: a configuration error ends it with one line naming the
 * variable (exit code 2), any other start-up failure with its message (exit code 1).
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${error instanceof ConfigError ? 'configuration error' : 'start-up failed'}: ${message}\n`);
    process.exit(error instanceof ConfigError ? EXIT.config : EXIT.failed);
  });
}
