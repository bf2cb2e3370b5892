// `node scripts/build.mjs [--force]` (`pnpm build`): bundles every service and CLI into JavaScript
// that node runs without a TypeScript loader. Each entry becomes one ESM file (plus its source map,
// so stack traces name the TypeScript lines) holding the workspace code it imports (@kpi/*) and
// the third-party code too: one file loads in a fraction of the time of the thousands node would
// otherwise resolve and read at every start. An entry whose output is newer than every file it was
// built from is skipped.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { BUILT_FROM, ENTRIES, isFresh, root } from './built.mjs';

/** The import specifier of `absolutePath` for a module in `fromDir`. */
function specifierFrom(fromDir, absolutePath) {
  const path = relative(fromDir, absolutePath).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/**
 * Packages left out of the bundles: native addons, and code that finds files next to itself
 * (`__dirname`, `import.meta.url`), which in a bundle would look next to the bundle instead. The
 * build fails naming any other package that does so (see filesRelativeToThemselves).
 */
const UNBUNDLED = ['chdb', 'msgpackr', 'msgpackr-extract', 'pino', 'ioredis', 'bullmq', '@fastify/swagger', '@fastify/swagger-ui'];
const FINDS_OWN_FILES = /\b__dirname\b|\b__filename\b|\bimport\.meta\.(url|dirname|filename)\b/;

/** The bundled third-party packages whose code finds files relative to itself. */
async function filesRelativeToThemselves(metafile) {
  const offenders = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const [, name] = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input) ?? [];
    if (name && FINDS_OWN_FILES.test(await readFile(resolve(root, input), 'utf8'))) offenders.add(name);
  }
  return [...offenders];
}

/**
 * The UNBUNDLED packages stay external, imported by the path of the file pnpm installed for the
 * importing package (a bundle in services/x/dist cannot see packages/storage/node_modules by name).
 */
function externalUnbundled(outDir) {
  return {
    name: 'external-unbundled',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        if (!UNBUNDLED.some((name) => args.path === name || args.path.startsWith(`${name}/`)) || args.pluginData === 'resolving') return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'resolving' });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        return { path: specifierFrom(outDir, resolved.path), external: true };
      });
    },
  };
}

/**
 * Workspace sources that find files next to them (migrations, JSON schemas, the dashboard) keep
 * doing so: their `import.meta.url` becomes their own source file's URL, relative to the bundle.
 */
function sourceRelativeImportMeta(outDir) {
  return {
    name: 'source-relative-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = await readFile(args.path, 'utf8');
        const ownUrl = `new URL(${JSON.stringify(specifierFrom(outDir, args.path))}, import.meta.url).href`;
        return { contents: source.replaceAll('import.meta.url', ownUrl), loader: 'ts' };
      });
    },
  };
}

/** Builds one entry; the files are written whole and renamed into place, so a concurrent start never reads half a bundle. */
async function buildEntry({ source, output }) {
  const outFile = resolve(root, output);
  const outDir = dirname(outFile);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [source],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: 'warning',
    // Bundled CommonJS code requires node's built-in modules, which an ES module must create a require for.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    plugins: [externalUnbundled(outDir), sourceRelativeImportMeta(outDir)],
  });
  const offenders = await filesRelativeToThemselves(result.metafile);
  if (offenders.length > 0) throw new Error(`${source}: ${offenders.join(', ')} find files relative to their own code; add them to UNBUNDLED in scripts/build.mjs`);
  const inputs = [...Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/')), ...BUILT_FROM];
  const files = [
    ...result.outputFiles.filter((file) => file.path !== outFile).map((file) => [file.path, file.contents]),
    [`${outFile}.inputs.json`, JSON.stringify(inputs)],
    // Last, so that its time is the build's.
    [outFile, result.outputFiles.find((file) => file.path === outFile).contents],
  ];
  mkdirSync(outDir, { recursive: true });
  for (const [path, contents] of files) {
    const partial = `${path}.${process.pid}.tmp`;
    writeFileSync(partial, contents);
    renameSync(partial, path);
  }
}

/** Builds the entries whose output is missing or older than a file it was built from (all of them with `force`). */
export async function build({ force = false, entries = ENTRIES } = {}) {
  const stale = entries.filter((entry) => force || !isFresh(entry.output));
  await Promise.all(stale.map(buildEntry));
  return stale;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  try {
    const built = await build({ force: process.argv.includes('--force') });
    if (built.length > 0) console.log(`built ${built.map((entry) => entry.output).join(', ')} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    // esbuild has printed each error with its file and line already.
    console.error(`build failed: ${error.message}`);
    process.exitCode = 1;
  }
}
