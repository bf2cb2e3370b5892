import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '@kpi/events';
import { AlertStore } from '@kpi/alerts';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { startReceiver, type Received, type TestReceiver } from './alerts-receiver.ts';

// Teams (Workflows webhook) and PagerDuty (Events API v2) receivers against an HTTP server started
// here that answers as those services do when in trouble: first a 5xx, then a 429 (rate limited),
// then 202 Accepted; and, on the "refused" paths, 400 (a bad request will not get better).
const ROUTING_KEY = 'Rk0123456789abcdef0123456789abcd';
const ANSWERS = [500, 429, 202];
let pipeline: TestPipeline;
let receiver: TestReceiver;

beforeAll(async () => {
  const seen = new Map<string, number>();
  receiver = await startReceiver((request) => {
    if (request.path.endsWith('-refused')) return 400;
    const n = seen.get(request.path) ?? 0;
    seen.set(request.path, n + 1);
    return ANSWERS[Math.min(n, ANSWERS.length - 1)]!;
  });
  pipeline = await startPipeline({
    env: { ALERT_EVALUATION_INTERVAL_MS: '250', ALERT_DEFAULT_RULES: '0', ALERT_NOTIFY_BACKOFF_MS: '200', ALERT_NOTIFY_ATTEMPTS: '10', ALERT_EXTERNAL_URL: 'http://kpi.example.com' },
  });
});
afterAll(async () => {
  await pipeline?.stop();
  await receiver?.close();
});

async function createRule(name: string, team: string, receivers: unknown[]) {
  const response = await pipeline.api.inject({
    method: 'POST',
    url: '/v1/alert-rules',
    headers: { authorization: `Bearer ${TOKENS.admin}` },
    payload: { name, kpi: 'sev0_incidents', scope: 'team', team, for: '0s', severity: 'critical', group_wait: '0s', group_interval: '1s', repeat_interval: '1h', receivers },
  });
  expect(response.statusCode, response.body).toBe(201);
}

const delivered = (path: string) => receiver.on(path, { acked: true });
const factsOf = (container: { items: { type: string; facts?: { title: string; value: string }[] }[] }) =>
  Object.fromEntries(container.items.find((item) => item.type === 'FactSet')!.facts!.map((fact) => [fact.title, fact.value]));

/** Attempts of one notification: the same bytes and key each time, answered 500, 429, then accepted. */
function expectRetriedThroughOutage(attempts: Received[]) {
  expect(attempts.map((attempt) => attempt.answered)).toEqual(ANSWERS);
  expect(new Set(attempts.map((attempt) => attempt.raw)).size).toBe(1);
  expect(new Set(attempts.map((attempt) => attempt.key)).size).toBe(1);
  expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(150);
}

