import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The money-path campaign (test/simulation/README.md) and the fuzz campaign (test/fuzz/) run here with their
    // long counts: 10,000 seeds per campaign file, 200,000 fuzz cases.
    // The feed test's ten simulated minutes (two in `npm test`) run here too.
    include: [
      'test/long/**/*.test.ts',
      'test/simulation/**/*.test.ts',
      'test/fuzz/**/*.test.ts',
      'test/venues/feed-rate-limits.test.ts',
    ],
    env: {
      SIM_SEEDS: process.env.SIM_SEEDS ?? '10000',
      FUZZ_CASES: process.env.FUZZ_CASES ?? '200000',
      FEED_SIM_MS: process.env.FEED_SIM_MS ?? '600000',
    },
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/support/fast-check-seed.ts'],
  },
});
