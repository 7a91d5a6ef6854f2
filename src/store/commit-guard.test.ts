import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppError, isAppError } from '../domain/errors.js';
import { createCommitGuard, type WritePromise } from './commit-guard.js';
import { createJournalStore, type JournalEntry } from './journal.store.js';

const roots: RootDatabase[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => r.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function rejected(message: string): WritePromise {
  const p = Promise.reject(new Error(message)) as WritePromise;
  p.catch(() => undefined);
  return p;
}

describe('commit guard', () => {
  it('turns a rejected commit into STORE_FAILED, calls onFatal once and never retries', async () => {
    const fatal: AppError[] = [];
    let commits = 0;
    const errors: number[] = [];
    const guard = createCommitGuard({
      durability: 'flushed',
      onFatal: (e) => fatal.push(e),
      onCommitError: () => errors.push(1),
    });
    const write = () => {
      commits++;
      return rejected('Commit failed (see commitError for details)');
    };
    const first = await guard.commit('journal.append', write).catch((e: unknown) => e);
    expect(isAppError(first) && first.code).toBe('STORE_FAILED');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.message).toContain('Commit failed');
    expect(guard.state).toBe('failed');

    // Later writes are refused outright: the write function is never called again.
    await expect(guard.commit('kv.put', write)).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(() => guard.assertWritable('audit.append')).toThrow(/after a failed commit/);
    expect(commits).toBe(1);
    expect(fatal).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it('treats a write that throws synchronously as a failed commit', async () => {
    const fatal: AppError[] = [];
    const guard = createCommitGuard({ durability: 'committed', onFatal: (e) => fatal.push(e) });
    await expect(
      guard.commit('x', () => {
        throw new Error('MDB_PANIC');
      }),
    ).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(fatal).toHaveLength(1);
  });

  it('waits for the flush in flushed mode and only for the commit in committed mode', async () => {
    let flush: () => void = () => {};
    const flushed = new Promise<void>((resolve) => {
      flush = resolve;
    });
    const write = () => Object.assign(Promise.resolve(true), { flushed }) as WritePromise;
    let durableDone = false;
    const durable = createCommitGuard({ durability: 'flushed' })
      .commit('x', write)
      .then(() => {
        durableDone = true;
      });
    await createCommitGuard({ durability: 'committed' }).commit('x', write);
    expect(durableDone).toBe(false);
    flush();
    await durable;
    expect(durableDone).toBe(true);
  });

  it('halts the journal when LMDB rejects a commit: the append fails and later appends are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-guard-'));
    dirs.push(dir);
    const root = open({ path: dir, maxDbs: 4 });
    roots.push(root);
    const db = root.openDB<JournalEntry, number>({ name: 'journal' });
    let puts = 0;
    const failing = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop !== 'put') return Reflect.get(target, prop, receiver);
        return () => {
          puts++;
          return rejected('Commit failed');
        };
      },
    });
    const fatal: AppError[] = [];
    const journal = createJournalStore({
      db: failing,
      guard: createCommitGuard({ durability: 'flushed', onFatal: (e) => fatal.push(e) }),
      now: () => 1,
    });
    await expect(journal.append({ type: 'order.intent' })).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(journal.append({ type: 'order.intent' })).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(puts).toBe(1);
    expect(fatal).toHaveLength(1);
    expect(journal.lastSeq()).toBe(0);
  });
});
