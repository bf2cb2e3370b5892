import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalKafka, startLocalRedis } from '@kpi/infra';

export interface SharedInfra {
  kafkaBrokers: string[];
  redisUrl: string;
  /** Set when ClickHouse runs as a server (containers mode); otherwise each test process embeds its own. */
  clickhouseUrl: string | undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    infra: SharedInfra;
  }
}

/**
 * Starts the shared infrastructure once per test run: by default a real Kafka broker (KRaft,
 * jars from Maven Central) and Debian's redis-server as local processes; with
 * KPI_TEST_INFRA=containers and a Docker engine, the testcontainers modules instead.
 */
export default async function setup(project: TestProject) {
  if (process.env.KPI_TEST_INFRA === 'containers') return setupContainers(project);
  const root = mkdtempSync(join(tmpdir(), 'kpi-test-infra-'));
  const [kafka, redis] = await Promise.all([startLocalKafka({ dataDir: join(root, 'kafka') }), startLocalRedis()]);
  project.provide('infra', { kafkaBrokers: kafka.brokers, redisUrl: redis.url, clickhouseUrl: undefined });
  return async () => {
    await Promise.all([kafka.stop(), redis.stop()]);
    rmSync(root, { recursive: true, force: true });
  };
}

async function setupContainers(project: TestProject) {
  const [{ KafkaContainer }, { RedisContainer }, { ClickHouseContainer }] = await Promise.all([
    import('@testcontainers/kafka'),
    import('@testcontainers/redis'),
    import('@testcontainers/clickhouse'),
  ]);
  const [kafka, redis, clickhouse] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new RedisContainer('redis:7-alpine').start(),
    new ClickHouseContainer('clickhouse/clickhouse-server:25.8').start(),
  ]);
  project.provide('infra', {
    kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    redisUrl: redis.getConnectionUrl(),
    clickhouseUrl: clickhouse.getConnectionUrl(),
  });
  return async () => {
    await Promise.all([kafka.stop(), redis.stop(), clickhouse.stop()]);
  };
}
