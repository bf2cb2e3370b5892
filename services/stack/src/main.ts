import { join, resolve } from 'node:path';
import { loadConfig, type Config } from '@kpi/config';
import { startLocalKafka, startLocalRedis, type LocalKafka, type LocalRedis } from '@kpi/infra';
import { createRuntime, runMain, stopAll, stopOnSignals, type RoleHandle } from '@kpi/runtime';
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
  const started: { stop(): Promise<void> }[] = [];
  let kafka: LocalKafka | undefined;
  let redis: LocalRedis | undefined;
  const stopInfra = async () => {
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
  };
  try {
    if (!config.kafka.brokers) {
      kafka = await startLocalKafka({ dataDir: join(dataDir, 'kafka'), port: config.kafka.localPort });
      started.push(kafka);
    }
    if (!config.redis.url) {
      redis = await startLocalRedis({ persistDir: join(dataDir, 'redis') });
      started.push(redis);
    }
    const runtime = await createRuntime(config, { brokers: kafka?.brokers, redisUrl: redis?.url });
    const handles: RoleHandle[] = [];
    if (config.roles.includes('ingest')) handles.push(await startIngestRole(runtime));
    if (config.roles.includes('worker')) handles.push(await startWorkerRole(runtime));
    const api = config.roles.includes('api') ? await startApiRole(runtime) : undefined;
    if (api) handles.push(api);
    stopOnSignals(runtime.log, async () => {
      await stopAll(runtime, handles);
      await stopInfra();
    });
    printBanner(config, runtime.brokers, redis?.url ?? config.redis.url!, dataDir, api);
  } catch (error) {
    await stopInfra();
    throw error;
  }
});

function printBanner(config: Config, brokers: string[], redisUrl: string, dataDir: string, api: ApiHandle | undefined) {
  const lines = [
    '',
    'KPI pipeline is running',
    ...(api ? [`  dashboard & API   ${api.url}/`, `  API docs          ${api.url}/docs`, `  health            ${api.url}/readyz`] : []),
    `  Kafka             ${brokers.join(',')}  (topics: ${Object.values(config.kafka.topics).join(', ')})`,
    `  Redis             ${redisUrl}`,
    `  data              ${dataDir}`,
    ...(api?.generatedToken ? [`  API token (admin) ${api.generatedToken}`] : api ? ['  API tokens        from KPI_API_TOKENS'] : []),
    '  stop with Ctrl-C',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
