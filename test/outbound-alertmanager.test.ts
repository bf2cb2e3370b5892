import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@kpi/infra';
import { makeEvent } from '@kpi/events';
import { AlertStore } from '@kpi/alerts';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { startAlertmanager, type LocalServer } from './support/prometheus.ts';
import { startReceiver, type TestReceiver } from './alerts-receiver.ts';

// A KPI alert rule with an `alertmanager` receiver, against a real Alertmanager (Debian's
// prometheus-alertmanager) that routes everything to a webhook started here. Rules are evaluated
// every 2 s, so a pushed firing alert holds for 6 s unless pushed again.
const INTERVAL_MS = 2_000;
let pipeline: TestPipeline;
let alertmanager: LocalServer | undefined;
let hook: TestReceiver;
let alertmanagerPort: number;

beforeAll(async () => {
  hook = await startReceiver();
  alertmanagerPort = await freePort();
  pipeline = await startPipeline({
    env: {
      ALERT_EVALUATION_INTERVAL_MS: String(INTERVAL_MS),
      ALERT_DEFAULT_RULES: '0',
      ALERT_NOTIFY_BACKOFF_MS: '200',
      ALERT_NOTIFY_ATTEMPTS: '20',
      ALERT_EXTERNAL_URL: 'http://kpi.example.com',
    },
  });
});
afterAll(async () => {
  await pipeline?.stop();
  await alertmanager?.stop();
  await hook?.close();
});

const ALERTMANAGER_CONFIG = (hookUrl: string) => `
route:
  receiver: kpi-hook
  group_by: [alertname, team]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: kpi-hook
    webhook_configs:
      - url: ${hookUrl}
        send_resolved: true
`;

