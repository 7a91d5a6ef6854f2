import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The money-path campaign (test/simulation/README.md) and the fuzz campaign (test/fuzz/) run here with their
    // long counts: 10,000 seeds per campaign file, 200,000 fuzz cases.
    // The feed test's ten simulated minutes (two in `npm test`) run here too: 1,000 symbols on both venues, Kraken's
    // starter tier, without a 429. The default paper run (90 s in `npm test`) runs 30 minutes here. Binance
    // reconciliation's reads (20 symbols in `npm test`) are checked over 1,000 followed symbols.
    include: [
      'test/process/history-warmup.test.ts',
      'test/long/**/*.test.ts',
      'test/simulation/**/*.test.ts',
      'test/fuzz/**/*.test.ts',
      'test/venues/feed-rate-limits.test.ts',
      'test/trading/reconcile-reads.test.ts',
    ],
    env: {
      SIM_SEEDS: process.env.SIM_SEEDS ?? '10000',
      FUZZ_CASES: process.env.FUZZ_CASES ?? '200000',
      FEED_SIM_MS: process.env.FEED_SIM_MS ?? '600000',
      DEFAULT_RUN_SEC: process.env.DEFAULT_RUN_SEC ?? '1800',
      RECONCILE_READS_SYMBOLS: process.env.RECONCILE_READS_SYMBOLS ?? '1000',
    },
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/support/fast-check-seed.ts'],
  },
});
