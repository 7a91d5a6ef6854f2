import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The money-path campaign (test/simulation/README.md) and the fuzz campaign (test/fuzz/) run here with their
    // long counts: 10,000 seeds per campaign file, 200,000 fuzz cases.
    include: ['test/long/**/*.test.ts', 'test/simulation/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
    env: { SIM_SEEDS: process.env.SIM_SEEDS ?? '10000', FUZZ_CASES: process.env.FUZZ_CASES ?? '200000' },
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
