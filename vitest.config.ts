import { defineConfig } from 'vitest/config';

// Two groups, run one after the other: unit and integration tests first (two workers), then the
// scenario runs (test/scenarios) alone, one file at a time — they judge latency under faults, and
// sharing two cores with other tests would measure the neighbours, not the service.
// The JSON reporter is what .ci/run reads to print its "N passed, N failed" line.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: 'reports/test-results.json' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/scenarios/**'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'scenarios',
          include: ['test/scenarios/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 240_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
