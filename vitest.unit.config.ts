import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the inner loop. The pure and in-process tests beside the code (target ≤ 60 s on 2 cores): no spawned Bosun
 * process or child process, no browser, no seeded campaign, no fuzz campaign, no multi-minute simulated run.
 * Everything excluded here still runs in `npm test` (and the long counts in `npm run test:long`).
 */
export const NOT_UNIT = [
  // Spawn dist/main.bundle.mjs or another child process (need `npm run build`).
  'test/process/**',
  'test/cli/**',
  'test/fuzz/**',
  'test/observability/prometheus.test.ts',
  'test/http/runbook-curl.test.ts',
  'test/trading/boot-transient.test.ts',
  'test/trading/crash.test.ts',
  'test/trading/paper-e2e.test.ts',
  'test/trading/reconcile.test.ts',
  'test/trading/scanner.test.ts',
  'src/store/journal-crash.test.ts',
  // A browser.
  'test/**/*.browser.test.ts',
  // Seeded campaigns, kill -9 campaigns and long simulated runs.
  'test/simulation/**',
  'test/trading/retry-crash.test.ts',
  'test/venues/feed-rate-limits.test.ts',
];

export default defineConfig({
  test: {
    // The tests beside the code (src/): pure functions, machines, stores and routes in process. The suites under
    // test/ boot whole stacks on the simulator (seconds each) and run in `npm test`.
    include: ['src/**/*.test.ts'],
    exclude: ['test/long/**', 'node_modules/**', 'dist/**', ...NOT_UNIT],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Both cores: vitest's default (available cores − 1) is one worker here.
    maxWorkers: 2,
    setupFiles: ['test/support/fast-check-seed.ts'],
    fileParallelism: true,
  },
});
