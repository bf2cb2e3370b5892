import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const scripts = new URL('../../../scripts/', import.meta.url);
const outDir = mkdtempSync(join(tmpdir(), 'kpi-build-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('the build (scripts/build.mjs)', () => {
  it('bundles an entry that a launcher runs with stack traces naming the TypeScript files and lines', { timeout: 120_000 }, () => {
    const output = join(outDir, 'fails-at-start.js');
    const source = new URL('./fixtures/fails-at-start.ts', import.meta.url).pathname;
    const launch = `
      import { build } from ${JSON.stringify(new URL('build.mjs', scripts).href)};
      import { runBuilt } from ${JSON.stringify(new URL('built.mjs', scripts).href)};
      await build({ entries: [{ source: ${JSON.stringify(source)}, output: ${JSON.stringify(output)} }] });
      await runBuilt(${JSON.stringify(output)});`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', launch], { encoding: 'utf8' });
    expect(run.stderr).toContain('ConfigError: invalid configuration: LOG_LEVEL');
    // The fixture's line, and the workspace package's code that threw, by their sources.
    expect(run.stderr).toMatch(/services\/stack\/test\/fixtures\/fails-at-start\.ts:4:\d+/);
    expect(run.stderr).toMatch(/packages\/config\/src\/index\.ts:\d+:\d+/);
    expect(run.stderr).not.toMatch(/fails-at-start\.js:\d+/);
    expect(run.status).not.toBe(0);
  });
});
