import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertStore } from '@kpi/alerts';
import { createKafka, ensureTopics } from '@kpi/bus';
import { loadConfig } from '@kpi/config';
import { makeEvent } from '@kpi/events';
import { stopProcess } from '@kpi/infra';
import { createStorage } from '@kpi/storage';
import { isolatedEnv } from '@kpi/testing';
import { eventually } from './support/pipeline.ts';
import { startReceiver, type TestReceiver } from './alerts-receiver.ts';

const root = join(import.meta.dirname, '..');
const FOR_MS = 15_000;

// The pipeline runs in a child process: first ingest and worker (`node services/stack` with
// KPI_ROLES=ingest,worker: embedded ClickHouse binds its data directory to one process, and the
// KPI values the rule judges are written by ingestion), killed with SIGKILL while the alert is
// pending; then `node services/worker` on the same data directory. This test process never opens
// that ClickHouse while a child runs: it watches the alert state in Redis.
let child: ChildProcess | undefined;
let receiver: TestReceiver | undefined;
let redis: Redis | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) await stopProcess(child, 15_000);
  redis?.disconnect();
  await receiver?.close();
});

describe('alert state survives the worker', () => {
  it('SIGKILL while an alert is pending: after a restart it fires on time, once', { timeout: 110_000 }, async () => {
    receiver = await startReceiver();
    const env = isolatedEnv({ KPI_ROLES: 'ingest,worker', ALERT_EVALUATION_INTERVAL_MS: '250', ALERT_DEFAULT_RULES: '0', INGEST_BATCH_MAX_WAIT_MS: '50', ALERT_NOTIFY_BACKOFF_MS: '200' });
    const rulesFile = join(env.DATA_DIR!, 'alert-rules.yaml');
    writeFileSync(
      rulesFile,
      [
        'rules:',
        '  - name: sev0-crash',
        '    kpi: sev0_incidents',
        '    scope: team',
        '    team: alerts-crash',
        `    for: ${FOR_MS / 1000}s`,
        '    group_wait: 0s',
        '    repeat_interval: 1h',
        '    receivers:',
        `      - { type: webhook, url: "${receiver.url}/crash" }`,
        '',
      ].join('\n'),
    );
    env.ALERT_RULES_FILE = rulesFile;
    const config = loadConfig(env);
    const kafka = createKafka(config.kafka, config.kafka.brokers!);
    await ensureTopics(kafka, Object.values(config.kafka.topics), 3);
    redis = new Redis(config.redis.url!, { maxRetriesPerRequest: null });
    const store = new AlertStore(redis, config.queuePrefix);
    let stderr = '';
    const start = (entry: string) => {
      const process_ = spawn(process.execPath, [entry], { cwd: root, env: { ...process.env, ...env, ...(entry === 'services/worker' ? { KPI_ROLES: 'worker' } : {}) }, stdio: ['ignore', 'ignore', 'pipe'] });
      process_.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
      return process_;
    };
    const alert = async () => (await store.instances()).find((instance) => instance.rule === 'sev0-crash');

    child = start('services/stack');
    const producer = kafka.producer();
    await producer.connect();
    const now = new Date();
    const opened = makeEvent(
      'incident.opened',
      { incident_id: 'inc-crash', team: 'alerts-crash', tier: 1, severity: 'sev0', category: 'model', started_at: new Date(now.getTime() - 60_000).toISOString(), detected_at: now.toISOString() },
      { source: 'pagerduty', id: 'inc-crash-opened', time: now.toISOString() },
    );
    await producer.send({ topic: config.kafka.topics.incidents, acks: -1, messages: [{ key: opened.id, value: JSON.stringify(opened) }] });
    await producer.disconnect();

    const pending = await eventually(async () => ((await alert())?.state === 'pending' ? (await alert())! : undefined), 60_000, `the alert pending (worker stderr: ${stderr})`);
    const activeAt = Date.parse(pending.active_at!);
    await sleep(1_500);
    expect((await alert())!.state).toBe('pending');

    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const killedAt = Date.now();
    expect(receiver.requests).toEqual([]);
    // The events are in ClickHouse already: the worker alone takes over (an ingest role would first
    // wait for the killed consumer's Kafka session to time out).
    child = start('services/worker');

    const [firing] = await eventually(async () => (receiver!.on('/crash').length > 0 ? receiver!.on('/crash') : undefined), 60_000, `the firing notification (worker stderr: ${stderr})`);
    // On time: `for` after the alert went pending before the crash, not after the restart.
    expect(firing!.at - activeAt).toBeGreaterThanOrEqual(FOR_MS);
    expect(firing!.at - activeAt).toBeLessThan(FOR_MS + 4_000);
    expect(firing!.at).toBeLessThan(killedAt + FOR_MS);
    expect(firing!.body).toMatchObject({ status: 'firing', alerts: [{ labels: { alertname: 'sev0-crash', team: 'alerts-crash' }, fingerprint: pending.fingerprint }] });
    const fired = (await alert())!;
    expect(fired).toMatchObject({ state: 'firing', active_at: pending.active_at });
    expect(Date.parse(fired.fired_at!) - activeAt).toBeGreaterThanOrEqual(FOR_MS);

    // Once: no second notification, and one pending and one firing transition in the history.
    await sleep(3_000);
    expect(receiver.on('/crash')).toHaveLength(1);
    await stopProcess(child, 30_000);
    expect(child.exitCode).toBe(0);
    const storage = createStorage({ clickhouse: config.clickhouse, dataDir: config.dataDir });
    try {
      const history = await storage.query<{ from_state: string; to_state: string }>(
        "SELECT from_state, to_state FROM {db:Identifier}.alert_history FINAL WHERE rule = 'sev0-crash' ORDER BY at, version",
      );
      expect(history.map((row) => `${row.from_state}->${row.to_state}`)).toEqual(['inactive->pending', 'pending->firing']);
    } finally {
      await storage.close();
    }
  });
});
