import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Ports to pick from: below the kernel's ephemeral range (32768 and up), which outgoing connections take their ports from. */
const PICKED_PORTS = { from: 20_000, to: 32_767 };

/** Whether `port` can be listened on now (0: any port the kernel gives); resolves that port, or undefined. */
function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

/**
 * A port nothing listens on, for a process started next. Picked at random below the ephemeral
 * range: a port the kernel handed out (listen on 0) was sometimes taken by an outgoing
 * connection before the process bound it (EADDRINUSE at start-up).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenable(PICKED_PORTS.from + Math.floor(Math.random() * (PICKED_PORTS.to - PICKED_PORTS.from + 1)));
    if (port !== undefined) return port;
  }
  const port = await listenable(0);
  if (port === undefined) throw new Error('no free port');
  return port;
}

/** Polls `probe` until it resolves truthy, or throws after `timeoutMs` with the last error. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Runs a command to completion; rejects with its output when it fails. */
export async function run(command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`)),
    );
  });
}

/** Sends SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Local services run in their own process group, so a Ctrl-C in the terminal reaches only the
 * supervisor, which stops them in order. Their pid is kept in `pidFile`; a leftover from a
 * supervisor that was killed outright is stopped before the same data directory is reused.
 */
export async function stopLeftover(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(); i++) await sleep(200);
  if (alive()) process.kill(pid, 'SIGKILL');
}

export function writePidFile(pidFile: string, child: ChildProcess): void {
  if (child.pid) writeFileSync(pidFile, String(child.pid));
}

export interface LocalProcessSpec {
  /** What the logs and errors call it. */
  name: string;
  /** Where its pid is kept while it runs (see stopLeftover). */
  pidFile?: string;
  /** SIGTERM, then SIGKILL after this long. */
  graceMs: number;
  spawn(): ChildProcess;
  /** Resolves once the process serves; must reject soon after it exits. */
  waitReady(child: ChildProcess): Promise<void>;
  /** Aborted while the first start is in progress: the process is stopped (e.g. a signal during start-up). */
  signal?: AbortSignal;
}

/**
 * A local server process (the start command's Kafka broker and Redis) that can be stopped and
 * started again on the same port and data. A stop wins over a restart in progress: nothing is
 * spawned after it, and a process that never became ready is not left running.
 */
export class LocalProcess {
  private child: ChildProcess | undefined;
  private stopped = false;

  constructor(private readonly spec: LocalProcessSpec) {}

  get process(): ChildProcess | undefined {
    return this.child;
  }

  get name(): string {
    return this.spec.name;
  }

  async start(): Promise<void> {
    if (this.stopped || this.spec.signal?.aborted) throw new Error(`${this.spec.name} was stopped`);
    const child = this.spec.spawn();
    this.child = child;
    if (this.spec.pidFile) writePidFile(this.spec.pidFile, child);
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`${this.spec.name} exited (${signal ?? `code ${code}`}) before it was ready`)));
    });
    exited.catch(() => undefined); // only the race below reports it
    const abort = () => void stopProcess(child, 2_000);
    this.spec.signal?.addEventListener('abort', abort, { once: true });
    try {
      await Promise.race([this.spec.waitReady(child), exited]);
    } catch (error) {
      await stopProcess(child, 2_000);
      throw error;
    } finally {
      this.spec.signal?.removeEventListener('abort', abort);
    }
  }

  /** Stops the process if it still runs, then starts it again. */
  async restart(): Promise<void> {
    this.stopped = false;
    if (this.child) await stopProcess(this.child, this.spec.graceMs);
    await this.start();
  }

  async stop(graceMs = this.spec.graceMs): Promise<void> {
    this.stopped = true;
    if (this.child) await stopProcess(this.child, graceMs);
    if (this.spec.pidFile) rmSync(this.spec.pidFile, { force: true });
  }
}
