import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ScorecardKpi } from '@kpi/api-contract';
import { makeEvent, type CloudEvent } from '@kpi/events';
import { CATALOG } from '@kpi/kpi';
import { openInBrowser, type OpenBrowser } from './support/browser.ts';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { buildDashboard, formatValue, type Page } from '../dashboards/web/test-support.ts';

// The built-in dashboard (dashboards/web) in Debian's headless chromium, served by the API at `/`,
// reading KPIs that went through the real path (Kafka -> ingest -> ClickHouse -> worker -> API).
// Hand-built events of two teams in the current quarter; what the page shows is compared with what
// the API returns, formatted the way the page formats it (the page does no KPI arithmetic).

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const KPI_COUNT = CATALOG.length;
const STATUSES = ['met', 'breached', 'no_target', 'no_data'];

// Every event sits in the current month (so in the current quarter), a few minutes before now.
const now = Date.now();
const today = new Date(now);
const monthStart = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1);
const base = Math.max(monthStart, now - 30 * 60_000);
const at = (seconds: number) => new Date(Math.min(now, base + seconds * 1000)).toISOString();
const hoursBefore = (iso: string, hours: number) => new Date(Date.parse(iso) - hours * 3_600_000).toISOString();

let n = 0;
const release = (team: string, model: string, readiness: boolean, time: string) =>
  makeEvent(
    'release.deployed',
    {
      release_id: `${team}-rel-${++n}`,
      model_id: model,
      model_version: `1.${n}`,
      team,
      tier: 1,
      environment: 'production',
      readiness_first_pass: readiness,
      reproducible: true,
      docs: { model_card: true, runbook: readiness, readout: true },
      monitoring: { drift_enabled: true, drift_alerting: readiness, features: [{ name: 'f1', critical: true, drift_monitored: readiness }, { name: 'f2', critical: true, drift_monitored: true }] },
    },
    { source: 'dashboard-test/deployer', id: `${team}-rel-${n}`, time },
  );
const incident = (id: string, team: string, severity: 'sev0' | 'sev2', category: 'model' | 'data_quality', ttdHours: number, time: string) =>
  makeEvent(
    'incident.opened',
    { incident_id: id, team, tier: 1, severity, category, model_id: `${team}-model`, started_at: hoursBefore(time, ttdHours + 1), detected_at: hoursBefore(time, 1) },
    { source: 'dashboard-test/pagerduty', id: `${id}-opened`, time },
  );
const survey = (team: string, score: number, time: string) => makeEvent('survey.response', { team, score }, { source: 'dashboard-test/survey', id: `${team}-survey-${++n}`, time });

const events: CloudEvent[] = [
  // alpha: 2 releases (1 first-pass), a sev0 model incident (TTD 2 h, mitigated), surveys 5 and 4.
  release('alpha', 'alpha-model', true, at(10)),
  release('alpha', 'alpha-model', false, at(20)),
  incident('inc-alpha-1', 'alpha', 'sev0', 'model', 2, at(30)),
  makeEvent('incident.mitigated', { incident_id: 'inc-alpha-1' }, { source: 'dashboard-test/pagerduty', id: 'inc-alpha-1-mitigated', time: at(40) }),
  survey('alpha', 5, at(50)),
  survey('alpha', 4, at(60)),
  // beta: 1 release (first-pass), a sev2 data-quality incident still open (TTD 5 h), survey 3.
  release('beta', 'beta-model', true, at(70)),
  incident('inc-beta-1', 'beta', 'sev2', 'data_quality', 5, at(80)),
  survey('beta', 3, at(90)),
];

// KPIs whose displayed value is compared with the API's, per team.
const COMPARED = ['releases_delivered', 'readiness_first_pass_rate', 'stakeholder_satisfaction', 'sev0_incidents', 'time_to_detect_hours', 'documentation_completeness'];

let pipeline: TestPipeline;
let origin: string;
let browser: OpenBrowser;
let page: Page;

async function scorecard(team: string): Promise<ScorecardKpi[]> {
  return (await pipeline.client.read.get('/v1/scorecard', { query: { team } })).kpis;
}

