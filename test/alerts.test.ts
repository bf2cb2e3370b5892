import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '@kpi/events';
import { periodLabel, ZERO_TIME } from '@kpi/alerts';
import { Answered, eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { startReceiver, type Received, type TestReceiver } from './alerts-receiver.ts';

// Alert rules on sev0_incidents (target <= 0 per period) for teams of their own, evaluated every
// 250 ms and after each recompute, notifying a real HTTP receiver started here.
let pipeline: TestPipeline;
let receiver: TestReceiver;
const rulesFile = join(mkdtempSync(join(tmpdir(), 'kpi-alert-rules-')), 'rules.yaml');
writeFileSync(rulesFile, '- { name: file-rule, kpi: time_to_mitigate_hours, tier: 1, for: 30m, severity: critical }\n');

beforeAll(async () => {
  receiver = await startReceiver();
  pipeline = await startPipeline({
    env: { ALERT_EVALUATION_INTERVAL_MS: '250', ALERT_DEFAULT_RULES: '0', ALERT_NOTIFY_BACKOFF_MS: '200', ALERT_RULES_FILE: rulesFile, ALERT_EXTERNAL_URL: 'http://kpi.example.com' },
  });
});
afterAll(async () => {
  await pipeline?.stop();
  await receiver?.close();
});

async function call<M extends 'POST' | 'PUT' | 'DELETE' | 'GET', const Url extends string>(method: M, url: Url, payload?: unknown, token: string = TOKENS.admin) {
  return Answered.of<M, Url>(await pipeline.api.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${token}` } }));
}

const sev0 = (team: string, id: string) => {
  const now = new Date();
  return makeEvent(
    'incident.opened',
    { incident_id: id, team, tier: 1, severity: 'sev0', category: 'model', started_at: new Date(now.getTime() - 600_000).toISOString(), detected_at: new Date(now.getTime() - 300_000).toISOString() },
    { source: 'pagerduty', id: `${id}-opened`, time: now.toISOString() },
  );
};
const downgrade = (id: string) => makeEvent('incident.updated', { incident_id: id, severity: 'sev2' }, { source: 'pagerduty', id: `${id}-downgraded`, time: new Date(Date.now() + 1_000).toISOString() });

const rule = (name: string, team: string, extra: Record<string, unknown> = {}) => ({
  name,
  kpi: 'sev0_incidents',
  scope: 'team',
  team,
  granularity: 'month',
  severity: 'critical',
  group_wait: '0s',
  group_interval: '1s',
  repeat_interval: '1h',
  receivers: [{ type: 'webhook', url: `${receiver.url}/${name}` }],
  annotations: { summary: '{{team}} had {{value}} sev0 incident(s) in {{period}} (target {{target}})', runbook: 'https://runbooks.example.com/{{kpi}}' },
  ...extra,
});

async function alertOf(name: string, state?: string) {
  const response = await pipeline.get(`/v1/alerts?rule=${name}&state=all`);
  expect(response.status).toBe(200);
  const [alert] = response.body.alerts;
  return state === undefined || alert?.state === state ? alert : undefined;
}

describe('alerting through Kafka -> ingest -> ClickHouse -> worker -> receiver', () => {
  it('a breached target fires after `for` has elapsed and not before; restoring the KPI resolves it', async () => {
    const team = 'alerts-fire';
    const receivers = [{ type: 'webhook', url: `${receiver.url}/sev0-fire` }, { type: 'slack', url: `${receiver.url}/sev0-fire-slack`, channel: '#ml-oncall' }];
    expect((await call('POST', '/v1/alert-rules', rule('sev0-fire', team, { for: '4s', receivers }))).status).toBe(201);
    await pipeline.produce([sev0(team, 'inc-fire')]);

    const pending = await eventually(() => alertOf('sev0-fire', 'pending'), 30_000, 'the alert pending');
    const activeAt = Date.parse(pending.active_at!);
    expect(pending).toMatchObject({ team, severity: 'critical', value: 1, target: 0, status: 'breached', fired_at: null, silenced: false });
    expect(receiver.on('/sev0-fire')).toEqual([]);

    const [firing] = await eventually(async () => (receiver.on('/sev0-fire').length > 0 ? receiver.on('/sev0-fire') : undefined), 20_000, 'the firing notification');
    // Not before `for` (4 s since the alert went pending), and promptly after it.
    expect(firing!.at - activeAt).toBeGreaterThanOrEqual(4_000);
    expect(firing!.at - activeAt).toBeLessThan(4_000 + 3_000);
    expect(firing!.key).toMatch(/^[0-9a-f]{32}$/);
    expect(firing!.headers['content-type']).toBe('application/json');
    const month = periodLabel('month', new Date(activeAt));
    expect(firing!.body).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'webhook-1',
      groupLabels: { alertname: 'sev0-fire' },
      commonLabels: { alertname: 'sev0-fire', kpi: 'sev0_incidents', team, tier: 'all', granularity: 'month', severity: 'critical' },
      externalURL: 'http://kpi.example.com',
      truncatedAlerts: 0,
    });
    expect(firing!.body.groupKey).toBe('{}/{alertrule="sev0-fire",receiver="webhook-1"}:{alertname="sev0-fire"}');
    const [alert] = firing!.body.alerts;
    expect(alert).toMatchObject({ status: 'firing', endsAt: ZERO_TIME, fingerprint: pending.fingerprint });
    expect(alert.annotations).toMatchObject({ summary: `${team} had 1 sev0 incident(s) in ${month} (target 0)`, runbook: 'https://runbooks.example.com/sev0_incidents' });
    expect(alert.generatorURL).toMatch(/^http:\/\/kpi\.example\.com\/\?view=kpi&kpi=sev0_incidents&granularity=month&team=alerts-fire&tier=all&period=/);
    expect(Date.parse(alert.startsAt) - activeAt).toBeGreaterThanOrEqual(4_000);
    // The Slack-style receiver gets an incoming-webhook message for the same notification.
    const [slack] = await eventually(async () => (receiver.on('/sev0-fire-slack').length > 0 ? receiver.on('/sev0-fire-slack') : undefined), 10_000, 'the Slack message');
    expect(slack!.body).toMatchObject({ channel: '#ml-oncall', text: `[FIRING:1] sev0-fire (critical): ${team} had 1 sev0 incident(s) in ${month} (target 0)` });
    expect(slack!.body.blocks.map((block: { type: string }) => block.type)).toEqual(['header', 'section', 'context']);
    expect(slack!.body.blocks[1].text.text).toContain(`*${team}* ${team} had 1 sev0 incident(s)`);
    expect(slack!.key).not.toBe(firing!.key);
    expect((await pipeline.get(`/v1/alerts?team=${team}&severity=critical`)).body.alerts).toMatchObject([{ rule: 'sev0-fire', state: 'firing' }]);
    expect((await pipeline.get(`/v1/alerts?team=${team}&severity=info`)).body.alerts).toEqual([]);

    // A correction downgrades the incident: the KPI is back within target, the alert resolves.
    await pipeline.produce([downgrade('inc-fire')]);
    const resolved = await eventually(async () => receiver.on('/sev0-fire').find((request) => request.body.status === 'resolved'), 30_000, 'the resolved notification');
    expect(resolved.body.alerts).toMatchObject([{ status: 'resolved', fingerprint: pending.fingerprint, startsAt: alert.startsAt }]);
    expect(resolved.body.alerts[0].endsAt).not.toBe(ZERO_TIME);
    expect(resolved.key).not.toBe(firing!.key);
    expect(await alertOf('sev0-fire')).toMatchObject({ state: 'resolved', value: 0, status: 'met' });

    const history = (await pipeline.get('/v1/alerts/history?rule=sev0-fire')).body.history;
    expect(history.map((entry: { from: string; to: string }) => `${entry.from}->${entry.to}`)).toEqual(['firing->resolved', 'pending->firing', 'inactive->pending']);
    expect(history[1]).toMatchObject({ team, kpi: 'sev0_incidents', severity: 'critical', value: 1, target: 0, labels: { alertname: 'sev0-fire', team } });
    expect((await pipeline.get(`/v1/alerts/history?rule=sev0-fire&state=firing`)).body.history).toHaveLength(1);
    // Exactly one firing and one resolved notification, nothing repeated.
    await sleep(1_500);
    expect(receiver.on('/sev0-fire').map((request: Received) => request.body.status)).toEqual(['firing', 'resolved']);
    expect(receiver.on('/sev0-fire-slack').map((request: Received) => request.body.text.slice(0, 10))).toEqual(['[FIRING:1]', '[RESOLVED]']);
  });

  it('a silence matching the alert suppresses its notifications; when it expires, they resume', async () => {
    const team = 'alerts-silenced';
    const created = await call('POST', '/v1/silences', { matchers: [{ name: 'alertname', value: 'sev0-silenced' }, { name: 'team', value: 'alerts-sil.*', op: '=~' }], duration: '6s', comment: 'maintenance' });
    expect(created.status).toBe(201);
    const silence = created.body;
    expect(silence).toMatchObject({ state: 'active', created_by: 'api', comment: 'maintenance' });
    const endsAt = Date.parse(silence.ends_at);
    expect((await call('POST', '/v1/alert-rules', rule('sev0-silenced', team, { for: '0s' }))).status).toBe(201);
    await pipeline.produce([sev0(team, 'inc-silenced')]);

    const firing = await eventually(() => alertOf('sev0-silenced', 'firing'), 30_000, 'the silenced alert firing');
    expect(firing).toMatchObject({ silenced: true, silenced_by: [silence.id] });
    expect(Date.now()).toBeLessThan(endsAt);
    const notified = await eventually(async () => receiver.on('/sev0-silenced')[0], 20_000, 'the notification after the silence');
    // Nothing while the silence was in force; the notification as soon as it expired.
    expect(notified.at).toBeGreaterThanOrEqual(endsAt);
    expect(notified.at - endsAt).toBeLessThan(3_000);
    expect(notified.body).toMatchObject({ status: 'firing', alerts: [{ labels: { team }, status: 'firing' }] });
    expect((await alertOf('sev0-silenced'))?.silenced).toBe(false);
    expect((await pipeline.get('/v1/silences?state=expired')).body.silences.map((s) => s.id)).toContain(silence.id);
    expect((await pipeline.get('/v1/silences')).body.silences.map((s) => s.id)).not.toContain(silence.id);

    // A silence can be expired early.
    const another = (await call('POST', '/v1/silences', { matchers: [{ name: 'team', value: team }], ends_at: new Date(Date.now() + 3_600_000).toISOString() })).body;
    expect((await alertOf('sev0-silenced'))?.silenced).toBe(true);
    expect((await call('DELETE', `/v1/silences/${another.id}`)).status).toBe(204);
    expect((await pipeline.get(`/v1/silences/${another.id}`)).body.state).toBe('expired');
    expect((await alertOf('sev0-silenced'))?.silenced).toBe(false);
    expect((await call('DELETE', '/v1/silences/no-such-silence')).status).toBe(404);
  });

  it('takes a DELETE whose empty body is labelled JSON (as several HTTP clients send it); a POST without its body is a 400 naming it', async () => {
    const emptyJson = (method: 'DELETE' | 'POST', url: string) =>
      pipeline.api.inject({ method, url, headers: { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json', 'content-length': '0' } });
    expect((await call('POST', '/v1/alert-rules', rule('empty-body-delete', 'alerts-empty-body'))).status).toBe(201);
    expect((await emptyJson('DELETE', '/v1/alert-rules/empty-body-delete')).statusCode).toBe(204);
    expect((await pipeline.get('/v1/alert-rules/empty-body-delete')).status).toBe(404);
    const silence = (await call('POST', '/v1/silences', { matchers: [{ name: 'team', value: 'alerts-empty-body' }], duration: '1h' })).body;
    expect((await emptyJson('DELETE', `/v1/silences/${silence.id}`)).statusCode).toBe(204);
    expect((await pipeline.get(`/v1/silences/${silence.id}`)).body.state).toBe('expired');
    const withoutBody = await emptyJson('POST', '/v1/silences');
    expect(withoutBody.statusCode).toBe(400);
    expect(withoutBody.json().message).toMatch(/^body: /);
  });

  it('refuses invalid rules and silences with a 400 naming the problem', async () => {
    const refused = async (payload: unknown, expected: RegExp, url = '/v1/alert-rules', method: 'POST' | 'PUT' = 'POST') => {
      const response = await call(method, url, payload);
      expect(response.bodyAt(400).message).toMatch(expected);
    };
    const base = rule('invalid', 'alerts-invalid');
    await refused({ ...base, kpi: 'sev9_incidents' }, /body\.kpi: unknown KPI "sev9_incidents"/);
    await refused({ ...base, op: '>', threshold: 'high' }, /body\.threshold: expected a finite number/);
    await refused({ ...base, kpi: 'drift_feature_coverage', op: '<', threshold: 80 }, /body\.threshold: drift_feature_coverage is a ratio in \[0, 1\]; 80 is outside it/);
    await refused({ ...base, for: '15 minutes' }, /body\.for: expected a duration such as 30s, 15m, 1h30m or 2d, or a number of evaluations; got "15 minutes"/);
    await refused({ ...base, repeat_interval: 'hourly' }, /body\.repeat_interval: expected a duration/);
    await refused({ ...base, annotations: { summary: '{{vlaue}}' } }, /body\.annotations\.summary: unknown template variable \{\{vlaue\}\}/);
    await refused({ ...base, receivers: [{ type: 'email', to: 'x@example.com' }] }, /body\.receivers\.0\.type: expected type webhook, slack, alertmanager, teams, pagerduty/);
    await refused({ ...base, name: 'other' }, /body\.name: must match the path/, '/v1/alert-rules/invalid', 'PUT');
    await refused({ matchers: [{ name: 'team', value: '(', op: '=~' }], duration: '1h' }, /body\.matchers\.0\.value: not a valid regular expression/, '/v1/silences');
    await refused({ matchers: [{ name: 'team', value: 'x' }], ends_at: '2020-01-01T00:00:00Z' }, /body\.ends_at: is in the past/, '/v1/silences');
    await refused({ matchers: [{ name: 'team', value: '.*', op: '=~' }], duration: '1h' }, /body\.matchers: at least one matcher must not match the empty string/, '/v1/silences');
    expect((await call('POST', '/v1/alert-rules', base, TOKENS.read)).status).toBe(403);
    expect((await call('POST', '/v1/silences', { matchers: [{ name: 'team', value: 'x' }], duration: '1h' }, TOKENS.read)).status).toBe(403);
    expect((await pipeline.get('/v1/alert-rules/invalid')).status).toBe(404);
  });

  it('lists, replaces and deletes rules from the file and the API', async () => {
    const listed = (await pipeline.get('/v1/alert-rules')).body.rules as { origin: string; rule: { name: string; receivers: { url: string }[] } }[];
    expect(listed.find((entry) => entry.rule.name === 'file-rule')).toMatchObject({ origin: 'file', rule: { kpi: 'time_to_mitigate_hours', tier: '1', for: '30m' } });
    expect(listed.find((entry) => entry.rule.name === 'sev0-fire')).toMatchObject({ origin: 'api' });

    const created = await call('POST', '/v1/alert-rules', rule('to-delete', 'alerts-crud', { op: '>=', threshold: 3, for: 2 }));
    expect(created.status).toBe(201);
    expect(created.body.rule).toMatchObject({ condition: 'threshold', op: '>=', threshold: 3, for: 2 });
    expect((await call('POST', '/v1/alert-rules', rule('to-delete', 'alerts-crud'))).status).toBe(409);
    const replaced = await call('PUT', '/v1/alert-rules/to-delete', rule('to-delete', 'alerts-crud', { severity: 'info' }));
    expect(replaced.status).toBe(200);
    expect((await pipeline.get('/v1/alert-rules/to-delete')).body).toMatchObject({ origin: 'api', rule: { severity: 'info', condition: 'target_breached' } });
    expect((await call('DELETE', '/v1/alert-rules/to-delete')).status).toBe(204);
    expect((await pipeline.get('/v1/alert-rules/to-delete')).status).toBe(404);

    // A file rule cannot be deleted through the API, only overridden (here: disabled) by name.
    expect((await call('DELETE', '/v1/alert-rules/file-rule')).status).toBe(409);
    const disabled = await call('PUT', '/v1/alert-rules/file-rule', { name: 'file-rule', kpi: 'time_to_mitigate_hours', tier: 1, enabled: false });
    expect(disabled.status).toBe(201);
    expect((await pipeline.get('/v1/alert-rules/file-rule')).body).toMatchObject({ origin: 'api', rule: { enabled: false } });
    const removed = await call('DELETE', '/v1/alert-rules/file-rule');
    expect(removed.status).toBe(204);
    expect(removed.headers['x-alert-rule-now-from']).toBe('file');
    expect((await pipeline.get('/v1/alert-rules/file-rule')).body.origin).toBe('file');
    expect((await pipeline.get('/openapi.json')).status).toBe(200);
  });

  it('exports alert metrics', async () => {
    const text = (await pipeline.api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/kpi_alert_notifications_sent_total\{receiver_type="webhook",status="firing"\} [1-9]/);
    expect(text).toMatch(/kpi_alerts\{state="firing",severity="critical"\} [1-9]/);
    expect(text).toMatch(/kpi_alert_transitions_total\{to="pending"\} [1-9]/);
  });
});
