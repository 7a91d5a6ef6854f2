import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The money-path campaign runs here with its long seed count (test/simulation/README.md).
    include: ['test/long/**/*.test.ts', 'test/simulation/**/*.test.ts'],
    env: { SIM_SEEDS: process.env.SIM_SEEDS ?? '10000' },
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
