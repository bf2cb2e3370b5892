import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, stopProcess, waitFor } from '@kpi/infra';

/** A Prometheus-project server (Debian's `prometheus` or `prometheus-alertmanager`) started by a test. */
export interface LocalServer {
  url: string;
  port: number;
  /** Its last output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';

function requireBinary(path: string, pkg: string) {
  if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's ${pkg} (./run test installs it)`);
}

async function startServer(binary: string, pkg: string, args: (dir: string, port: number) => string[], config: string, port?: number): Promise<LocalServer> {
  requireBinary(binary, pkg);
  const dir = mkdtempSync(join(tmpdir(), `kpi-${pkg}-`));
  const configFile = join(dir, 'config.yml');
  writeFileSync(configFile, config);
  const listen = port ?? (await freePort());
  const child = spawn(binary, [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${listen}`, ...args(dir, listen)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${listen}`;
  const server = { url, port: listen, output: () => output, stop: () => stopProcess(child, 10_000) };
  try {
    await waitFor(`${pkg} on port ${listen}`, async () => {
      if (child.exitCode !== null) throw new Error(`${pkg} exited with ${child.exitCode}:\n${output.slice(-2000)}`);
      return (await fetch(`${url}/-/ready`)).ok;
    }, 30_000, 100);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** A real Alertmanager on a free port (or `port`), with its own storage directory and no clustering. */
export function startAlertmanager(config: string, port?: number): Promise<LocalServer> {
  return startServer(ALERTMANAGER, 'prometheus-alertmanager', (dir) => [`--storage.path=${join(dir, 'data')}`, '--cluster.listen-address='], config, port);
}

/** A real Prometheus on a free port, with its own TSDB directory. */
export function startPrometheus(config: string): Promise<LocalServer> {
  return startServer(PROMETHEUS, 'prometheus', (dir) => [`--storage.tsdb.path=${join(dir, 'tsdb')}`], config);
}

/** `promtool check metrics` over an exposition: its output, or a rejection with its complaints. */
export async function promtoolCheckMetrics(exposition: string): Promise<string> {
  requireBinary(PROMTOOL, 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'kpi-promtool-'));
  const file = join(dir, 'metrics.txt');
  writeFileSync(file, exposition);
  return run('sh', ['-c', `${PROMTOOL} check metrics < "${file}"`]);
}
