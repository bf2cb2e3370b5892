import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '@kpi/events';
import { AlertStore } from '@kpi/alerts';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { startReceiver, type TestReceiver } from './alerts-receiver.ts';

// The receiver answers 500 for 5 s from its first request, then 200. Meanwhile the alert keeps
// firing and repeats every 2 s; then the KPI is restored and the alert resolves.
const OUTAGE_MS = 5_000;
let pipeline: TestPipeline;
let receiver: TestReceiver;
let outageEndsAt: number | undefined;

beforeAll(async () => {
  receiver = await startReceiver((request) => {
    outageEndsAt ??= request.at + OUTAGE_MS;
    return request.at < outageEndsAt ? 500 : 200;
  });
  pipeline = await startPipeline({
    env: { ALERT_EVALUATION_INTERVAL_MS: '250', ALERT_DEFAULT_RULES: '0', ALERT_NOTIFY_BACKOFF_MS: '300', ALERT_NOTIFY_ATTEMPTS: '20' },
  });
});
afterAll(async () => {
  await pipeline?.stop();
  await receiver?.close();
});

describe('notification delivery', () => {
  it('a receiver returning 500s for a while, then 200, gets every notification in order, each retry with the same idempotency key', async () => {
    const team = 'alerts-delivery';
    const created = await pipeline.api.inject({
      method: 'POST',
      url: '/v1/alert-rules',
      headers: { authorization: `Bearer ${TOKENS.admin}` },
      payload: {
        name: 'sev0-delivery', kpi: 'sev0_incidents', scope: 'team', team, for: '0s',
        group_wait: '0s', group_interval: '1s', repeat_interval: '2s',
        receivers: [{ type: 'webhook', url: `${receiver.url}/hook`, headers: { Authorization: 'Bearer receiver-secret' } }],
      },
    });
    expect(created.statusCode).toBe(201);
    const now = new Date();
    const opened = makeEvent(
      'incident.opened',
      { incident_id: 'inc-d', team, tier: 2, severity: 'sev0', category: 'infrastructure', started_at: new Date(now.getTime() - 60_000).toISOString(), detected_at: now.toISOString() },
      { source: 'pagerduty', id: 'inc-d-opened', time: now.toISOString() },
    );
    await pipeline.produce([opened]);

    // Through the outage and past it: the first notification gets through, and repeats follow.
    await eventually(async () => (receiver.on('/hook', { acked: true }).length >= 3 ? true : undefined), 40_000, 'three notifications delivered');
    await pipeline.produce([makeEvent('incident.updated', { incident_id: 'inc-d', severity: 'sev3' }, { source: 'pagerduty', id: 'inc-d-downgraded', time: new Date(Date.now() + 1_000).toISOString() })]);
    await eventually(async () => receiver.on('/hook', { acked: true }).find((request) => request.body.status === 'resolved'), 40_000, 'the resolved notification delivered');

    const attempts = receiver.on('/hook');
    const delivered = receiver.on('/hook', { acked: true });
    expect(attempts.filter((request) => request.answered === 500).length).toBeGreaterThanOrEqual(3);
    // Every notification delivered once, in the order they were made, with no gap in the sequence.
    expect(delivered.map((request) => request.seq)).toEqual(delivered.map((_, index) => index + 1));
    expect(new Set(delivered.map((request) => request.key)).size).toBe(delivered.length);
    expect(delivered.map((request) => request.body.status)).toEqual([...delivered.slice(0, -1).map(() => 'firing'), 'resolved']);
    // Every attempt that failed was a notification delivered later: none lost.
    const deliveredKeys = new Set(delivered.map((request) => request.key));
    for (const failed of attempts.filter((request) => request.answered === 500)) expect(deliveredKeys.has(failed.key)).toBe(true);
    // The first notification was retried through the outage: the same key and the same bytes on every attempt.
    const first = attempts.filter((request) => request.seq === 1);
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(new Set(first.map((request) => request.key)).size).toBe(1);
    expect(new Set(first.map((request) => request.raw)).size).toBe(1);
    expect(first.at(-1)!.answered).toBe(200);
    expect(first.at(-1)!.at).toBeGreaterThanOrEqual(outageEndsAt!);
    // Retries back off exponentially (300 ms, 600 ms, 1.2 s, ...).
    const gaps = first.slice(1).map((request, index) => request.at - first[index]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(250);
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]! * 2);
    // Repeats made during the outage waited for the first: nothing delivered before it.
    expect(attempts.filter((request) => request.seq > 1).every((request) => request.at >= first.at(-1)!.at)).toBe(true);
    expect(first[0]!.headers.authorization).toBe('Bearer receiver-secret');

    // The outbox is empty; the delivery log in ClickHouse has each notification once, sent.
    const store = new AlertStore(pipeline.runtime.redis, pipeline.runtime.config.queuePrefix);
    await eventually(async () => ((await store.outbox()).length === 0 ? true : undefined), 10_000, 'an empty outbox');
    // Each delivery is logged after it leaves the outbox: the last row may land a moment later.
    const log = await eventually(async () => {
      const rows = await pipeline.runtime.storage.query<{ sequence: number; outcome: string; attempts: number }>(
        "SELECT sequence, outcome, attempts FROM {db:Identifier}.alert_notifications FINAL WHERE rule = 'sev0-delivery' ORDER BY sequence",
      );
      return rows.length >= delivered.length ? rows : undefined;
    }, 10_000, 'every delivery logged');
    expect(log.map((row) => row.sequence)).toEqual(delivered.map((request) => request.seq));
    expect(log.every((row) => row.outcome === 'sent')).toBe(true);
    expect(log[0]!.attempts).toBe(first.length);
    const metrics = (await pipeline.api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/kpi_alert_notifications_failed_total\{receiver_type="webhook",outcome="retry"\} [1-9]/);
    // The rule's receiver secret is shown to admins only.
    const asReader = await pipeline.get('/v1/alert-rules/sev0-delivery');
    expect(asReader.body.rule.receivers[0]).toHaveProperty('headers', { Authorization: '<redacted>' });
  });
});