async function alertmanagerApi<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${alertmanager!.url}/api/v2${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`Alertmanager ${method} ${path}: HTTP ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
/** An alert as Alertmanager's API v2 lists it (GET /api/v2/alerts). */
interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}
const alertsInAlertmanager = (rule: string, query = '') => alertmanagerApi<AlertmanagerAlert[]>('GET', `/alerts?filter=${encodeURIComponent(`alertname="${rule}"`)}${query}`);

async function ourAlert(rule: string, state: string) {
  const [alert] = (await pipeline.get(`/v1/alerts?rule=${rule}&state=all`)).body.alerts;
  return alert?.state === state ? alert : undefined;
}

describe('alertmanager receiver against a real Alertmanager', () => {
  it('a firing KPI alert reaches Alertmanager (even one that was down), is silenced there, and resolves there when the KPI recovers', async () => {
    const team = 'outbound-am';
    const rule = 'kpi-sev0-alertmanager';
    const created = await pipeline.api.inject({
      method: 'POST',
      url: '/v1/alert-rules',
      headers: { authorization: `Bearer ${TOKENS.admin}` },
      payload: {
        name: rule, kpi: 'sev0_incidents', scope: 'team', team, for: '0s', severity: 'critical', description: 'Sev0 incidents are a breach of the reliability blueprint',
        receivers: [{ type: 'alertmanager', url: `http://127.0.0.1:${alertmanagerPort}` }],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const now = new Date();
    await pipeline.produce([
      makeEvent(
        'incident.opened',
        { incident_id: 'inc-am', team, tier: 1, severity: 'sev0', category: 'model', started_at: new Date(now.getTime() - 600_000).toISOString(), detected_at: now.toISOString() },
        { source: 'pagerduty', id: 'inc-am-opened', time: now.toISOString() },
      ),
    ]);
    const firing = await eventually(() => ourAlert(rule, 'firing'), 30_000, 'the KPI alert firing');

    // Alertmanager is not running yet: pushes fail and are retried until a later evaluation's
    // push supersedes them, so the outbox does not grow with the length of the outage.
    const metrics = async () => (await pipeline.api.inject({ method: 'GET', url: '/metrics' })).body;
    await eventually(async () => (/kpi_alert_notifications_failed_total\{receiver_type="alertmanager",outcome="retry"\} [1-9]/.test(await metrics()) ? true : undefined), 20_000, 'a failed push');
    const store = new AlertStore(pipeline.runtime.redis, pipeline.runtime.config.queuePrefix);
    const waiting = async () => (await store.outbox()).filter((notification) => notification.rule === rule).map((notification) => notification.seq);
    const sizes: number[] = [];
    const first = Math.min(...(await waiting()));
    await eventually(async () => {
      const seqs = await waiting();
      sizes.push(seqs.length);
      return Math.max(...seqs) >= first + 4 ? true : undefined;
    }, 30_000, 'four more evaluations');
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    await eventually(async () => (/kpi_alert_notifications_failed_total\{receiver_type="alertmanager",outcome="superseded"\} [1-9]/.test(await metrics()) ? true : undefined), 20_000, 'a superseded push');

    alertmanager = await startAlertmanager(ALERTMANAGER_CONFIG(`${hook.url}/am-hook`), alertmanagerPort);
    const received = await eventually(async () => (await alertsInAlertmanager(rule))[0], 30_000, 'the alert in Alertmanager');
    expect(received.labels).toEqual({ alertname: rule, kpi: 'sev0_incidents', team, tier: 'all', granularity: 'month', severity: 'critical' });
    expect(Object.keys(received.annotations).sort()).toEqual(['dashboard_url', 'description', 'summary']);
    expect(received.annotations).toMatchObject({ description: 'Sev0 incidents are a breach of the reliability blueprint', dashboard_url: firing.dashboard_url });
    expect(received.annotations.summary).toMatch(new RegExp(`^Sev0 incidents is 1 for ${team} in \\d{4}-\\d{2}; target 0$`));
    expect(received.generatorURL).toBe(firing.dashboard_url);
    expect(firing.dashboard_url).toMatch(/^http:\/\/kpi\.example\.com\/\?view=kpi&kpi=sev0_incidents/);
    expect(Date.parse(received.startsAt)).toBe(Date.parse(firing.fired_at!));
    expect(received.status).toEqual({ state: 'active', silencedBy: [], inhibitedBy: [] });
    // endsAt is a lease of 3 evaluation intervals from the last push.
    const lease = Date.parse(received.endsAt) - Date.now();
    expect(lease).toBeGreaterThan(0);
    expect(lease).toBeLessThanOrEqual(3 * INTERVAL_MS + 500);
    // Alertmanager routes it like any other alert: its webhook hears about it.
    const notified = await eventually(async () => hook.on('/am-hook').find((request) => request.body.status === 'firing'), 20_000, 'Alertmanager\'s notification');
    expect(notified.body.alerts.map((alert: { labels: Record<string, string> }) => alert.labels.alertname)).toEqual([rule]);

    // A silence created in Alertmanager silences it there, and it stays (pushed again every evaluation) past its lease.
    const { silenceID } = await alertmanagerApi<{ silenceID: string }>('POST', '/silences', {
      matchers: [{ name: 'team', value: team, isRegex: false, isEqual: true }, { name: 'kpi', value: 'sev0_.*', isRegex: true, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'kpi-pipeline test',
      comment: 'known incident',
    });
    const silenced = await eventually(async () => {
      const [alert] = await alertsInAlertmanager(rule);
      return alert?.status.state === 'suppressed' ? alert : undefined;
    }, 10_000, 'the alert silenced');
    expect(silenced.status).toEqual({ state: 'suppressed', silencedBy: [silenceID], inhibitedBy: [] });
    expect(await alertsInAlertmanager(rule, '&silenced=false')).toEqual([]);
    // Pushed again while silenced: its lease moves on, and it stays silenced.
    await eventually(async () => {
      const [alert] = await alertsInAlertmanager(rule);
      return alert?.status.state === 'suppressed' && Date.parse(alert.endsAt) > Date.parse(silenced.endsAt) ? alert : undefined;
    }, 20_000, 'the silenced alert pushed again');
    await alertmanagerApi('DELETE', `/silence/${silenceID}`);
    await eventually(async () => ((await alertsInAlertmanager(rule))[0]?.status.state === 'active' ? true : undefined), 10_000, 'the silence over');

    // The KPI recovers (the incident was a sev2 after all): the alert resolves here and there, with
    // Alertmanager told the resolve time (not left to let its lease lapse).
    await pipeline.produce([makeEvent('incident.updated', { incident_id: 'inc-am', severity: 'sev2' }, { source: 'pagerduty', id: 'inc-am-downgraded', time: new Date(Date.now() + 1_000).toISOString() })]);
    const resolved = await eventually(() => ourAlert(rule, 'resolved'), 30_000, 'the KPI alert resolved');
    await eventually(async () => ((await alertsInAlertmanager(rule)).length === 0 ? true : undefined), 10_000, 'the alert resolved in Alertmanager');
    const resolution = await eventually(async () => hook.on('/am-hook').find((request) => request.body.status === 'resolved'), 20_000, 'Alertmanager\'s resolved notification');
    expect(resolution.body.alerts).toHaveLength(1);
    expect(Date.parse(resolution.body.alerts[0].endsAt)).toBe(Date.parse(resolved.resolved_at!));
    expect(Date.parse(resolution.body.alerts[0].startsAt)).toBe(Date.parse(firing.fired_at!));

    // Every push that got through is in the delivery log (at least: the first, one while silenced, the resolution), none given up.
    // A push is logged after it leaves the outbox: the resolution's row may land a moment after Alertmanager has it.
    const log = await eventually(async () => {
      const rows = await pipeline.runtime.storage.query<{ outcome: string; n: number }>(
        'SELECT outcome, count() AS n FROM {db:Identifier}.alert_notifications FINAL WHERE rule = {rule:String} GROUP BY outcome',
        { rule },
      );
      return rows.reduce((sum, row) => sum + Number(row.n), 0) >= 3 ? rows : undefined;
    }, 10_000, 'three pushes logged');
    expect(log.map((row) => row.outcome)).toEqual(['sent']);
    expect(Number(log[0]!.n)).toBeGreaterThanOrEqual(3);
  });
});
