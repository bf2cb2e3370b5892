import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '@kpi/config';
import { startLocalKafka, startLocalRedis, type LocalKafka, type LocalRedis } from '@kpi/infra';

/** A throwaway Kafka broker, Redis and data directory for one benchmark run. */
export async function benchInfra(): Promise<{ kafka: LocalKafka; redis: LocalRedis; dataDir: string; config: (extra?: Record<string, string>) => Config; stop(): Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'kpi-bench-'));
  const [kafka, redis] = await Promise.all([startLocalKafka({ dataDir: join(root, 'kafka'), heapMb: 1024 }), startLocalRedis()]);
  const dataDir = join(root, 'data');
  return {
    kafka,
    redis,
    dataDir,
    config: (extra = {}) =>
      loadConfig({ KAFKA_BROKERS: kafka.brokers.join(','), REDIS_URL: redis.url, DATA_DIR: dataDir, KPI_API_TOKENS: 'bench:admin', LOG_LEVEL: 'error', KPI_DEMO: '0', ...extra }),
    async stop() {
      await Promise.all([kafka.stop(), redis.stop()]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Peak resident set size of this process so far (VmHWM), in MB. */
export function peakRssMb(pid: number | 'self' = 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** CPU time (user + system, every thread) a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name; in clock ticks (100/s).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

export function report(title: string, rows: Record<string, string | number>): void {
  process.stdout.write(`\n${title}\n${Object.entries(rows).map(([key, value]) => `  ${key.padEnd(44)} ${value}`).join('\n')}\n`);
}
