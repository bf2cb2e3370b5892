// What the build makes (scripts/build.mjs) and how a launcher runs it: `node services/worker` runs
// services/worker/dist/main.js, building it first when it is missing or older than a source.
// Kept free of esbuild, which only a build needs.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** Every service and CLI: its TypeScript entry and the bundle node runs. */
export const ENTRIES = [
  { source: 'services/api/src/main.ts', output: 'services/api/dist/main.js' },
  { source: 'services/ingest/src/main.ts', output: 'services/ingest/dist/main.js' },
  { source: 'services/ingest/src/replay-main.ts', output: 'services/ingest/dist/replay-main.js' },
  { source: 'services/stack/src/main.ts', output: 'services/stack/dist/main.js' },
  { source: 'services/worker/src/main.ts', output: 'services/worker/dist/main.js' },
  { source: 'packages/demo/src/cli.ts', output: 'packages/demo/dist/cli.js' },
  { source: 'packages/reports/src/cli.ts', output: 'packages/reports/dist/cli.js' },
];

/** Besides the sources: a new lockfile may move the external packages, a new build script changes every bundle. */
export const BUILT_FROM = ['pnpm-lock.yaml', 'scripts/build.mjs', 'scripts/built.mjs'];

const modified = (path) => statSync(resolve(root, path), { throwIfNoEntry: false })?.mtimeMs;

/** The output exists and is newer than every file it was built from (listed next to it by the build). */
export function isFresh(output) {
  const builtAt = modified(output);
  if (builtAt === undefined) return false;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(resolve(root, `${output}.inputs.json`), 'utf8'));
  } catch {
    return false; // no list: built by something else, build again
  }
  return inputs.every((input) => (modified(input) ?? Infinity) <= builtAt);
}

/** Runs a built entry (by its repository-relative output path), building it first when it is stale. */
export async function runBuilt(output) {
  // Stack traces name the TypeScript file and line, through the bundle's source map.
  process.setSourceMapsEnabled(true);
  if (!isFresh(output)) {
    const { build } = await import('./build.mjs').catch((error) => {
      throw new Error(`${output} is missing or older than its sources, and the build cannot run here (${error.message}); run \`pnpm build\` where the dev dependencies are installed`);
    });
    await build({ entries: ENTRIES.filter((entry) => entry.output === output) });
  }
  await import(pathToFileURL(resolve(root, output)).href);
}
