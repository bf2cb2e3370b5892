import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@kpi/infra';

/** The venv `./run test` installs mlflow 3.x into (kept between runs). */
export const MLFLOW_VENV = process.env.KPI_TEST_MLFLOW_VENV ?? join(homedir(), '.cache', 'kpi-test', 'mlflow-venv');

export interface LocalMlflow {
  url: string;
  /** POST/GET its REST API (`/api/2.0/mlflow/...`), failing on anything but 2xx. */
  api<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A real MLflow tracking server with its model registry on SQLite, on a free port, allowed to send
 * webhooks to loopback. One worker and no job executor: the registry and its webhooks are all the
 * tests need. It runs in its own process group, stopped whole.
 */
export async function startMlflow(port?: number): Promise<LocalMlflow> {
  const binary = join(MLFLOW_VENV, 'bin', 'mlflow');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: ./run test installs mlflow 3.x into ${MLFLOW_VENV}`);
  const dir = mkdtempSync(join(tmpdir(), 'kpi-mlflow-'));
  port ??= await freePort();
  const child = spawn(binary, ['server', '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--default-artifact-root', join(dir, 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', '1'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http,https',
      MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS: 'true',
      // Webhooks created by a test apply at once (MLflow caches the list per event for 60 s).
      MLFLOW_WEBHOOK_CACHE_TTL: '1',
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
    },
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const group = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* already gone */
      }
    };
    group('SIGTERM');
    const timer = setTimeout(() => group('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    group('SIGKILL');
  };
  try {
    await waitFor(`mlflow server on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`mlflow exited with ${child.exitCode}:\n${output.slice(-3000)}`);
      return (await fetch(`${url}/health`)).ok;
    }, 180_000, 500);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    async api(method, path, body) {
      const response = await fetch(`${url}/api/2.0/mlflow/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      if (!response.ok) throw new Error(`MLflow ${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
      return JSON.parse(text || '{}');
    },
    stop,
  };
}
