import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort, LocalProcess, run, stopLeftover, waitFor } from './process.ts';

export interface LocalRedis {
  url: string;
  port: number;
  /** Stops Redis (SIGTERM, then SIGKILL after `graceMs`, default 10 s). */
  stop(graceMs?: number): Promise<void>;
  /** Starts it again on the same port (and append-only file, when persisted). */
  restart(): Promise<void>;
  readonly process: ChildProcess | undefined;
  /** Where it logs (persisted instances only). */
  readonly logFile: string | undefined;
}

export interface LocalRedisOptions {
  port?: number;
  /** Keep an append-only file here (the start command: alert state and jobs survive a restart); omit for tests. */
  persistDir?: string;
  /** Aborting it while Redis starts stops it. */
  signal?: AbortSignal;
}

/** Installs Debian's redis-server when it is missing (we run as root on these machines). */
export async function ensureRedisServer(): Promise<void> {
  try {
    await run('redis-server', ['--version']);
  } catch {
    await run('apt-get', ['update', '-qq']);
    await run('apt-get', ['install', '-y', '-qq', 'redis-server'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
}

export async function startLocalRedis(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  await ensureRedisServer();
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
  const pidFile = options.persistDir ? join(options.persistDir, 'redis.pid') : undefined;
  const logFile = options.persistDir ? join(options.persistDir, 'redis.log') : undefined;
  if (options.persistDir) {
    mkdirSync(options.persistDir, { recursive: true });
    await stopLeftover(pidFile!);
    // Redis writes its append-only file before it replies, so a write it acknowledged (a recompute
    // to do, a job) survives Redis being killed and ingestion may commit the offsets it covers;
    // the fsync runs every second, off the request path (an fsync per reply capped job throughput).
    args.push('--dir', options.persistDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--logfile', logFile!);
  } else {
    args.push('--appendonly', 'no');
  }
  const local = new LocalProcess({
    name: 'redis',
    pidFile,
    signal: options.signal,
    graceMs: 10_000,
    spawn: () => spawn('redis-server', args, { stdio: 'ignore', detached: true }),
    waitReady: (child) => waitFor(`redis-server on port ${port}`, () => ping(port, child), 20_000, 100),
  });
  await local.start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    logFile,
    get process() {
      return local.process;
    },
    stop: (graceMs?: number) => local.stop(graceMs),
    restart: () => local.restart(),
  };
}

function ping(port: number, child: ChildProcess): Promise<boolean> {
  if (child.exitCode !== null) return Promise.reject(new Error(`redis-server exited with code ${child.exitCode}`));
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
    // Whatever holds the port must answer PONG, and soon.
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
  });
}
