import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { open, type RootDatabase } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppError, isAppError } from '../domain/errors.js';
import { createCommitGuard, type Durability, type WritePromise } from './commit-guard.js';
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

/**
 * A stand-in for lmdb-js's write path, driven by hand: the writes issued in one event turn are one transaction
 * (sealed at the first write's setImmediate, as lmdb-js does); transactions become visible and then flushed, in
 * order, only when the test says so. Each write's promise is its own transaction's commit, with that
 * transaction's flush.
 */
function fakeLmdb() {
  interface Txn {
    id: number;
    visible: boolean;
    flushed: boolean;
    commit: () => void;
    flush: () => void;
    p: WritePromise;
  }
  const txns: Txn[] = [];
  let open: Txn | undefined;
  const issued: string[] = [];
  const write = (name: string): WritePromise => {
    issued.push(name);
    if (!open) {
      const t = { id: txns.length, visible: false, flushed: false } as Txn;
      const c = manualCommit();
      t.p = c.p;
      t.commit = () => {
        t.visible = true;
        c.commit();
      };
      t.flush = () => {
        t.flushed = true;
        c.flush();
      };
      txns.push(t);
      open = t;
      setImmediate(() => {
        open = undefined;
      });
    }
    // One promise per write, like a conditional put, resolving with its transaction.
    const t = open;
    const own = t.p.then(() => true) as WritePromise;
    own.flushed = (t.p.flushed as Promise<unknown>).then(() => undefined);
    own.catch(() => undefined);
    txnOf.set(name, t);
    return own;
  };
  const txnOf = new Map<string, Txn>();
  return { txns, issued, write, txnOf };
}

describe('commit guard: no waiter resolves before its own commit (issue 17, random interleavings)', () => {
  it('acks only after the transaction holding the write is visible (and flushed), one commit in flight at most (FC_SEED replays)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Durability>('flushed', 'committed'),
        fc.array(fc.constantFrom('ask', 'ask', 'ask', 'turn', 'commit', 'flush'), { minLength: 1, maxLength: 60 }),
        async (durability, ops) => {
          const lmdb = fakeLmdb();
          const guard = createCommitGuard({ durability });
          const asked: string[] = [];
          const acks: Promise<unknown>[] = [];
          const check = (name: string) => {
            const t = lmdb.txnOf.get(name);
            // Resolved: the write was issued, and its own transaction is visible (and flushed when flushed).
            expect(t, `${name} acked without being written`).toBeDefined();
            expect(t?.visible, `${name} acked before its commit was visible`).toBe(true);
            if (durability === 'flushed') expect(t?.flushed, `${name} acked before its flush`).toBe(true);
          };
          const invariants = () => {
            // Never a queue of commits: at most one transaction not yet visible besides the one still open.
            const notVisible = lmdb.txns.filter((t) => !t.visible).length;
            expect(notVisible).toBeLessThanOrEqual(2);
            // Writes reach LMDB in the order asked.
            expect(lmdb.issued).toEqual(asked.slice(0, lmdb.issued.length));
          };
          let n = 0;
          const nextTxn = (pred: (t: { visible: boolean; flushed: boolean }) => boolean) => lmdb.txns.find(pred);
          for (const op of ops) {
            if (op === 'ask') {
              const name = `w${n++}`;
              asked.push(name);
              acks.push(guard.commit(name, () => lmdb.write(name)).then(() => check(name)));
            } else if (op === 'turn') await nextTurn();
            else if (op === 'commit') {
              // Only a sealed transaction commits (lmdb-js commits a turn's writes after that turn).
              const t = nextTxn((x) => !x.visible);
              if (t && t !== lmdb.txns.at(-1)) t.commit();
              else if (t) {
                await nextTurn();
                t.commit();
              }
            } else {
              const t = nextTxn((x) => x.visible && !x.flushed);
              t?.flush();
            }
            await Promise.resolve();
            await Promise.resolve();
            invariants();
          }
          // Drain: everything asked is eventually written, committed, flushed and acknowledged.
          for (let i = 0; i < 4 * n + 4; i++) {
            await nextTurn();
            for (const t of lmdb.txns) {
              if (!t.visible) t.commit();
              else if (!t.flushed) t.flush();
            }
            await Promise.resolve();
            invariants();
          }
          await Promise.all(acks);
          expect(lmdb.issued).toEqual(asked);
          await guard.close();
        },
      ),
      { numRuns: 150 },
    );
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
