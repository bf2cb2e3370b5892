import { configDefaults, defineConfig } from 'vitest/config';

// Two tiers (docs/testing.md):
// - unit: tests of one package's own code, next to the package (packages/*/test, services/*/test);
//   they need no Kafka, Redis or ClickHouse, so this project has no global setup and starts none.
// - integration: tests that need the real Kafka / Redis / ClickHouse (test/, and the storage
//   package's tests, which run statements on the embedded ClickHouse); they share the
//   infrastructure the global setup starts once, and only when one of them is queued.
const STORAGE_TESTS = 'packages/storage/test/**/*.test.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, STORAGE_TESTS],
          // Unit tests leave no module state behind, so the files of one worker share their
          // imports: this halves the tier's time, most of which is loading zod schemas.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', STORAGE_TESTS],
          globalSetup: ['./packages/testing/src/global-setup.ts'],
        },
      },
    ],
  },
});
