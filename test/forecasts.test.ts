import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, sampleData } from '@kpi/events';
import { periodOf, previousPeriodStart, quarterLabel } from '@kpi/kpi';
import type { KpiValue } from '@kpi/api-contract';
import type { Report } from '@kpi/reports';
import { startReceiver, type TestReceiver } from './alerts-receiver.ts';
import { openInBrowser, type OpenBrowser } from './support/browser.ts';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { buildDashboard } from '../dashboards/web/test-support.ts';

// SPEC 5c forecasts through the real stack (Kafka -> ingest -> ClickHouse -> worker -> served
// values -> API, alerts, reports, the dashboard in Chromium), with the pipeline's clock frozen at
// 40 % of the quarter before the current one (every event is in the past). Expected numbers are
// worked out by hand below from the SPEC's formulas; the percentiles, which need a CDF, come from
// scipy (packages/stats/scripts/forecast-reference.py: nbinom(2.5, 0.4).ppf(0.9) = 8,
// betabinom(6, 3.5, 1.5).ppf(0.1) = 2 and .ppf(0.9) = 6).

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const real = periodOf('quarter', new Date());
const quarter = { start: previousPeriodStart('quarter', real.start), end: real.start };
const QUARTER = quarterLabel(quarter.start);
const length = quarter.end.getTime() - quarter.start.getTime();
/** The instant a fraction of the quarter has elapsed (whole milliseconds: 0.4 of a quarter is exact). */
const at = (fraction: number) => new Date(quarter.start.getTime() + Math.round(fraction * length));
let now = at(0.4);
const TOLERANCE = 1e-9;

let n = 0;
const release = (team: string, model: string, readiness: boolean, fraction: number) =>
  makeEvent(
    'release.deployed',
    { ...sampleData['release.deployed'], release_id: `${team}-rel-${++n}`, model_id: model, team, tier: 1, environment: 'production', readiness_first_pass: readiness },
    { source: 'forecast-test/deployer', id: `${team}-rel-${n}`, time: at(fraction).toISOString() },
  );
const incident = (team: string, fraction: number) =>
  makeEvent(
    'incident.opened',
    { incident_id: `${team}-inc`, team, tier: 1, severity: 'sev2', category: 'model', started_at: at(fraction - 0.01).toISOString(), detected_at: at(fraction).toISOString() },
    { source: 'forecast-test/pagerduty', id: `${team}-inc-opened`, time: at(fraction).toISOString() },
  );

let pipeline: TestPipeline;
let receiver: TestReceiver;

async function valuesOf(kpi: string, team: string, query: Record<string, string> = {}): Promise<KpiValue[]> {
  const response = await pipeline.get(`/v1/kpis/${kpi}/values?${new URLSearchParams({ granularity: 'quarter', team, ...query })}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.values;
}
const underWay = async (kpi: string, team: string, query: Record<string, string> = {}) => (await valuesOf(kpi, team, query)).at(-1)!;
async function call(method: 'PUT' | 'POST', url: string, payload: unknown) {
  const response = await pipeline.api.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${TOKENS.admin}` } });
  return { status: response.statusCode, body: response.json() };
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  receiver = await startReceiver();
  pipeline = await startPipeline({ clock: () => now, env: { ALERT_EVALUATION_INTERVAL_MS: '250', ALERT_NOTIFY_BACKOFF_MS: '200' } });
  // fc-count: 2 releases and a team target of >= 4 per quarter. fc-share: 4 releases, 3 first-pass
  // (of 2 models), and a tier-1 incident. fc-alert: no release yet (target >= 1 per quarter), a survey answer.
  expect((await call('PUT', '/v1/targets/releases_delivered/fc-count', { op: '>=', value: 4, granularity: 'quarter' })).status).toBe(200);
  expect(
    (
      await call('PUT', '/v1/kpis/fc_models_shipped', {
        name: 'Models shipped',
        unit: 'count',
        direction: 'higher',
        source: 'release.deployed',
        where: { 'data.environment': 'production' },
        value: { agg: 'count_distinct', field: 'data.model_id' },
        targets: [{ op: '>=', value: 3, granularity: 'quarter' }],
      })
    ).status,
  ).toBe(201);
  await pipeline.produce([
    release('fc-count', 'fc-count-model', true, 0.1),
    release('fc-count', 'fc-count-model', true, 0.2),
    release('fc-share', 'fc-share-ranker', true, 0.05),
    release('fc-share', 'fc-share-ranker', true, 0.15),
    release('fc-share', 'fc-share-reco', true, 0.25),
    release('fc-share', 'fc-share-reco', false, 0.35),
    incident('fc-share', 0.3),
    makeEvent('survey.response', { team: 'fc-alert', score: 4 }, { source: 'forecast-test/survey', id: 'fc-alert-survey', time: at(0.1).toISOString() }),
  ]);
  const counted = async () =>
    (await underWay('releases_delivered', 'fc-count')).value === 2 &&
    (await underWay('readiness_first_pass_rate', 'fc-share')).denominator === 4 &&
    (await underWay('fc_models_shipped', 'fc-share')).value === 2 &&
    (await underWay('time_to_detect_hours', 'fc-share', { tier: '1' })).value !== null &&
    (await underWay('stakeholder_satisfaction', 'fc-alert')).value === 4;
  await eventually(async () => ((await counted()) ? true : undefined), 90_000, 'the events counted');
  await pipeline.settle();
}, 150_000);

