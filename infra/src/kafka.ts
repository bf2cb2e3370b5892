import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, LocalProcess, run, stopLeftover, waitFor } from './process.ts';

const kafkaDir = resolve(dirname(fileURLToPath(import.meta.url)), '../kafka');
const libDir = join(kafkaDir, 'lib');

/**
 * Fetches the broker jars from Maven Central into infra/kafka/lib (pom.xml pins the version).
 * Maven's own cache (~/.m2) makes the second fetch on a machine a copy.
 */
export async function ensureKafkaJars(): Promise<string> {
  const ready = existsSync(libDir) && readdirSync(libDir).some((file) => file.startsWith('kafka_2.13-'));
  if (!ready) {
    await run('mvn', ['-q', '-B', 'dependency:copy-dependencies', '-DoutputDirectory=lib', '-DincludeScope=runtime'], { cwd: kafkaDir });
  }
  return libDir;
}

export interface LocalKafka {
  brokers: string[];
  port: number;
  /** Stops the broker (SIGTERM, then SIGKILL after `graceMs`, default 20 s). Its data stays in `dataDir`. */
  stop(graceMs?: number): Promise<void>;
  /** Starts it again on the same port with the same data, e.g. after `stop()` in a failure test. */
  restart(): Promise<void>;
  readonly process: ChildProcess | undefined;
  /** The broker's own log. */
  readonly logFile: string;
}

export interface LocalKafkaOptions {
  dataDir: string;
  port?: number;
  heapMb?: number;
  /** Aborting it while the broker starts stops it. */
  signal?: AbortSignal;
}

/** Starts a single-node KRaft broker (broker + controller in one JVM) and waits until it serves metadata. */
export async function startLocalKafka(options: LocalKafkaOptions): Promise<LocalKafka> {
  const lib = await ensureKafkaJars();
  const port = options.port ?? (await freePort());
  const controllerPort = await freePort();
  const logDir = join(options.dataDir, 'log');
  mkdirSync(logDir, { recursive: true });
  const pidFile = join(options.dataDir, 'broker.pid');
  await stopLeftover(pidFile);
  const configFile = join(options.dataDir, 'server.properties');
  writeFileSync(
    configFile,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${logDir}`,
      'num.partitions=3',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=5',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=true',
      'message.max.bytes=4194304',
      '',
    ].join('\n'),
  );
  const classpath = `${lib}/*`;
  if (!existsSync(join(logDir, 'meta.properties'))) {
    // 16 random bytes in base64url; a leading '-' would be read as an option by the storage tool.
    const clusterId = `k${randomBytes(16).toString('base64url').slice(1, 22)}`;
    await run('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile, '--ignore-formatted']);
  }

  const logFile = join(options.dataDir, 'broker.log');
  const local = new LocalProcess({
    name: 'kafka',
    pidFile,
    signal: options.signal,
    graceMs: 20_000,
    spawn: () => {
      const child = spawn(
        'java',
        [
          `-Xmx${options.heapMb ?? 512}m`,
          '-XX:+UseSerialGC',
          `-Dlog4j2.configurationFile=${join(kafkaDir, 'log4j2.properties')}`,
          `-Dkafka.logs.file=${logFile}`,
          '-cp',
          classpath,
          'kafka.Kafka',
          configFile,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      const out = createWriteStream(join(options.dataDir, 'broker.out'), { flags: 'a' });
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      return child;
    },
    waitReady: (child) => waitForBroker(`127.0.0.1:${port}`, child),
  });
  await local.start();
  return {
    brokers: [`127.0.0.1:${port}`],
    port,
    logFile,
    get process() {
      return local.process;
    },
    stop: (graceMs?: number) => local.stop(graceMs),
    restart: () => local.restart(),
  };
}

async function waitForBroker(broker: string, child: ChildProcess): Promise<void> {
  const admin = new Kafka({ brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await waitFor(
      `Kafka broker on ${broker}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`broker exited with code ${child.exitCode}; see broker.out in its data directory`);
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0 && cluster.controller !== null;
      },
      90_000,
      500,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
