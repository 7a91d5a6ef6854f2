import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The fuzz campaign (test/fuzz/) runs here again with 200,000 cases instead of npm test's 2,000.
    include: ['test/long/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
    env: { FUZZ_CASES: '200000' },
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
