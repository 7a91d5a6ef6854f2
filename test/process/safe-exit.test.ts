import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';

const REPO = resolve(import.meta.dirname, '../..');
const CHILD = join(REPO, 'test/fixtures/exit-during-write-child.ts');

/** Runs the child; resolves with its exit, or `hung` when it is still running after `boundMs` (then killed). */
function runChild(dir: string, how: 'safe' | 'plain', boundMs: number) {
  return new Promise<{ code: number | null; hung: boolean; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, how], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    // A bound on a process that must exit by itself, not a synchronisation point: only a hung child reaches it.
    const bound = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, boundMs);
    child.on('exit', (code) => {
      clearTimeout(bound);
      done({ code, hung, stdout, stderr });
    });
  });
}

describe('exiting with LMDB writes in flight', () => {
  it('exitAfterStoreClose exits with the code asked for, and every append issued before it is committed', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bosun-exit-')), 'db');
    const r = await runChild(dir, 'safe', 20_000);
    expect(r.stderr).toBe('');
    expect(r.hung).toBe(false);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('APPENDED 50');
    const store = await openStore({ dir });
    try {
      expect(store.journal.lastSeq()).toBe(50);
      expect([...store.journal.readFrom(1)].map((e) => e.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    } finally {
      await store.close();
    }
  }, 30_000);

  it('canary: a plain process.exit in the same moment never finishes (lmdb-js 3.5.6), which is why the helper exists', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bosun-exit-')), 'db');
    const r = await runChild(dir, 'plain', 4_000);
    expect(r.stdout).toContain('APPENDED 50');
    expect(r.hung).toBe(true);
  }, 30_000);
});
