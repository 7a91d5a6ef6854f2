import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

/**
 * The revert-one-fix script (test/simulation/README.md, "What it found") reverts each of issue 13's fixes by an
 * exact text patch. A patch whose text the code no longer holds cannot show the campaign's teeth: fix 1's and fix
 * 7's went stale when the order path moved on (stop 26). Every patch must still apply to the tree.
 */
it('every revert-one-fix patch still applies to the tree', () => {
  const r = spawnSync(process.execPath, ['scripts/revert-one-fix.mjs', '--check'], { encoding: 'utf8' });
  expect(
    r.stdout.split('\n').filter((l) => l.includes('STALE')),
    r.stderr,
  ).toEqual([]);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^1: applies$/m);
});
