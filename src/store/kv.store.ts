import type { Database } from 'lmdb';
import { AppError } from '../domain/errors.js';
import { type Json, toJson } from './canonical-json.js';
import type { CommitGuard } from './commit-guard.js';

/**
 * A small durable key/value map for runtime values (governance state, ops token hash, portfolio baseline).
 * Reads are synchronous (an LMDB read is a memory-mapped lookup); writes resolve after the durable commit.
 * It satisfies the runtime's `KvPort`.
 */
export interface KvStore {
  /** The stored value, or undefined. */
  get<T = Json>(key: string): T | undefined;
  /** Stores a JSON value; resolves after the durable commit. */
  put(key: string, value: unknown): Promise<void>;
  /** Removes a key; resolves after the durable commit (true if it existed). */
  delete(key: string): Promise<boolean>;
  /** Every key, in order (optionally only those starting with `prefix`). */
  keys(prefix?: string): string[];
}

const MAX_KEY_CHARS = 500;

/** `what` names the database in errors (`kv`, `portfolio`). */
export function createKvStore(db: Database<Json, string>, guard: CommitGuard, what: string): KvStore {
  const checkKey = (key: string): void => {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_CHARS)
      throw new AppError('VALIDATION_FAILED', `${what} key must be a string of 1-${MAX_KEY_CHARS} characters`);
  };
  return {
    get<T = Json>(key: string): T | undefined {
      checkKey(key);
      return db.get(key) as T | undefined;
    },
    async put(key, value) {
      checkKey(key);
      const json = toJson(value, `${what} value`);
      await guard.commit(`${what}.put`, () => db.put(key, json));
    },
    async delete(key) {
      checkKey(key);
      const existed = db.doesExist(key);
      await guard.commit(`${what}.delete`, () => db.remove(key));
      return existed;
    },
    keys(prefix = '') {
      const out: string[] = [];
      for (const key of db.getKeys({ start: prefix, snapshot: false })) {
        if (typeof key !== 'string' || !key.startsWith(prefix)) break;
        out.push(key);
      }
      return out;
    },
  };
}