afterAll(async () => {
  await pipeline?.stop();
  await receiver?.close();
});

describe('forecasts of the quarter under way (SPEC 5c)', () => {
  it('a count of 2 at 40 % of the quarter with a target of >= 4: value 5.75, band [2, 10], P(met) = 1 - 0.4^2.5 (1 + 2.5 x 0.6)', async () => {
    const values = await valuesOf('releases_delivered', 'fc-count');
    const current = values.at(-1)!;
    expect(current).toMatchObject({ period_start: quarter.start.toISOString().replace('.000Z', 'Z'), value: 2, target: 4, status: 'breached' });
    // By hand: F = 2 + R, R ~ NB(r = 2.5, p = 0.4); E[F] = 2 + 2.5 x 0.6 / 0.4; P(F >= 4) = 1 - P(R = 0) - P(R = 1).
    const forecast = current.forecast!;
    expect(Math.abs(forecast.value - 5.75)).toBeLessThan(TOLERANCE);
    expect(Math.abs(forecast.probability_met - (1 - 0.4 ** 2.5 * (1 + 2.5 * 0.6)))).toBeLessThan(TOLERANCE);
    expect(forecast).toMatchObject({ low: 2, high: 10, outlook: 'on_track', elapsed: 0.4 });
    // Past quarters have none.
    expect(values.slice(0, -1).every((value) => value.forecast === null)).toBe(true);
  });

  it('a share of 3 in 4 at 40 %, target >= 0.8: m = 6 more trials, value 0.72, band [0.5, 0.9], P(S >= 5) of BetaBinomial(6, 3.5, 1.5)', async () => {
    const current = await underWay('readiness_first_pass_rate', 'fc-share');
    expect(current).toMatchObject({ numerator: 3, denominator: 4, target: 0.8 });
    // By hand: P(S = s) = C(6, s) (3.5)_s (1.5)_(6-s) / (5)_6 with rising factorials (x)_k.
    const rising = (x: number, k: number) => Array.from({ length: k }, (_, i) => x + i).reduce((product, term) => product * term, 1);
    const choose = (m: number, s: number) => rising(m - s + 1, s) / rising(1, s);
    const mass = (s: number) => (choose(6, s) * rising(3.5, s) * rising(1.5, 6 - s)) / rising(5, 6);
    const forecast = current.forecast!;
    expect(Math.abs(forecast.value - (3 + (6 * 3.5) / 5) / 10)).toBeLessThan(TOLERANCE);
    expect(Math.abs(forecast.probability_met - (mass(5) + mass(6)))).toBeLessThan(TOLERANCE);
    expect(Math.abs(forecast.low - 0.5)).toBeLessThan(TOLERANCE);
    expect(Math.abs(forecast.high - 0.9)).toBeLessThan(TOLERANCE);
    expect(forecast.outlook).toBe('at_risk');
  });

  it('a custom count_distinct KPI: 2 models so far, target >= 3, P(met) = 1 - 0.4^2.5', async () => {
    const forecast = (await underWay('fc_models_shipped', 'fc-share')).forecast!;
    expect(Math.abs(forecast.value - 5.75)).toBeLessThan(TOLERANCE);
    expect(Math.abs(forecast.probability_met - (1 - 0.4 ** 2.5))).toBeLessThan(TOLERANCE);
  });

  it('none before 10 % of the period, without a target, for medians and for live coverage', async () => {
    now = at(0.05);
    try {
      expect((await underWay('releases_delivered', 'fc-count')).forecast).toBeNull();
    } finally {
      now = at(0.4);
    }
    expect((await underWay('releases_delivered', 'fc-count')).forecast).not.toBeNull();
    // No count target per month: no forecast there.
    const month = await underWay('releases_delivered', 'fc-count', { granularity: 'month' });
    expect(month).toMatchObject({ target: null, forecast: null });
    // A median with a tier-1 target, and drift coverage of the live models, with values and targets.
    const ttd = await underWay('time_to_detect_hours', 'fc-share', { tier: '1' });
    expect(ttd).toMatchObject({ target: 24, forecast: null });
    expect(ttd.value).not.toBeNull();
    const coverage = await underWay('drift_model_coverage', 'fc-share', { tier: '1' });
    expect(coverage).toMatchObject({ target: 1, forecast: null });
    expect(coverage.value).not.toBeNull();
  });

  it('the scorecard of the quarter (and of the year) and /v1/metrics carry the forecasts', async () => {
    const scorecard = await pipeline.get('/v1/scorecard?team=fc-count');
    expect(scorecard.body.quarter).toBe(QUARTER);
    const releases = scorecard.body.kpis.find((kpi: { id: string }) => kpi.id === 'releases_delivered');
    expect(releases!.forecast).toMatchObject({ low: 2, high: 10, outlook: 'on_track' });
    expect(scorecard.body.kpis.find((kpi) => kpi.id === 'time_to_detect_hours')!.forecast).toBeNull();
    const lastYear = await pipeline.get(`/v1/scorecard?team=fc-count&year=${quarter.start.getUTCFullYear() - 1}`);
    expect(lastYear.body.kpis.every((kpi: { forecast: unknown }) => kpi.forecast === null)).toBe(true);
    // The year under way: 2 releases at its elapsed fraction, against the yearly target of 4.
    const year = periodOf('year', now);
    const f = (now.getTime() - year.start.getTime()) / (year.end.getTime() - year.start.getTime());
    const yearly = (await pipeline.get(`/v1/scorecard?team=fc-count&year=${year.start.getUTCFullYear()}`)).body.kpis.find((kpi) => kpi.id === 'releases_delivered')!;
    if (f >= 0.1) {
      expect(Math.abs(yearly.forecast!.value - (2 + (2.5 * (1 - f)) / f))).toBeLessThan(TOLERANCE);
      expect(Math.abs(yearly.forecast!.elapsed - f)).toBeLessThan(TOLERANCE);
    } else expect(yearly.forecast).toBeNull();

    const metrics = (await pipeline.get('/v1/metrics')).body as string;
    const sample = (name: string, kpi: string, team: string, granularity: string) =>
      metrics.match(new RegExp(`^${name}\\{kpi="${kpi}",team="${team}",tier="all",granularity="${granularity}"\\} (\\S+)$`, 'm'))?.[1];
    expect(Number(sample('kpi_forecast_value', 'releases_delivered', 'fc-count', 'quarter'))).toBeCloseTo(5.75, 9);
    expect(Number(sample('kpi_forecast_probability_met', 'releases_delivered', 'fc-count', 'quarter'))).toBeCloseTo(1 - 0.4 ** 2.5 * 2.5, 9);
    // Absent where there is none: a median, and a count without a monthly target.
    expect(sample('kpi_forecast_value', 'time_to_detect_hours', 'fc-share', 'quarter')).toBeUndefined();
    expect(sample('kpi_forecast_value', 'releases_delivered', 'fc-count', 'month')).toBeUndefined();
    // (The month under way is the quarter's second: its releases were in the first.)
    expect(sample('kpi_value', 'releases_delivered', 'fc-count', 'month')).toBe('0');
  });

  it('the dashboard shows the forecast beside the value, and the KPI chart its projected end with the band', async () => {
    await buildDashboard();
    const browser: OpenBrowser = await openInBrowser(pipeline);
    try {
      const { page, origin } = browser;
      await page.goto(`${origin}/?view=scorecard&quarter=${QUARTER}&team=fc-count#token=${TOKENS.read}`);
      const forecastOf = (kpi: string) => page.locator(`a[data-kpi="${kpi}"] .forecast`);
      await forecastOf('releases_delivered').waitFor({ timeout: 30_000 });
      expect(await forecastOf('releases_delivered').getAttribute('data-outlook')).toBe('on_track');
      expect(await forecastOf('releases_delivered').textContent()).toBe('→ 5.75 (2–10) on track 75%');
      expect(await page.locator('a[data-kpi="time_to_detect_hours"] .kpi-forecast').textContent()).toBe('forecast —');
      await page.screenshot({ path: `${ARTIFACTS}forecast-scorecard.png`, fullPage: true });

      await page.goto(`${origin}/?view=scorecard&quarter=${QUARTER}&team=fc-alert#token=${TOKENS.read}`);
      await forecastOf('releases_delivered').waitFor({ timeout: 30_000 });
      expect(await forecastOf('releases_delivered').textContent()).toBe('→ 0.75 (0–2) at risk 37%');

      await page.goto(`${origin}/?view=kpi&kpi=readiness_first_pass_rate&granularity=quarter&quarter=${QUARTER}&team=fc-share#token=${TOKENS.read}`);
      await page.locator('.chart canvas').first().waitFor({ timeout: 30_000 });
      expect(await page.locator('[data-role="forecast"]').textContent()).toBe(`Projected end of ${QUARTER}: → 72% (50%–90%) at risk 49%`);
      // The chart's legend names the projected end, with its value at the period under way.
      expect(await page.locator('.u-legend').textContent()).toContain('Projected end');
      await page.screenshot({ path: `${ARTIFACTS}forecast-kpi-chart.png`, fullPage: true });
      // The picker offers what the KPI has: no day for a KPI that does not measure daily.
      expect(await page.locator('#granularity option').allTextContents()).toEqual(['week', 'month', 'quarter', 'year']);
    } finally {
      await browser.close();
    }
  });

  it('a review of the quarter in progress says so and lists the KPIs at risk with their probabilities', async () => {
    expect((await pipeline.post('/v1/reports', { quarter: QUARTER, team: 'fc-alert' }, TOKENS.admin)).status).toBe(202);
    const id = `${QUARTER}-fc-alert`;
    await eventually(async () => ((await pipeline.get(`/v1/reports/${id}`)).body.status === 'ready' ? true : undefined), 120_000, 'the report');
    // The JSON format is the report's model (the contract leaves a format's body open).
    const report = (await pipeline.get(`/v1/reports/${id}/json`)).body as Report;
    expect(report).toMatchObject({ open_quarter: true, in_progress: { elapsed: 0.4 } });
    const releases = report.in_progress!.at_risk.find((entry) => entry.id === 'releases_delivered')!;
    // By hand: c = 0, P(F >= 1) = 1 - P(R = 0) = 1 - 0.4^0.5.
    expect(Math.abs(releases.forecast.probability_met - (1 - Math.sqrt(0.4)))).toBeLessThan(TOLERANCE);
    expect(releases).toMatchObject({ value: 0, target: 1 });
    const markdown = (await pipeline.get(`/v1/reports/${id}/md`)).body as string;
    expect(markdown).toContain('## In progress: at risk (');
    expect(markdown).toMatch(/\| Releases delivered \| 0 \| ≥ 1 \| 0\.75 \(0–2\) \| 37% \|/);
  });

  it('a forecast rule fires while the quarter is at risk and resolves when new events put it on track', async () => {
    const rule = {
      name: 'fc-releases-at-risk',
      kpi: 'releases_delivered',
      scope: 'team',
      team: 'fc-alert',
      granularity: 'quarter',
      condition: 'forecast',
      for: '0s',
      group_wait: '0s',
      group_interval: '1s',
      receivers: [{ type: 'webhook', url: `${receiver.url}/forecast` }],
    };
    expect((await call('POST', '/v1/alert-rules', rule)).status).toBe(201);
    const alertOf = async (name: string, team: string) => (await pipeline.get(`/v1/alerts?rule=${name}&state=all`)).body.alerts.find((alert: { team: string }) => alert.team === team);
    const firing = await eventually(async () => ((await alertOf(rule.name, 'fc-alert'))?.state === 'firing' ? alertOf(rule.name, 'fc-alert') : undefined), 30_000, 'the forecast alert firing');
    expect(firing).toMatchObject({ value: 0, target: 1, forecast: { outlook: 'at_risk', elapsed: 0.4 } });
    expect(Math.abs(firing.forecast!.probability_met - (1 - Math.sqrt(0.4)))).toBeLessThan(TOLERANCE);
    expect(firing.annotations.summary).toBe(`Releases delivered for fc-alert is projected to end ${QUARTER} at 0.75; 37 % chance of meeting the target 1`);
    const [notified] = await eventually(async () => (receiver.on('/forecast').length > 0 ? receiver.on('/forecast') : undefined), 30_000, 'the firing notification');
    expect(notified!.body).toMatchObject({ status: 'firing', alerts: [{ labels: { alertname: rule.name, team: 'fc-alert', granularity: 'quarter' } }] });
    // The built-in forecast rule of the quarterly count target is at risk too, and waits out its `for` (1h).
    expect(await alertOf('releases-delivered-quarter-at-risk', 'fc-alert')).toMatchObject({ state: 'pending', severity: 'warning' });

    // One release: 1 of >= 1, met whatever comes, so on track; the alert resolves (a minute later, past group_interval).
    now = new Date(at(0.4).getTime() + 60_000);
    await pipeline.produce([release('fc-alert', 'fc-alert-model', true, 0.3)]);
    const resolved = await eventually(async () => ((await alertOf(rule.name, 'fc-alert'))?.state === 'resolved' ? alertOf(rule.name, 'fc-alert') : undefined), 60_000, 'the alert resolved');
    expect(resolved).toMatchObject({ value: 1, forecast: { probability_met: 1, outlook: 'on_track' } });
    await eventually(async () => (receiver.on('/forecast').some((request) => request.body.status === 'resolved') ? true : undefined), 30_000, 'the resolved notification');
  });
});
