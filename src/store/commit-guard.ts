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
 */
export function createCommitGuard(opts: CommitGuardOptions): CommitGuard {
  let state: GuardState = 'open';
  let firstFailure: AppError | undefined;
  let inFlight = 0;
  let drained: (() => void)[] = [];

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

  const assertWritable = (what: string): void => {
    if (state === 'open') return;
    if (state === 'closed') throw new AppError('STORE_FAILED', `store is closed (${what})`);
    throw new AppError('STORE_FAILED', `store refuses writes after a failed commit (${what})`, {
      cause: firstFailure,
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
      let pending: WritePromise<T>;
      try {
        pending = write();
      } catch (e) {
        throw fail(what, e);
      }
      inFlight++;
      try {
        const ok = await pending;
        if (opts.durability === 'flushed' && pending.flushed) await pending.flushed;
        return ok;
      } catch (e) {
        throw fail(what, e);
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
