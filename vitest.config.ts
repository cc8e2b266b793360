import { defineConfig } from 'vitest/config';

// The JSON reporter is what .ci/run reads to print its "N passed, N failed" line.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // 2-core machine: integration tests start real processes, so more workers only add contention.
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: 'reports/test-results.json' },
  },
});
