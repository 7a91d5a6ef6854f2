import type { Database, Key, PutOptions } from 'lmdb';
import { AppError, errorMessage } from '../domain/errors.js';

/**
 * `flushed` (default): an ack waits for the commit to be fsynced, so it survives power loss as well as a process
 * crash. `committed`: an ack waits until the commit is visible, which survives `kill -9` but not an OS crash
 * (lmdb-js `overlappingSync`, reference §4). Both are awaited commits; only the first matches DESIGN §1 fully.
 */
export type Durability = 'flushed' | 'committed';

/** What lmdb-js returns from an async write; with `separateFlushed` it carries its own commit's flush promise. */
export type WritePromise<T = boolean> = Promise<T> & { flushed?: PromiseLike<unknown> };

/**
 * `put` with MDB_NOOVERWRITE: resolves false, without writing, when the key exists. lmdb-js 3.5.6 supports the
 * options argument at run time but its typings only declare the version overload, hence the cast.
 */
export function putIfAbsent<K extends Key, V>(db: Database<V, K>, key: K, value: V): WritePromise {
  const put = db.put as (key: K, value: V, options: PutOptions) => WritePromise;
  return put.call(db, key, value, NO_OVERWRITE);
}

// One shared options object (lmdb-js only reads it), not one per put on a hot path.
const NO_OVERWRITE: PutOptions = Object.freeze({ noOverwrite: true });

/**
 * `putSync` with MDB_NOOVERWRITE, for use inside a transaction callback: false, without writing, when the key exists.
 * (Typed `void` by lmdb-js 3.5.6; inside a write transaction it returns whether the write happened.)
 */
export function putSyncIfAbsent<K extends Key, V>(db: Database<V, K>, key: K, value: V): boolean {
  const putSync = db.putSync as unknown as (key: K, value: V, options: PutOptions) => boolean;
  return putSync.call(db, key, value, NO_OVERWRITE);
}

/**
 * `db.transaction(callback)` (queued with the other writes of this event turn, run in their LMDB transaction),
 * carrying the flush promise of that commit like a `separateFlushed` put does. lmdb-js resolves `db.flushed`
 * against the commit pending at the moment `then` is called, which is the one the callback has just joined, so it
 * is read here at once and not when someone awaits it.
 */
export function transactionWithFlush<T>(db: Database<unknown, Key>, callback: () => T): WritePromise<T> {
  const committed = Promise.resolve(db.transaction(callback)) as WritePromise<T>;
  committed.flushed = db.flushed.then(() => undefined);
  return committed;
}

export type GuardState = 'open' | 'failed' | 'closed';

// A write handed back wrapped: resolving a promise with the write promise itself would adopt it and lose `flushed`.
interface Issued<T> {
  pending: WritePromise<T>;
}

export interface CommitGuardOptions {
  durability: Durability;
  /** Called once, on the first failed commit: the runtime halts trading and exits. */
  onFatal?: ((err: AppError) => void) | undefined;
  /** Called once with the first failure too (the `store_commit_errors_total` counter). */
  onCommitError?: (() => void) | undefined;
}

export interface CommitGuard {
  readonly state: GuardState;
  /** Throws STORE_FAILED when the store no longer accepts writes (after a failed commit, or once closed). */
  assertWritable(what: string): void;
  /** Runs one LMDB write and waits for its durable commit; any failure goes through `fail`. */
  commit<T = boolean>(what: string, write: () => WritePromise<T>): Promise<T>;
  /** Records a fatal store failure (a rejected commit or a broken invariant) and returns the error to throw. */
  fail(what: string, cause: unknown): AppError;
  /** Stops accepting writes; resolves once every write already issued has settled. */
  close(): Promise<void>;
}

/**
 * The commit-failure policy in one place. After an fsync or commit error the state of the file is unknown
 * (PostgreSQL's "fsync-gate", reference performance §2.1), so the guard never retries: the first failure poisons
 * the store, every later write is refused, and `onFatal` tells the runtime to halt trading and exit; the process
 * restarts and recovers from what LMDB really holds.
 *
 * Group commit (issue 17). lmdb-js makes the writes of one event turn one transaction. Left alone, every turn
 * with a write queues a transaction of its own, and under a stream of bars an ack waits for every queued commit
 * ahead of it. Here the writes asked for while a commit is in flight (from a later turn) are held and issued
 * together, synchronously and in the order asked, the moment that commit is visible: they are one transaction,
 * written while the previous one's fsync still runs (lmdb-js overlapping sync), and each waits for one commit
 * besides its own at most. Nothing is acknowledged earlier than without it: every caller awaits the promise
 * lmdb-js gave for its own write (and, flushed, that write's own flush), never a neighbour's.
 */
