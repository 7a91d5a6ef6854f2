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

/** A commit the test completes by hand, with its own flush. */
function manualCommit() {
  let commit!: () => void;
  let abort!: (e: Error) => void;
  let flush!: () => void;
  const p = new Promise<boolean>((resolve, reject) => {
    commit = () => resolve(true);
    abort = reject;
  }) as WritePromise;
  p.flushed = new Promise<void>((resolve) => {
    flush = resolve;
  });
  p.catch(() => undefined);
  return { p, commit, abort, flush };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('commit guard: group commit (issue 17)', () => {
  it('holds writes asked for while a commit is in flight and issues them together, in one turn, once it is visible', async () => {
    const guard = createCommitGuard({ durability: 'flushed' });
    const first = manualCommit();
    const issued: string[] = [];
    const acked: string[] = [];
    const a = guard.commit('a', () => {
      issued.push('a');
      return first.p;
    });
    void a.then(() => acked.push('a'));
    await nextTurn();
    // Later turns: the first commit is still in flight, so these wait (no transaction of their own).
    const later = ['b', 'c', 'd'].map((name) => ({ name, c: manualCommit() }));
    const acks: Promise<unknown>[] = [];
    for (const { name, c } of later) {
      acks.push(
        guard.commit(name, () => {
          issued.push(`${name}@${issued.length}`);
          return c.p;
        }),
      );
      await nextTurn();
    }
    expect(issued).toEqual(['a']);
    // Visible: the waiting writes go out at once, in the same turn (one LMDB transaction).
    first.commit();
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(issued).toEqual(['a', 'b@1', 'c@2', 'd@3']);
    // `a` is acknowledged only after its own flush, never earlier.
    expect(acked).toEqual([]);
    first.flush();
    await a;
    expect(acked).toEqual(['a']);
    for (const { c } of later) {
      c.commit();
      c.flush();
    }
    await Promise.all(acks);
  });

  it('refuses the waiting writes without issuing them when the commit in flight fails', async () => {
    const fatal: AppError[] = [];
    const guard = createCommitGuard({ durability: 'committed', onFatal: (e) => fatal.push(e) });
    const first = manualCommit();
    const a = guard.commit('a', () => first.p).catch((e: unknown) => e);
    await nextTurn();
    let issued = 0;
    const b = guard
      .commit('b', () => {
        issued++;
        return manualCommit().p;
      })
      .catch((e: unknown) => e);
    await nextTurn();
    first.abort(new Error('MDB_MAP_FULL'));
    expect(await a).toMatchObject({ code: 'STORE_FAILED' });
    expect(await b).toMatchObject({ code: 'STORE_FAILED' });
    expect(issued).toBe(0);
    expect(fatal).toHaveLength(1);
  });

  it('carries out a write accepted before close(), and close() waits for it', async () => {
    const guard = createCommitGuard({ durability: 'committed' });
    const first = manualCommit();
    const a = guard.commit('a', () => first.p);
    await nextTurn();
    const second = manualCommit();
    let issued = false;
    const b = guard.commit('b', () => {
      issued = true;
      return second.p;
    });
    await nextTurn();
    let closed = false;
    const closing = guard.close().then(() => {
      closed = true;
    });
    first.commit();
    await a;
    await nextTurn();
    expect(issued).toBe(true);
    expect(closed).toBe(false);
    second.commit();
    await b;
    await closing;
    expect(closed).toBe(true);
    await expect(guard.commit('c', () => manualCommit().p)).rejects.toThrow(/store is closed/);
  });
});

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
