import { launchChromium, type BrowserContext, type Page } from '../../dashboards/web/test-support.ts';
import type { TestPipeline } from './pipeline.ts';

export interface OpenBrowser {
  origin: string;
  page: Page;
  close(): Promise<void>;
  context: BrowserContext;
}

/** Serves the pipeline's API (and dashboard) on a free port and opens a headless Chromium page on it. */
export async function openInBrowser(pipeline: TestPipeline): Promise<OpenBrowser> {
  const origin = await pipeline.api.listen({ port: 0, host: '127.0.0.1' });
  const browser = await launchChromium();
  const page = await browser.context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error.message));
  return { origin, page, context: browser.context, close: () => browser.close() };
}