export function createCommitGuard(opts: CommitGuardOptions): CommitGuard {
  let state: GuardState = 'open';
  let firstFailure: AppError | undefined;
  let inFlight = 0;
  let drained: (() => void)[] = [];
  // Writes issued whose commit is not visible yet; whether a write was issued in this event turn (so its
  // transaction still takes writes); the held writes, issued in order by `releaseHeld`.
  let flying = 0;
  let turnOpen = false;
  let held: (() => void)[] = [];

  const fail = (what: string, cause: unknown): AppError => {
    const err = new AppError('STORE_FAILED', `LMDB write failed (${what}): ${errorMessage(cause)}`, {
      cause,
      details: { what },
    });
    if (state === 'failed') return err;
    state = 'failed';
    firstFailure = err;
    opts.onCommitError?.();
    try {
      opts.onFatal?.(err);
    } catch {
      // The hook's own failure must not mask the store failure the caller is about to see.
    }
    return err;
  };

  const refusal = (what: string): AppError =>
    state === 'closed'
      ? new AppError('STORE_FAILED', `store is closed (${what})`)
      : new AppError('STORE_FAILED', `store refuses writes after a failed commit (${what})`, { cause: firstFailure });

  const assertWritable = (what: string): void => {
    if (state !== 'open') throw refusal(what);
  };

  const releaseHeld = (): void => {
    if (held.length === 0) return;
    const go = held;
    held = [];
    // Synchronously, in the order asked: one turn, so one transaction, and no write overtakes an earlier one.
    for (const issue of go) issue();
  };
  const closeTurn = (): void => {
    turnOpen = false;
    if (flying === 0) releaseHeld();
  };

  /** Calls `write` now; its commit counts as in flight until lmdb-js settles it. Throws STORE_FAILED. */
  const issue = <T>(what: string, write: () => WritePromise<T>): WritePromise<T> => {
    let pending: WritePromise<T>;
    try {
      pending = write();
    } catch (e) {
      throw fail(what, e);
    }
    if (!turnOpen) {
      turnOpen = true;
      setImmediate(closeTurn);
    }
    flying++;
    const landed = (): void => {
      if (--flying === 0 && !turnOpen) releaseHeld();
    };
    // Settled here, not in the caller's continuation: a failed commit poisons the store before any held write
    // is looked at, so none is issued after it.
    pending.then(landed, (e: unknown) => {
      fail(what, e);
      landed();
    });
    return pending;
  };

  /** `issue` now, or (behind a commit in flight, in a later turn) once that commit is visible. */
  const issueOrHold = <T>(what: string, write: () => WritePromise<T>): Issued<T> | Promise<Issued<T>> => {
    if (turnOpen || flying === 0) return { pending: issue(what, write) };
    return new Promise((resolve, reject) => {
      held.push(() => {
        // Accepted before a close, so carried out; never after a failed commit.
        if (state === 'failed') reject(refusal(what));
        else {
          try {
            resolve({ pending: issue(what, write) });
          } catch (e) {
            reject(e);
          }
        }
      });
    });
  };

  return {
    get state() {
      return state;
    },
    assertWritable,
    fail,
    async commit<T>(what: string, write: () => WritePromise<T>): Promise<T> {
      assertWritable(what);
      inFlight++;
      try {
        const { pending } = await issueOrHold(what, write);
        let ok: T;
        try {
          ok = await pending;
          if (opts.durability === 'flushed' && pending.flushed) await pending.flushed;
        } catch (e) {
          throw fail(what, e);
        }
        return ok;
      } finally {
        if (--inFlight === 0) {
          const waiters = drained;
          drained = [];
          for (const resolve of waiters) resolve();
        }
      }
    },
    async close() {
      if (state === 'open') state = 'closed';
      if (inFlight > 0) await new Promise<void>((resolve) => drained.push(resolve));
      // One macrotask more, so the callers' own continuations (mirror lines) run before anything is torn down.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
