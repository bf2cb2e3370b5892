import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '@kpi/bus';
import { loadConfig } from '@kpi/config';
import { produceEvents } from '@kpi/demo';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { isolatedEnv } from '@kpi/testing';
import { eventually } from './support/pipeline.ts';

const root = join(import.meta.dirname, '..');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a node entry point to its end (or until `killWhen` matches its output: then SIGKILL). */
function run(args: string[], env: Record<string, string>, killWhen?: RegExp): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (killWhen?.test(stdout) && child.exitCode === null) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

interface StoredValue {
  kpi: string;
  granularity: string;
  period_start: string;
  team: string;
  tier: string;
  value: number | null;
  sample_size: number;
}

/** Every KPI value stored in a data directory, read by a child process (ClickHouse embeds one directory per process). */
async function storedValues(env: Record<string, string>, dataDir: string): Promise<StoredValue[]> {
  const result = await run(['--import', 'tsx', 'test/support/dump-kpi-values.ts'], { ...env, DATA_DIR: dataDir, LOG_LEVEL: 'error' });
  if (result.code !== 0) throw new Error(`dump failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as StoredValue[];
}

/** A year of two teams: monthly surveys and incidents, weekly serving windows. Deterministic, all in 2025. */
function history(): CloudEvent[] {
  const events: CloudEvent[] = [];
  const source = 'rebuild-test';
  for (let month = 1; month <= 12; month++) {
    const mm = String(month).padStart(2, '0');
    for (const team of ['rebuild-a', 'rebuild-b']) {
      for (let i = 0; i < 3; i++) {
        events.push(makeEvent('survey.response', { team, score: 1 + ((month + i) % 5) }, { source, id: `survey-${team}-${mm}-${i}`, time: `2025-${mm}-1${i}T10:00:00Z` }));
      }
      const incident = `inc-${team}-${mm}`;
      events.push(
        makeEvent(
          'incident.opened',
          { incident_id: incident, team, tier: 1, severity: month % 4 === 0 ? 'sev0' : 'sev2', category: 'model', started_at: `2025-${mm}-05T08:00:00Z`, detected_at: `2025-${mm}-05T09:00:00Z` },
          { source, id: `open-${incident}`, time: `2025-${mm}-05T09:00:00Z` },
        ),
        // Mitigated `month` hours after detection.
        makeEvent('incident.mitigated', { incident_id: incident }, { source, id: `mitigated-${incident}`, time: new Date(Date.parse(`2025-${mm}-05T09:00:00Z`) + month * 3_600_000).toISOString() }),
      );
    }
  }
  for (let week = 0; week < 52; week++) {
    const time = new Date(Date.parse('2025-01-06T12:00:00Z') + week * 7 * 86_400_000).toISOString();
    events.push(makeEvent('serving.window', { model_id: 'ranker', team: 'rebuild-a', tier: 1, requests: 1000 + week, latency_p95_ms: 40 + (week % 7), cost_usd: 2 }, { source, id: `window-${week}`, time }));
  }
  return events;
}

describe('a worker killed mid-rebuild', () => {
  it('`node services/worker --rebuild` SIGKILLed part-way and run again stores exactly the values of an uninterrupted rebuild', { timeout: 300_000 }, async () => {
    const env = isolatedEnv({ INGEST_BATCH_MAX_WAIT_MS: '50' });
    const config = loadConfig(env);
    const kafka = createKafka(config.kafka, config.kafka.brokers!);
    const eventTopics = [config.kafka.topics.releases, config.kafka.topics.incidents, config.kafka.topics.experiments, config.kafka.topics.signals];
    await ensureTopics(kafka, Object.values(config.kafka.topics), config.kafka.partitions);
    const events = history();
    const producer = await createProducer(kafka);
    await produceEvents(producer, config.kafka.topics, events);
    await producer.disconnect();

    // Ingest them into the data directory, then stop: the rebuilds below run on copies of it.
    const ingest = spawn(process.execPath, ['services/ingest'], { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually(async () => {
        const offsets = await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: eventTopics });
        const committed = offsets.flatMap((topic) => topic.partitions).reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0);
        return committed === events.length ? true : undefined;
      }, 120_000, 'every event ingested');
    } finally {
      await admin.disconnect();
    }
    ingest.kill('SIGTERM');
    expect(await new Promise((resolve) => ingest.once('exit', resolve))).toBe(0);
    const [uninterrupted, interrupted] = ['uninterrupted', 'interrupted'].map((name) => {
      const dir = join(env.DATA_DIR!, name);
      cpSync(join(env.DATA_DIR!, 'clickhouse'), join(dir, 'clickhouse'), { recursive: true });
      return dir;
    }) as [string, string];
    const rebuild = (dataDir: string, killWhen?: RegExp) => run(['services/worker', '--rebuild'], { ...env, DATA_DIR: dataDir, LOG_LEVEL: 'info' }, killWhen);

    const whole = await rebuild(uninterrupted);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toContain('rebuilt every KPI value');
    const expected = await storedValues(env, uninterrupted);

    // Killed as soon as it has stored its first values: the rebuild is part-way.
    const killed = await rebuild(interrupted, /rebuild: \d+\/\d+ KPIs/);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).not.toContain('rebuilt every KPI value');
    const partial = await storedValues(env, interrupted);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(expected.length);

    const again = await rebuild(interrupted);
    expect(again.code, again.stderr).toBe(0);
    expect(await storedValues(env, interrupted)).toEqual(expected);

    // And they are the SPEC's numbers, computed here by hand.
    const value = (kpi: string, granularity: string, periodStart: string, team: string, tier = 'all') =>
      expected.find((row) => row.kpi === kpi && row.granularity === granularity && row.period_start === periodStart && row.team === team && row.tier === tier);
    // May: scores 1 + (5 + i) % 5 for i = 0..2 -> 1, 2, 3.
    expect(value('stakeholder_satisfaction', 'month', '2025-05-01 00:00:00', 'rebuild-a')).toMatchObject({ value: 2, sample_size: 3 });
    // Both teams together: six answers, the same mean.
    expect(value('stakeholder_satisfaction', 'month', '2025-05-01 00:00:00', '*')).toMatchObject({ value: 2, sample_size: 6 });
    // Sev0 in months 4, 8 and 12: one per team in Q2.
    expect(value('sev0_incidents', 'quarter', '2025-04-01 00:00:00', 'rebuild-a')).toMatchObject({ value: 1 });
    expect(value('sev0_incidents', 'quarter', '2025-04-01 00:00:00', '*')).toMatchObject({ value: 2 });
    // July's incident is mitigated 7 hours after detection.
    expect(value('time_to_mitigate_hours', 'month', '2025-07-01 00:00:00', 'rebuild-a', '1')).toMatchObject({ value: 7, sample_size: 1 });
  });
});
