import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The browser loads @kpi/schemas, @kpi/format and the API's typed client (through the dashboard),
 * so none of them may reach the server's I/O at run time: storage and its embedded ClickHouse, the
 * connectors, Kafka, Redis and the queue, or a Node built-in. esbuild follows the run-time imports
 * (type-only ones are erased, as in the bundle) through the workspace sources; every third-party
 * package is left external, so the graph's leaves name the packages it needs.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_SOURCES = /^(?:packages\/(?:storage|connectors|bus|queue|runtime|serving)\/|services\/)/;
const SERVER_PACKAGES = /^(?:chdb|@clickhouse\/|kafkajs|bullmq|ioredis)/;

const thirdPartyExternal: Plugin = {
  name: 'third-party-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@kpi/') ? undefined : { path: args.path, external: true }));
  },
};

/** The workspace modules an entry loads at run time, and the packages (or built-ins) it imports from outside. */
async function runTimeGraph(entry: string): Promise<{ modules: string[]; packages: string[] }> {
  const { metafile } = await build({ entryPoints: [`${root}${entry}`], absWorkingDir: root, bundle: true, write: false, metafile: true, format: 'esm', platform: 'browser', logLevel: 'silent', loader: { '.css': 'empty' }, plugins: [thirdPartyExternal] });
  const imports = Object.values(metafile.inputs).flatMap((input) => input.imports);
  return { modules: Object.keys(metafile.inputs), packages: [...new Set(imports.filter((i) => i.external).map((i) => i.path))].sort() };
}

/** What of the server an import graph reaches. */
const serverParts = ({ modules, packages }: { modules: string[]; packages: string[] }) => [
  ...modules.filter((path) => SERVER_SOURCES.test(path)),
  ...packages.filter((name) => SERVER_PACKAGES.test(name) || isBuiltin(name)),
];

describe('what the browser loads reaches no server code at run time', () => {
  it.each(['dashboards/web/src/main.ts', 'packages/schemas/src/index.ts', 'packages/format/src/index.ts', 'packages/api-contract/src/client.ts'])('%s', async (entry) => {
    expect(serverParts(await runTimeGraph(entry))).toEqual([]);
  });

  it('@kpi/schemas needs zod and nothing else', async () => {
    const graph = await runTimeGraph('packages/schemas/src/index.ts');
    expect(graph.packages).toEqual(['zod']);
    expect(graph.modules.every((path) => path.startsWith('packages/schemas/src/'))).toBe(true);
  });

  it('finds the server where it is: storage reaches the embedded ClickHouse and Node built-ins', async () => {
    const parts = serverParts(await runTimeGraph('packages/storage/src/index.ts'));
    expect(parts).toEqual(expect.arrayContaining(['chdb', 'packages/storage/src/index.ts']));
    expect(parts.some((name) => name.startsWith('node:'))).toBe(true);
  });
});
