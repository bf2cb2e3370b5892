import { defineConfig } from 'vitest/config';

// Unit tests live next to their package (packages/*/test); integration tests that need the
// real Kafka / Redis / ClickHouse live in test/ and share the infrastructure started once by
// the global setup.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./packages/testing/src/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