describe('teams and pagerduty receivers', () => {
  it('post an Adaptive Card and Events API v2 trigger/resolve events, retrying 5xx and 429', async () => {
    const team = 'outbound-recv';
    await createRule('sev0-teams-pd', team, [
      { type: 'teams', url: `${receiver.url}/teams` },
      { type: 'pagerduty', routing_key: ROUTING_KEY, url: `${receiver.url}/pagerduty` },
    ]);
    const now = new Date();
    await pipeline.produce([
      makeEvent(
        'incident.opened',
        { incident_id: 'inc-recv', team, tier: 1, severity: 'sev0', category: 'model', started_at: new Date(now.getTime() - 600_000).toISOString(), detected_at: now.toISOString() },
        { source: 'pagerduty', id: 'inc-recv-opened', time: now.toISOString() },
      ),
    ]);
    await eventually(async () => (delivered('/teams').length > 0 && delivered('/pagerduty').length > 0 ? true : undefined), 40_000, 'both notifications delivered');
    const alert = (await pipeline.get('/v1/alerts?rule=sev0-teams-pd')).body.alerts[0]!;
    expect(alert).toMatchObject({ state: 'firing', team, value: 1, target: 0 });

    // Teams: a message with one Adaptive Card 1.4 showing the KPI, team, value against target, state and the dashboard.
    expectRetriedThroughOutage(receiver.on('/teams'));
    const message = delivered('/teams')[0]!.body;
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments[0]).toMatchObject({ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null });
    const card = message.attachments[0].content;
    expect(card).toMatchObject({ $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4' });
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: 'FIRING:1 sev0-teams-pd (critical)' });
    const [container] = card.body.filter((element: { type: string }) => element.type === 'Container');
    expect(container.items[0]).toMatchObject({ type: 'TextBlock', text: expect.stringMatching(new RegExp(`^Sev0 incidents is 1 for ${team} in \\d{4}-\\d{2}; target 0$`)) });
    expect(factsOf(container)).toMatchObject({ KPI: 'Sev0 incidents (sev0_incidents)', Team: team, Value: '1', Target: '≤ 0', State: 'firing' });
    expect(container.items.find((item: { type: string }) => item.type === 'ActionSet').actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in the KPI dashboard', url: alert.dashboard_url }]);
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'KPI dashboard', url: alert.dashboard_url }]);

    // PagerDuty: a trigger event keyed by the alert's fingerprint.
    expectRetriedThroughOutage(receiver.on('/pagerduty'));
    const trigger = delivered('/pagerduty')[0]!.body;
    expect(trigger).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: alert.fingerprint,
      payload: { source: `kpi-pipeline/${team}`, severity: 'critical', component: 'sev0_incidents', group: team, class: 'sev0-teams-pd', custom_details: { value: 1, target: 0, team } },
      client: 'KPI pipeline',
      client_url: 'http://kpi.example.com',
      links: [{ href: alert.dashboard_url, text: 'KPI dashboard' }],
    });
    expect(trigger.payload.summary).toBe(container.items[0].text);
    expect(Date.parse(trigger.payload.timestamp)).toBe(Date.parse(alert.fired_at!));

    // The incident was a sev2 after all: the alert resolves; Teams shows it resolved, PagerDuty resolves the same alert.
    await pipeline.produce([makeEvent('incident.updated', { incident_id: 'inc-recv', severity: 'sev2' }, { source: 'pagerduty', id: 'inc-recv-downgraded', time: new Date(Date.now() + 1_000).toISOString() })]);
    await eventually(async () => (delivered('/teams').length === 2 && delivered('/pagerduty').length === 2 ? true : undefined), 40_000, 'the resolutions delivered');
    const resolvedCard = delivered('/teams')[1]!.body.attachments[0].content;
    expect(resolvedCard.body[0]).toMatchObject({ text: 'RESOLVED sev0-teams-pd (critical)' });
    expect(factsOf(resolvedCard.body.find((element: { type: string }) => element.type === 'Container'))).toMatchObject({ Value: '0', State: 'resolved' });
    expect(delivered('/pagerduty')[1]!.body).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: alert.fingerprint });

    // A delivery is logged once the receiver has answered: the last row may land a moment after the receiver saw the request.
    const readLog = () =>
      pipeline.runtime.storage.query<{ receiver_type: string; status: string; outcome: string; attempts: number }>(
        "SELECT receiver_type, status, outcome, attempts FROM {db:Identifier}.alert_notifications FINAL WHERE rule = 'sev0-teams-pd' ORDER BY receiver_type, sequence",
      );
    const log = await eventually(async () => {
      const rows = await readLog();
      return rows.length === 4 ? rows : undefined;
    }, 20_000, 'the four deliveries logged');
    expect(log).toEqual([
      { receiver_type: 'pagerduty', status: 'firing', outcome: 'sent', attempts: 3 },
      { receiver_type: 'pagerduty', status: 'resolved', outcome: 'sent', attempts: 1 },
      { receiver_type: 'teams', status: 'firing', outcome: 'sent', attempts: 3 },
      { receiver_type: 'teams', status: 'resolved', outcome: 'sent', attempts: 1 },
    ]);
    const metrics = (await pipeline.api.inject({ method: 'GET', url: '/metrics' })).body;
    for (const type of ['teams', 'pagerduty']) expect(metrics).toMatch(new RegExp(`kpi_alert_notifications_failed_total\\{receiver_type="${type}",outcome="retry"\\} 2\\n`));
  });

  it('give up on a 4xx other than 429 at once, and count it', async () => {
    const team = 'outbound-refused';
    await createRule('sev0-refused', team, [
      { type: 'teams', url: `${receiver.url}/teams-refused` },
      { type: 'pagerduty', routing_key: ROUTING_KEY, url: `${receiver.url}/pagerduty-refused` },
    ]);
    const now = new Date();
    await pipeline.produce([
      makeEvent(
        'incident.opened',
        { incident_id: 'inc-refused', team, tier: 2, severity: 'sev0', category: 'infrastructure', started_at: new Date(now.getTime() - 600_000).toISOString(), detected_at: now.toISOString() },
        { source: 'pagerduty', id: 'inc-refused-opened', time: now.toISOString() },
      ),
    ]);
    const log = await eventually(async () => {
      const rows = await pipeline.runtime.storage.query<{ receiver_type: string; outcome: string; attempts: number; error: string }>(
        "SELECT receiver_type, outcome, attempts, error FROM {db:Identifier}.alert_notifications FINAL WHERE rule = 'sev0-refused' ORDER BY receiver_type",
      );
      return rows.length === 2 ? rows : undefined;
    }, 40_000, 'both notifications given up');
    expect(log).toEqual([
      { receiver_type: 'pagerduty', outcome: 'gave_up', attempts: 1, error: expect.stringContaining('HTTP 400') },
      { receiver_type: 'teams', outcome: 'gave_up', attempts: 1, error: expect.stringContaining('HTTP 400') },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.on('/teams-refused')).toHaveLength(1);
    expect(receiver.on('/pagerduty-refused')).toHaveLength(1);
    const metrics = (await pipeline.api.inject({ method: 'GET', url: '/metrics' })).body;
    for (const type of ['teams', 'pagerduty']) expect(metrics).toMatch(new RegExp(`kpi_alert_notifications_failed_total\\{receiver_type="${type}",outcome="gave_up"\\} 1\\n`));
    // The alert still fires; nothing waits in the outbox for the refused receivers.
    expect((await pipeline.get('/v1/alerts?rule=sev0-refused')).body.alerts).toMatchObject([{ state: 'firing' }]);
    const store = new AlertStore(pipeline.runtime.redis, pipeline.runtime.config.queuePrefix);
    expect((await store.outbox()).filter((notification) => notification.rule === 'sev0-refused')).toEqual([]);
  });
});
