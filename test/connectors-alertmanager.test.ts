import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { kpiReader } from './support/kpi-values.ts';
import { openInBrowser, type OpenBrowser } from './support/browser.ts';
import { startAlertmanager, type LocalServer } from './support/prometheus.ts';
import { connectorsFile, deliver, deliveries } from './support/webhooks.ts';

// A real Alertmanager (Debian's prometheus-alertmanager) whose webhook receiver is our connector,
// authenticated with the connector token; alerts are posted to its API v2 as a model monitor's
// Prometheus would. Its firing alerts await triage on the dashboard; triaging changes alert_precision.
const TOKEN = 'alertmanager-connector-token';
let pipeline: TestPipeline;
let browser: OpenBrowser;
let alertmanager: LocalServer;

beforeAll(async () => {
  pipeline = await startPipeline({ env: { KPI_CONNECTORS_FILE: connectorsFile(`alertmanager: {token: ${TOKEN}, default_team: ml-platform}\n`) } });
  // The API listens for Alertmanager and the browser alike.
  browser = await openInBrowser(pipeline);
  alertmanager = await startAlertmanager(`
route:
  receiver: kpi
  group_by: [alertname, team]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: kpi
    webhook_configs:
      - url: ${browser.origin}/v1/webhooks/alertmanager
        send_resolved: true
        http_config:
          authorization: {type: Bearer, credentials: ${TOKEN}}
`);
});
afterAll(async () => {
  await alertmanager?.stop();
  await browser?.close();
  await pipeline?.stop();
});
const { value } = kpiReader(() => pipeline);
const monthStart = () => new Date().toISOString().slice(0, 8) + '01';
/** The alerts of a team on the triage list, through the typed client. */
const triage = (query: { team: string; triaged?: 'true' | 'false' }) => pipeline.client.read.get('/v1/triage', { query }).then((answer) => answer.alerts);

async function postAlerts(alerts: { labels: Record<string, string>; startsAt: string }[]) {
  const response = await fetch(`${alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts.map((alert) => ({ ...alert, annotations: { summary: `${alert.labels.alertname} on ${alert.labels.model_id ?? 'a model'}` }, endsAt: new Date(Date.now() + 3_600_000).toISOString(), generatorURL: 'http://prometheus.example/graph' }))),
  });
  expect(response.status, await response.text()).toBe(200);
}

describe('alertmanager connector, with a real Alertmanager', { timeout: 180_000 }, () => {
  it('turns firing alerts into alerts awaiting triage, per team', async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, '.000Z');
    await postAlerts([
      { labels: { alertname: 'PredictionDrift', team: 'ranking', model_id: 'ranker', severity: 'warning' }, startsAt },
      { labels: { alertname: 'FeatureNullRate', team: 'ranking', model: 'ranker', severity: 'critical' }, startsAt },
      { labels: { alertname: 'TrainingDataStale', severity: 'info' }, startsAt },
    ]);
    const awaiting = await eventually(async () => {
      const alerts = await triage({ team: 'ranking', triaged: 'false' });
      return alerts.length === 2 ? alerts : undefined;
    }, 60_000, 'two ranking alerts awaiting triage');
    expect(awaiting.map((alert) => alert.name).sort()).toEqual(['FeatureNullRate', 'PredictionDrift']);
    for (const alert of awaiting) {
      expect(alert).toMatchObject({ team: 'ranking', model_id: 'ranker', triaged: false, actionable: null });
      // The id is Alertmanager's fingerprint and the alert's start.
      expect(alert.alert_id).toMatch(/^[0-9a-f]{16}:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      expect(alert.alert_id.endsWith(startsAt)).toBe(true);
    }
    // An alert without a team label belongs to the configured default team.
    await eventually(async () => ((await triage({ team: 'ml-platform' })).length === 1 ? true : undefined), 30_000, 'the default team');
    const stored = await deliveries(pipeline, { connector: 'alertmanager', outcome: 'accepted' });
    expect(stored.length).toBeGreaterThan(0);
    // Without the connector token Alertmanager's deliveries would be refused.
    expect((await deliver(pipeline, 'alertmanager', JSON.stringify({ version: '4', alerts: [] }), { authorization: 'Bearer wrong-token-value' })).status).toBe(401);
  });

  it('triaging on the dashboard (actionable) and through the API (noise) changes alert_precision', async () => {
    expect((await value('alert_precision', 'month', monthStart(), 'ranking')).value).toBeNull();
    const { page, origin } = browser;
    await page.goto(`${origin}/?view=ops&team=ranking#token=${TOKENS.ingest}`);
    const rows = page.locator('table[data-role="triage"] tbody tr');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
    const drift = page.locator('table[data-role="triage"] tbody tr', { hasText: 'PredictionDrift' });
    await drift.locator('button[data-triage="actionable"]').click();
    await expect.poll(() => page.locator('.notice').first().textContent(), { timeout: 15_000 }).toContain('marked actionable');
    const noise = (await triage({ team: 'ranking' })).find((alert) => alert.name === 'FeatureNullRate')!;
    // Through the typed client: a 202 with the event's id (any other answer throws).
    expect(await pipeline.client.ingest.post('/v1/triage/:alert_id', { params: { alert_id: noise.alert_id }, body: { actionable: false } })).toMatchObject({ event: expect.any(String) });
    // alert_precision = actionable / triaged = 1 / 2, in the month of the triage.
    const precision = await eventually(async () => {
      const row = await value('alert_precision', 'month', monthStart(), 'ranking');
      return row.denominator === 2 ? row : undefined;
    }, 60_000, 'alert precision over both triages');
    expect([precision.value, precision.numerator]).toEqual([0.5, 1]);
    // Lists are kept ready, at most a second (and a query) behind: the next reads see both triages.
    await eventually(async () => ((await triage({ team: 'ranking' })).length === 0 ? true : undefined), 10_000, 'no alert awaiting triage');
    const done = await eventually(async () => {
      const triaged = await triage({ team: 'ranking', triaged: 'true' });
      return triaged.length === 2 ? triaged : undefined;
    }, 10_000, 'both alerts triaged');
    expect(done.map((alert) => [alert.name, alert.actionable]).sort()).toEqual([['FeatureNullRate', false], ['PredictionDrift', true]]);
    // A read token may list but not triage; an unknown alert is a 404.
    expect((await pipeline.post(`/v1/triage/${encodeURIComponent(noise.alert_id)}`, { actionable: true }, TOKENS.read)).status).toBe(403);
    expect((await pipeline.post('/v1/triage/no-such-alert', { actionable: true })).status).toBe(404);
    expect((await pipeline.post(`/v1/triage/${encodeURIComponent(noise.alert_id)}`, { actionable: 'yes' })).status).toBe(400);
  });
});
