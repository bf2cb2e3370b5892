import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeEvent } from '@kpi/events';
import { openInBrowser, type OpenBrowser } from './support/browser.ts';
import { eventually, startPipeline, TOKENS, type TestPipeline } from './support/pipeline.ts';
import { buildDashboard, type Page } from '../dashboards/web/test-support.ts';

// The dashboard's Reports view in Debian's headless chromium, served by the API: it lists
// GET /v1/reports, opens a report (fetched with the token, shown from a blob URL in a new window),
// downloads its formats and requests one with an admin token (a read token is told why it cannot).

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

let pipeline: TestPipeline;
let origin: string;
let browser: OpenBrowser;
let page: Page;

const status = (id: string) => page.locator(`tr[data-report="${id}"]`).getAttribute('data-report-status');

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await buildDashboard();
  pipeline = await startPipeline();
  await pipeline.produce([
    makeEvent('survey.response', { team: 'search', score: 5 }, { source: 'survey', id: 's-1', time: '2025-11-02T10:00:00Z' }),
    makeEvent('release.deployed', undefined, { source: 'mlflow', id: 'rel-1', time: '2025-11-03T10:00:00Z' }),
  ]);
  await eventually(async () => ((await pipeline.get('/v1/scorecard?quarter=2025-Q4')).body.kpis?.find((k: { id: string }) => k.id === 'stakeholder_satisfaction')?.value === 5 ? true : undefined), 90_000, 'events ingested');
  await pipeline.settle();
  // One report there from the start.
  expect((await pipeline.post('/v1/reports', { quarter: '2025-Q4' }, TOKENS.admin)).status).toBe(202);
  await eventually(async () => ((await pipeline.get('/v1/reports/2025-Q4-all')).body.status === 'ready' ? true : undefined), 90_000, 'first report');
  browser = await openInBrowser(pipeline);
  ({ origin, page } = browser);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await pipeline?.stop();
});

describe('dashboard Reports view', () => {
  it('lists the reports and opens one from a blob URL in a new window', async () => {
    await page.goto(`${origin}/?view=reports#token=${TOKENS.admin}`);
    await page.locator('#nav-reports[aria-current="page"]').waitFor();
    await expect.poll(() => status('2025-Q4-all'), { timeout: 15_000 }).toBe('ready');
    expect(await page.locator('tr[data-report="2025-Q4-all"]').textContent()).toContain('Organisation (all teams)');
    const [opened] = await Promise.all([browser.context.waitForEvent('page'), page.locator('tr[data-report="2025-Q4-all"] [data-action="open"]').click()]);
    await opened.waitForURL(/^blob:/, { timeout: 15_000 });
    await opened.locator('h1').waitFor();
    expect(await opened.locator('h1').textContent()).toBe('Organisation (all teams) — 2025-Q4');
    expect(await opened.locator('tr[data-kpi]').count()).toBeGreaterThanOrEqual(34);
    await opened.close();
    // Downloads carry the token too.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('tr[data-report="2025-Q4-all"] [data-action="md"]').click()]);
    expect(download.suggestedFilename()).toBe('kpi-review-2025-Q4-all.md');
  });

  it('requests a report with an admin token; it appears and becomes ready', async () => {
    await page.selectOption('#report-quarter', '2025-Q4');
    await page.selectOption('#report-team', 'search');
    await page.click('#request-report');
    await page.locator('.report-message', { hasText: 'Requested 2025-Q4-search' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => status('2025-Q4-search'), { timeout: 60_000 }).toBe('ready');
    await page.screenshot({ path: `${ARTIFACTS}dashboard-reports.png`, fullPage: true });
  });

  it('a read token lists reports but is told that requesting one needs an admin token', async () => {
    await page.goto(`${origin}/?view=reports#token=${TOKENS.read}`);
    await expect.poll(() => status('2025-Q4-search'), { timeout: 15_000 }).toBe('ready');
    await page.click('#request-report');
    await page.locator('.report-message', { hasText: 'needs an admin token' }).waitFor({ timeout: 15_000 });
    // Still signed in, the list still there.
    expect(await page.locator('#reports-table').isVisible()).toBe(true);
  });
});
