import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort, run, stopLeftover, stopProcess, waitFor, writePidFile } from './process.ts';

export interface LocalRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  port?: number;
  /** Keep an append-only file here (the start command: alert state and jobs survive a restart); omit for tests. */
  persistDir?: string;
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
  if (options.persistDir) {
    mkdirSync(options.persistDir, { recursive: true });
    await stopLeftover(pidFile!);
    args.push('--dir', options.persistDir, '--appendonly', 'yes');
  } else {
    args.push('--appendonly', 'no');
  }
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  if (pidFile) writePidFile(pidFile, child);
  await waitFor(`redis-server on port ${port}`, () => ping(port, child), 20_000, 100);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await stopProcess(child, 10_000);
      if (pidFile) rmSync(pidFile, { force: true });
    },
  };
}

function ping(port: number, child: ChildProcess): Promise<boolean> {
  if (child.exitCode !== null) return Promise.reject(new Error(`redis-server exited with code ${child.exitCode}`));
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
  });
}
