import type { Kafka, Producer } from 'kafkajs';
import { pino, type Logger } from 'pino';
import type { Redis } from 'ioredis';
import { ConfigError, type Config } from '@kpi/config';
import { createKafka, createProducer, kafkaReachable } from '@kpi/bus';
import { createQueues, createRedis, type Queues } from '@kpi/queue';
import { createStorage, migrate, type Storage } from '@kpi/storage';
import { loadConnectorsFile, type ConnectorsConfig } from '@kpi/connectors';
import { Catalog } from '@kpi/kpi';

/** What every role of a process shares: one ClickHouse client, one Kafka client, one Redis. */
export interface Runtime {
  config: Config;
  /** The inbound webhook connectors of KPI_CONNECTORS_FILE, parsed once at start-up. */
  connectors: ConnectorsConfig;
  brokers: string[];
  log: Logger;
  storage: Storage;
  kafka: Kafka;
  redis: Redis;
  queues: Queues;
  /** The KPI catalog, custom KPIs included, kept current across processes. */
  catalog: Catalog;
  /** The process's idempotent producer, connected on first use. */
  producer(): Promise<Producer>;
  readiness(): Promise<Readiness>;
  close(): Promise<void>;
}

export interface Readiness {
  ready: boolean;
  checks: { kafka: boolean; clickhouse: boolean; redis: boolean };
}

/** A started role: stopping it drains its work (consumer batch, jobs in flight, requests). */
export interface RoleHandle {
  id: string;
  stop(): Promise<void>;
}

export async function createRuntime(config: Config, options: { brokers?: string[]; redisUrl?: string; log?: Logger } = {}): Promise<Runtime> {
  const brokers = options.brokers ?? config.kafka.brokers;
  const redisUrl = options.redisUrl ?? config.redis.url;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: a role run on its own needs an external Kafka (the start command starts a local one)');
  if (!redisUrl) throw new Error('REDIS_URL is not set: a role run on its own needs an external Redis (the start command starts a local one)');
  // A bad connectors file stops start-up (ConfigError naming the file and field) before anything connects.
  const connectors = loadConnectorsFile(config.connectorsFile);
  const log = options.log ?? pino({ level: config.logLevel, base: undefined });
  const storage = createStorage({ clickhouse: config.clickhouse, dataDir: config.dataDir });
  await migrate(storage);
  const catalog = await Catalog.fromConfig(storage, config);
  // Custom KPIs defined through another process's API reach this one within seconds.
  const refresh = setInterval(() => void catalog.refresh().catch((error) => log.warn({ err: error }, 'could not refresh the KPI catalog')), CATALOG_REFRESH_MS);
  refresh.unref();
  const kafka = createKafka(config.kafka, brokers, (level, message, extra) => log[level]({ kafka: extra }, message));
  const redis = createRedis(redisUrl);
  redis.on('error', (error) => log.debug({ err: error }, 'redis connection error'));
  const queues = createQueues(redis, config.queuePrefix);
  let producer: Promise<Producer> | undefined;
  return {
    config,
    connectors,
    brokers,
    log,
    storage,
    kafka,
    redis,
    queues,
    catalog,
    producer: () => (producer ??= createProducer(kafka)),
    async readiness() {
      const [kafkaOk, clickhouse, redisOk] = await Promise.all([
        kafkaReachable(kafka),
        storage.ping().catch(() => false),
        Promise.race([redis.ping().then((pong) => pong === 'PONG').catch(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref())]),
      ]);
      const checks = { kafka: kafkaOk, clickhouse, redis: redisOk };
      return { ready: kafkaOk && clickhouse && redisOk, checks };
    },
    async close() {
      clearInterval(refresh);
      catalog.close();
      if (producer) await (await producer).disconnect().catch(() => undefined);
      await queues.close();
      redis.disconnect();
      await storage.close();
    },
  };
}

const CATALOG_REFRESH_MS = 5_000;

/**
 * Runs `stop` on SIGINT/SIGTERM (once), then exits. Shutdown runs backwards from start-up:
 * the caller passes the handles in start order.
 */
export function stopOnSignals(log: Logger | (() => Logger | undefined), stop: () => Promise<void>): void {
  let stopping = false;
  const logger = () => (typeof log === 'function' ? log() : log);
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger()?.info({ signal }, 'stopping');
    stop()
      .then(() => process.exit(0))
      .catch((error) => {
        logger()?.error({ err: error }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export async function stopAll(runtime: Runtime, handles: RoleHandle[]): Promise<void> {
  for (const handle of [...handles].reverse()) {
    await handle.stop().catch((error) => runtime.log.error({ err: error, role: handle.id }, 'role did not stop cleanly'));
  }
  await runtime.close();
}

/**
 * Runs a process entry point: a configuration error ends it with one line naming the
 * variable (exit code 2), any other start-up failure with its message (exit code 1).
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${error instanceof ConfigError ? 'configuration error' : 'start-up failed'}: ${message}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  });
}
