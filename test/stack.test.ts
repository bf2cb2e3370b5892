import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeEvent } from '@kpi/events';
import { freePort, stopProcess } from '@kpi/infra';
import { eventually } from './support/pipeline.ts';

const root = join(import.meta.dirname, '..');

/** Processes whose command line mentions `needle` (the data directory): what the stack started. */
function processesMentioning(needle: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => line.includes(needle) && !line.includes('ps -eo'));
}

describe('the start command (one machine, every role in one process)', () => {
  it('serves healthz/readyz, keeps KPIs across a restart, and leaves no process behind on SIGTERM', { timeout: 240_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kpi-stack-'));
    const [port, kafkaPort] = [await freePort(), await freePort()];
    const env = { ...process.env, DATA_DIR: dataDir, PORT: String(port), KAFKA_LOCAL_PORT: String(kafkaPort), KPI_DEMO: '0', KPI_API_TOKENS: 'admin-token:admin' };
    const base = `http://127.0.0.1:${port}`;
    const start = (): ChildProcess => spawn(process.execPath, ['services/stack'], { cwd: root, env, stdio: ['ignore', openSync(join(dataDir, 'stack.log'), 'a'), openSync(join(dataDir, 'stack.err'), 'a')] });
    const get = async (path: string) => {
      const response = await fetch(`${base}${path}`, { headers: { authorization: 'Bearer admin-token' } });
      return { status: response.status, body: (await response.json()) as any };
    };
    const march = async () => (await get('/v1/kpis/stakeholder_satisfaction/values?granularity=month&from=2026-03-01&to=2026-04-01')).body.values[0].value;

    let stack = start();
    try {
      await eventually(async () => ((await get('/readyz')).status === 200 ? true : undefined), 120_000, 'readyz 200');
      expect((await get('/healthz')).body).toEqual({ status: 'ok' });
      // Any Kafka client can produce to the local broker; here the HTTP collector does.
      const response = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { authorization: 'Bearer admin-token', 'content-type': 'application/json' },
        body: JSON.stringify([makeEvent('survey.response', { team: 'platform', score: 5 }, { time: '2026-03-10T10:00:00Z' }), makeEvent('survey.response', { team: 'platform', score: 4 }, { time: '2026-03-11T10:00:00Z' })]),
      });
      expect(response.status).toBe(202);
      await eventually(async () => ((await march()) === 4.5 ? true : undefined), 60_000, 'March satisfaction 4.5');
      // Every role's metrics are served at /metrics: ingestion's, the worker's and the API's.
      const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer admin-token' } })).text();
      expect(metrics).toMatch(/^kpi_events_ingested_total\{[^}]*type="survey.response"[^}]*\} 2$/m);
      expect(metrics).toMatch(/^kpi_jobs_total\{[^}]*outcome="completed"[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^kpi_http_request_seconds_count\{/m);
      // The embedded engine's share of the process's memory, read at start-up and every 10 s.
      expect(metrics).toMatch(/^kpi_clickhouse_memory_tracked_bytes [1-9]\d{5,}/m);

      await stopProcess(stack, 60_000);
      expect(stack.exitCode).toBe(0);
      expect(processesMentioning(dataDir)).toEqual([]);

      stack = start();
      await eventually(async () => ((await get('/readyz')).status === 200 ? true : undefined), 120_000, 'readyz 200 after restart');
      expect(await march()).toBe(4.5);
    } finally {
      await stopProcess(stack, 60_000);
    }
    expect(stack.exitCode).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
  });
});