const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}dashboard-${name}.png`, fullPage: true });
const rows = () => page.locator('a[data-kpi]');
const shownValue = (kpi: string) => page.locator(`a[data-kpi="${kpi}"] [data-role="value"]`).textContent();
const shownStatus = (kpi: string) => page.locator(`a[data-kpi="${kpi}"] [data-status]`).getAttribute('data-status');

/** Every KPI row shows the API's value (formatted) and status for `team`. */
async function expectScorecardOf(team: string, ids?: string[]) {
  const api = await scorecard(team);
  expect(api).toHaveLength(KPI_COUNT);
  for (const kpi of api.filter((k) => !ids || ids.includes(k.id))) {
    await expect.poll(() => shownValue(kpi.id), { timeout: 15_000, message: `${team} ${kpi.id} value` }).toBe(formatValue(kpi.value, kpi.unit));
    expect(await shownStatus(kpi.id), `${team} ${kpi.id} status`).toBe(kpi.status);
  }
  return api;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // The API registers its static route for dashboards/web/dist when it is built: build first.
  await buildDashboard();
  pipeline = await startPipeline();
  await pipeline.produce(events);
  await eventually(
    async () => {
      const kpis = new Map((await scorecard('all')).map((k) => [k.id, k.value]));
      return kpis.get('releases_delivered') === 3 && kpis.get('stakeholder_satisfaction') === 4 && kpis.get('sev0_incidents') === 1 && kpis.get('time_to_detect_hours') !== null ? true : undefined;
    },
    90_000,
    'the scorecard to reflect the events',
  );
  await pipeline.settle();
  browser = await openInBrowser(pipeline);
  ({ origin, page } = browser);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await pipeline?.stop();
});

describe('built-in dashboard in a browser', () => {
  it('is served by the API at /', async () => {
    const response = await fetch(`${origin}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html, 'GET / must serve dashboards/web/dist/index.html').toContain('data-app="kpi-dashboard"');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, 'the built bundle is referenced from /assets/').toBeDefined();
    expect((await fetch(`${origin}${script}`)).status).toBe(200);
  });

  it('signs in with #token, shows every KPI of the organisation scorecard, each with the API status and value', async () => {
    await page.goto(`${origin}/#token=${TOKENS.read}`);
    await rows().first().waitFor({ timeout: 30_000 });
    await expect.poll(() => rows().count()).toBe(KPI_COUNT);
    // The token left the address bar.
    expect(page.url()).not.toContain('token');
    const statuses = await page.locator('a[data-kpi] [data-status]').evaluateAll((elements) => elements.map((e) => e.getAttribute('data-status')));
    expect(statuses).toHaveLength(KPI_COUNT);
    for (const status of statuses) expect(STATUSES).toContain(status);
    // Status is text too, not only colour.
    const texts = await page.locator('a[data-kpi] [data-status]').allTextContents();
    for (const text of texts) expect(text).toMatch(/met|breached|no target|no data/);
    const api = await expectScorecardOf('all');
    expect(api.find((k) => k.id === 'releases_delivered')!.value).toBe(3);
    expect(await page.locator('#view-title').textContent()).toContain('Organisation');
    await shot('scorecard-organisation');
  }, 120_000);

  it('opens a KPI on click: its chart, values table, definition and breakdown; Escape goes back', async () => {
    await page.click('a[data-kpi="readiness_first_pass_rate"]');
    await page.locator('.chart canvas').first().waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).searchParams.get('view')).toBe('kpi');
    expect(new URL(page.url()).searchParams.get('kpi')).toBe('readiness_first_pass_rate');
    expect(await page.locator('#view-title').textContent()).toContain('Readiness');
    // The values table holds the API's values for the same series (month granularity, all teams).
    const series = await pipeline.get('/v1/kpis/readiness_first_pass_rate/values?granularity=month&team=all&tier=all');
    const latest = series.body.values.at(-1)!;
    await expect.poll(() => page.locator(`tr[data-period="${latest.period_start.slice(0, 10)}"] [data-role="value"]`).textContent()).toBe(formatValue(latest.value, 'ratio'));
    // The breakdown of the latest period lists the 3 releases behind it.
    await expect.poll(() => page.locator('#breakdown table.entities tbody tr').count(), { timeout: 15_000 }).toBe(3);
    // Tier picker: readiness is tiered.
    expect(await page.locator('#tier').count()).toBe(1);
    await shot('kpi-detail');
    await page.keyboard.press('Escape');
    await expect.poll(() => rows().count(), { timeout: 15_000 }).toBe(KPI_COUNT);
    expect(new URL(page.url()).searchParams.get('view')).toBe('scorecard');
  }, 120_000);

  it('opens a KPI from the keyboard (Enter) and a non-tiered KPI has no tier picker', async () => {
    await page.focus('a[data-kpi="stakeholder_satisfaction"]');
    await page.keyboard.press('Enter');
    await page.locator('.chart canvas').first().waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).searchParams.get('kpi')).toBe('stakeholder_satisfaction');
    expect(await page.locator('#tier').count()).toBe(0);
    await page.goBack();
    await expect.poll(() => rows().count(), { timeout: 15_000 }).toBe(KPI_COUNT);
  }, 120_000);

  it('switching team shows what GET /v1/scorecard?team=<team> returns for that team', async () => {
    await page.locator('#team option[value="alpha"]').waitFor({ state: 'attached', timeout: 15_000 });
    expect(await page.locator('#team option').allTextContents()).toEqual(expect.arrayContaining(['alpha', 'beta']));

    await page.selectOption('#team', 'alpha');
    await expect.poll(() => page.locator('#view-title').textContent(), { timeout: 15_000 }).toContain('alpha');
    expect(new URL(page.url()).searchParams.get('team')).toBe('alpha');
    const alpha = await expectScorecardOf('alpha', COMPARED);
    expect(alpha.find((k) => k.id === 'releases_delivered')!.value).toBe(2);
    expect(await shownValue('readiness_first_pass_rate')).toBe(formatValue(0.5, 'ratio'));
    await shot('scorecard-alpha');

    await page.selectOption('#team', 'beta');
    await expect.poll(() => page.locator('#view-title').textContent(), { timeout: 15_000 }).toContain('beta');
    const beta = await expectScorecardOf('beta', COMPARED);
    expect(beta.find((k) => k.id === 'releases_delivered')!.value).toBe(1);
    expect(await shownValue('stakeholder_satisfaction')).toBe(formatValue(3, 'score'));
    await expect.poll(() => rows().count()).toBe(KPI_COUNT);
    await shot('scorecard-beta');

    // Back goes to alpha's numbers again.
    await page.goBack();
    await expect.poll(() => page.locator('#view-title').textContent(), { timeout: 15_000 }).toContain('alpha');
    await expect.poll(() => shownValue('releases_delivered'), { timeout: 15_000 }).toBe(formatValue(2, 'count'));

    // The current year: the yearly scorecard, with the yearly count targets (releases_delivered: 4 x 1 per quarter).
    const quarter = new URL(page.url()).searchParams.get('quarter')!;
    const year = String(new Date().getUTCFullYear());
    await page.selectOption('#quarter', year);
    await expect.poll(() => page.locator('#view-title').textContent(), { timeout: 15_000 }).toContain(`alpha · ${year}`);
    const yearly = (await pipeline.get(`/v1/scorecard?year=${year}&team=alpha`)).body.kpis as ScorecardKpi[];
    expect(yearly.find((k) => k.id === 'releases_delivered')).toMatchObject({ value: 2, target: 4, status: 'breached' });
    await expect.poll(() => shownStatus('releases_delivered'), { timeout: 15_000 }).toBe('breached');
    expect(await shownValue('releases_delivered')).toBe(formatValue(2, 'count'));
    expect(await page.locator('a[data-kpi="releases_delivered"] .kpi-target').textContent()).toContain('4');
    await page.selectOption('#quarter', quarter);
    await expect.poll(() => page.locator('#view-title').textContent(), { timeout: 15_000 }).toContain(`alpha · ${quarter}`);
  }, 120_000);

  it('shows the operational views: beta\'s open incident with its time to detect', async () => {
    await page.selectOption('#team', 'all');
    await expect.poll(() => page.locator('#view-title').textContent(), { timeout: 15_000 }).toContain('Organisation');
    await page.click('nav a:has-text("Operations")');
    await expect.poll(() => page.locator('#view-title').textContent(), { timeout: 15_000 }).toContain('Operations');
    await page.locator('#incidents-title').waitFor();
    // The alerts panel lists exactly what GET /v1/alerts calls active (firing or pending).
    await page.locator('#alerts-title').waitFor();
    const shownAsActive = async () => {
      const active = await pipeline.get('/v1/alerts?state=active');
      return (await page.locator('#alerts-title').textContent()) === `Alerts firing or pending (${active.body.alerts.length})`;
    };
    await expect.poll(shownAsActive, { timeout: 20_000 }).toBe(true);
    const incidents = await pipeline.get('/v1/incidents?state=open');
    if (incidents.status === 404) {
      expect(await page.locator('.notice-unavailable').count()).toBeGreaterThan(0);
    } else {
      expect(incidents.status).toBe(200);
      const open = incidents.body.incidents.find((i: { incident_id: string }) => i.incident_id === 'inc-beta-1');
      expect(open, JSON.stringify(incidents.body)).toBeDefined();
      const row = page.locator('tr', { hasText: 'inc-beta-1' });
      await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
      expect(await row.locator('[data-role="ttd"]').textContent()).toBe('5 h');
      expect(await page.locator('tr', { hasText: 'inc-alpha-1' }).count()).toBe(0);
      await page.locator('#releases-title').waitFor();
      expect(await page.locator('#releases-title').textContent()).toContain('Live releases');
    }
    await shot('operations');
  }, 120_000);

  it('asks for a token again on 401 and signs in from the form', async () => {
    await page.evaluate("localStorage.setItem('kpi-dashboard-token', 'wrong-token')");
    await page.goto(`${origin}/?view=scorecard&team=beta`);
    await page.locator('#sign-in').waitFor({ timeout: 15_000 });
    await shot('sign-in');
    await page.fill('#token', TOKENS.read);
    await page.click('#sign-in button[type="submit"]');
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(KPI_COUNT);
    expect(await page.locator('#view-title').textContent()).toContain('beta');
    expect(await page.evaluate("localStorage.getItem('kpi-dashboard-token')")).toBe(TOKENS.read);
  }, 120_000);
});
