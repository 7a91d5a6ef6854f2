import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCrashIterations } from '../fixtures/store-crash-harness.js';

const workDir = mkdtempSync(join(tmpdir(), 'bosun-crash-long-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('journal under kill -9 (long)', () => {
  // About 0.5 s per kill on 2 shared cores (child start-up dominates): 1,000 kills took 520 s.
  it('keeps every ACKed entry, contiguous, across 1,000 random SIGKILLs', async () => {
    const seed = Date.now() % 1_000_000;
    const result = await runCrashIterations({ workDir, iterations: 1000, seed, maxAcks: 500, killsPerEnv: 50 });
    expect(result.violations, `seed ${seed}`).toEqual([]);
    expect(result.kills).toBe(1000);
    expect(result.acked).toBeGreaterThanOrEqual(1000);
  }, 1_800_000);
});
