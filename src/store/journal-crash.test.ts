import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCrashIterations } from '../../test/fixtures/store-crash-harness.js';

const workDir = mkdtempSync(join(tmpdir(), 'bosun-crash-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('journal under kill -9', () => {
  it('keeps every ACKed entry, contiguous, across 5 random SIGKILLs of a writing child', async () => {
    const seed = Date.now() % 1_000_000;
    const result = await runCrashIterations({ workDir, iterations: 5, seed, maxAcks: 300 });
    expect(result.violations, `seed ${seed}`).toEqual([]);
    expect(result.acked).toBeGreaterThanOrEqual(5);
    expect(result.entries).toBeGreaterThanOrEqual(result.acked);
  }, 60_000);
});
