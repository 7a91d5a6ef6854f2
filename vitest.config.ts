import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The long files first: the kill -9 slice (12 + 8 runs), the money-path campaign halves, the paper e2e run and the
 * feed test each take one of the two workers at once, and everything else fills in around them. Without this a
 * clean clone (no timing cache) starts them last and the suite's wall time is their sum with the rest. Budget:
 * vitest ≤ ~7 minutes of the suite's 10 on 2 cores; campaign-sized counts run in `npm run test:long`.
 */
const LONG_FIRST = [
  'test/trading/crash.test.ts',
  'test/simulation/money-path-b.test.ts',
  'test/simulation/money-path-a.test.ts',
  'test/trading/paper-e2e.test.ts',
  'test/venues/feed-rate-limits.test.ts',
];

class LongFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? LONG_FIRST.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/long/**', 'node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two workers on this 2-core machine: vitest's default (available cores − 1) runs the suite serially here,
    // and the long files above are ordered for two.
    maxWorkers: 2,
    setupFiles: ['test/support/fast-check-seed.ts'],
    fileParallelism: true,
    sequence: { sequencer: LongFirst },
  },
});
