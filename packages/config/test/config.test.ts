import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.ts';

describe('loadConfig', () => {
  it('applies defaults for a bare environment', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toBeUndefined();
    expect(config.kafka.localPort).toBe(9092);
    expect(config.http.port).toBe(8080);
    expect(config.dataDir).toBe('./.data');
    expect(config.kafka.topics).toEqual({ releases: 'ml.releases', incidents: 'ml.incidents', experiments: 'ml.experiments', signals: 'ml.signals', dlq: 'ml.dlq' });
    expect(config.roles).toEqual(['ingest', 'worker', 'api']);
    expect(config.demo).toBe(true);
  });

  it('parses brokers, tokens, roles and booleans', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'k1:9092, k2:9093', KPI_API_TOKENS: 'abc:read,x:y:admin', KPI_ROLES: 'api,worker', KPI_DEMO: '0', PORT: '9000' });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect([...config.apiTokens!]).toEqual([['abc', 'read'], ['x:y', 'admin']]);
    expect(config.roles).toEqual(['api', 'worker']);
    expect(config.demo).toBe(false);
    expect(config.http.port).toBe(9000);
  });

  it.each([
    ['KAFKA_BROKERS', 'localhost'],
    ['KAFKA_BROKERS', 'a:99999'],
    ['CLICKHOUSE_URL', 'clickhouse:8123'],
    ['CLICKHOUSE_URL', 'ftp://x'],
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'http://redis'],
    ['KPI_API_TOKENS', 'abc:superuser'],
    ['KPI_ROLES', 'api,cron'],
    ['KPI_DEMO', 'maybe'],
  ])('rejects %s=%s with a one-line message naming it', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`${name}=`);
    expect(message).not.toContain('\n');
  });
});
