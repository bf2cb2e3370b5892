import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@kpi/infra';

const root = join(import.meta.dirname, '..', '..');

export interface StackProcess {
  child: ChildProcess;
  dataDir: string;
  /** http://127.0.0.1:<PORT> */
  base: string;
  /** The local broker, for any Kafka client. */
  brokers: string[];
  token: string;
  /** The pid of the stack's local Kafka broker or Redis now (they change when the supervisor restarts them). */
  pidOf(service: 'kafka' | 'redis'): number;
  /** A request with the admin token; gives up after `timeoutMs` (status 0, timedOut true). */
  request(path: string, init?: { method?: string; body?: unknown; timeoutMs?: number }): Promise<{ status: number; body: any; ms: number; timedOut: boolean }>;
  /** Resolves with the exit code once the stack process has exited. */
  exited: Promise<number | null>;
  /** Everything still running whose command line names the data directory (the stack and what it started). */
  leftovers(): string[];
  /** SIGKILLs whatever is left (the stack, its broker and Redis): for cleanup after a failed test. */
  kill(): void;
}

/**
 * `node services/stack` as a user runs it: its own data directory, API port and broker port,
 * no demo data. Stderr goes to <dataDir>/stack.err, stdout (the JSON log) to stack.log.
 */
export async function startStack(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<StackProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kpi-stack-'));
  const [port, kafkaPort] = [await freePort(), await freePort()];
  const token = 'stack-admin-token';
  const child = spawn(process.execPath, [...nodeArgs, 'services/stack'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), KAFKA_LOCAL_PORT: String(kafkaPort), KPI_DEMO: '0', KPI_API_TOKENS: `${token}:admin`, LOG_LEVEL: 'info', API_CHECK_RESPONSES: 'true', ...env },
    stdio: ['ignore', openSync(join(dataDir, 'stack.log'), 'a'), openSync(join(dataDir, 'stack.err'), 'a')],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const pidFiles = { kafka: join(dataDir, 'kafka', 'broker.pid'), redis: join(dataDir, 'redis', 'redis.pid') };
  const stack: StackProcess = {
    child,
    dataDir,
    base,
    brokers: [`127.0.0.1:${kafkaPort}`],
    token,
    exited,
    pidOf: (service) => Number(readFileSync(pidFiles[service], 'utf8')),
    async request(path, init = {}) {
      const started = Date.now();
      try {
        const response = await fetch(`${base}${path}`, {
          method: init.method ?? 'GET',
          headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
        });
        const text = await response.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON (metrics) */
        }
        return { status: response.status, body, ms: Date.now() - started, timedOut: false };
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        if (!timedOut && (error as Error).name !== 'TypeError') throw error;
        return { status: 0, body: undefined, ms: Date.now() - started, timedOut };
      }
    },
    leftovers: () => {
      const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
      return ps.stdout.split('\n').filter((line) => line.includes(dataDir) && !line.includes('ps -eo'));
    },
    kill() {
      for (const file of Object.values(pidFiles)) {
        if (existsSync(file)) killQuietly(Number(readFileSync(file, 'utf8')));
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  return stack;
}

/** Polls until the stack answers /readyz with 200. */
export async function waitReady(stack: StackProcess, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stack.child.exitCode !== null) throw new Error(`the stack exited with ${stack.child.exitCode}; see ${stack.dataDir}/stack.err`);
    if ((await stack.request('/readyz', { timeoutMs: 3_000 })).status === 200) return;
    await sleep(250);
  }
  throw new Error(`the stack was not ready within ${timeoutMs} ms; see ${stack.dataDir}/stack.log`);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killQuietly(pid: number) {
  if (Number.isInteger(pid) && pid > 1 && alive(pid)) process.kill(pid, 'SIGKILL');
}
