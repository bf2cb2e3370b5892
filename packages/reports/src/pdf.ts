import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Debian's chromium, where `apt-get install chromium` puts it. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

// Headless, no network of its own, no first-run work; the page itself forbids external requests (CSP).
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-extensions',
  '--mute-audio',
  // The page draws its own footer (title, page x of y) with CSS @page margin boxes.
  '--no-pdf-header-footer',
];

/** The chromium executable if it is installed and executable, else undefined (PDF is then unavailable). */
export function findChromium(path: string = DEFAULT_CHROMIUM): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

export class PdfUnavailable extends Error {
  override name = 'PdfUnavailable';
}

/**
 * Prints the report's HTML to PDF (A4, the page's own @page rules) with headless chromium, in a
 * fresh profile and temporary directory that are removed afterwards.
 */
export async function renderPdf(html: string, options: { chromium?: string; timeoutMs?: number } = {}): Promise<Buffer> {
  const chromium = findChromium(options.chromium ?? DEFAULT_CHROMIUM);
  if (!chromium) throw new PdfUnavailable(`PDF rendering needs chromium at ${options.chromium ?? DEFAULT_CHROMIUM} (Debian: apt-get install -y chromium)`);
  const dir = mkdtempSync(join(tmpdir(), 'kpi-report-'));
  try {
    const input = join(dir, 'report.html');
    const output = join(dir, 'report.pdf');
    writeFileSync(input, html);
    await new Promise<void>((resolve, reject) => {
      execFile(
        chromium,
        [...ARGS, `--user-data-dir=${join(dir, 'profile')}`, `--print-to-pdf=${output}`, pathToFileURL(input).href],
        { timeout: options.timeoutMs ?? 90_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, HOME: dir } },
        (error, _stdout, stderr) => {
          if (error) reject(new Error(`chromium could not print the report: ${error.message}${stderr ? `\n${stderr.slice(-2000)}` : ''}`));
          else resolve();
        },
      );
    });
    let pdf: Buffer;
    try {
      pdf = readFileSync(output);
    } catch {
      throw new Error('chromium exited without writing the PDF');
    }
    if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new Error('chromium wrote something that is not a PDF');
    return pdf;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
