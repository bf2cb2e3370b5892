import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type Config } from '@kpi/config';
import { createStorage, migrate, type Storage } from '@kpi/storage';
import type { SharedInfra } from './global-setup.ts';

export type { SharedInfra };

export function sharedInfra(): SharedInfra {
  return inject('infra');
}

/** A name no other test uses: topics, databases, queue prefixes, consumer groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * The environment of an isolated pipeline on the shared infrastructure: its own topics,
 * consumer group, ClickHouse database, queue prefix and data directory.
 */
export function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const infra = sharedInfra();
  const id = uniqueName('t');
  const env: Record<string, string> = {
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: infra.redisUrl,
    CLICKHOUSE_DATABASE: id,
    KAFKA_GROUP_ID: `${id}-ingest`,
    KPI_QUEUE_PREFIX: id,
    KPI_TOPIC_RELEASES: `${id}.releases`,
    KPI_TOPIC_INCIDENTS: `${id}.incidents`,
    KPI_TOPIC_EXPERIMENTS: `${id}.experiments`,
    KPI_TOPIC_SIGNALS: `${id}.signals`,
    KPI_TOPIC_DLQ: `${id}.dlq`,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'kpi-test-data-')),
    PORT: '0',
    API_CHECK_RESPONSES: 'true',
    KPI_DEMO: '0',
    LOG_LEVEL: 'error',
    ...extra,
  };
  if (infra.clickhouseUrl) env.CLICKHOUSE_URL = infra.clickhouseUrl;
  return env;
}

export function isolatedConfig(extra: Record<string, string> = {}): Config {
  return loadConfig(isolatedEnv(extra));
}

/** A migrated ClickHouse database for one test file (embedded in this process unless a server is shared). */
export async function migratedStorage(config: Config): Promise<Storage> {
  const storage = createStorage({ clickhouse: config.clickhouse, dataDir: config.dataDir });
  await migrate(storage);
  return storage;
}
