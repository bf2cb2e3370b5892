/**
 * What the browser test (test/dashboard.test.ts) needs from this package: playwright-core (a
 * devDependency here), Debian's chromium launched headless, a build of dist/, and the formatter the
 * page uses, so the test compares what the page shows with the API's numbers formatted the same way.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export { chromium };
export type { Browser, BrowserContext, Page };
export { formatValue, formatTarget, formatPeriod, STATUS_LABEL } from './src/format.ts';

export const dashboardDir = dirname(fileURLToPath(import.meta.url));
export const distDir = join(dashboardDir, 'dist');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/**
 * Builds dist/ with this package's vite (no typecheck: the build script does that), unless it is
 * newer than every source: a running API serves the files that were there when it started, so an
 * unneeded rebuild would pull the assets from under it.
 */
export async function buildDashboard(): Promise<{ dist: string; built: boolean }> {
  const index = join(distDir, 'index.html');
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((name) => join(dashboardDir, name));
  if (existsSync(index) && statSync(index).mtimeMs > Math.max(...sources.map(newestChange))) return { dist: distDir, built: false };
  const vite = join(dashboardDir, 'node_modules', 'vite', 'bin', 'vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: dashboardDir, timeout: 120_000 });
  if (!existsSync(index)) throw new Error(`vite build did not write ${index}`);
  return { dist: distDir, built: true };
}

/** Debian's chromium, headless, in a fresh profile (--user-data-dir) that is removed on close; a 1366x768 viewport. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const profile = mkdtempSync(join(tmpdir(), 'kpi-dashboard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1366, height: 768 } });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
