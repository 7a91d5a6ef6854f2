import type { Database } from 'lmdb';
import { AppError } from '../domain/errors.js';
import { type Json, sha256Canonical, toJson } from './canonical-json.js';
import type { CommitGuard } from './commit-guard.js';

/** A completed request, replayable for `ttlMs` after it was stored. */
export interface IdempotencyRecord {
  key: string;
  scope: string;
  requestHash: string;
  status: number;
  body: Json;
  createdAt: number;
  expiresAt: number;
}

/** The outcome of `begin`, in the IETF draft's terms (the HTTP layer maps them to status codes). */
export type BeginResult =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; body: Json }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

export interface IdempotencyStore {
  /** Claims `key` for a request, or says why not: replay a stored answer, 422 mismatch, 409 in flight. */
  begin(key: string, requestHash: string, scope: string): BeginResult;
  /** Stores the answer of a claimed request durably and releases the claim. */
  complete(key: string, status: number, body: unknown): Promise<void>;
  /** Releases a claim whose request failed before it had an answer worth replaying. */
  abandon(key: string): void;
  /** Deletes expired records; resolves with how many after the durable commit. */
  prune(): Promise<number>;
  /** The stored record if it has not expired. */
  get(key: string): IdempotencyRecord | undefined;
}

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Stripe's limit; the draft sets none. Longer keys are refused rather than truncated (truncation could collide). */
export const MAX_IDEMPOTENCY_KEY_CHARS = 255;

/** The request fingerprint compared on reuse: SHA-256 over canonical JSON, so key order in a body is irrelevant. */
export function requestFingerprint(request: unknown): string {
  return sha256Canonical(toJson(request ?? null, 'request'));
}

/**
 * Idempotency keys per DESIGN §9 and draft-ietf-httpapi-idempotency-key-header: same key + same request replays
 * the stored answer, same key + another request (or another scope) is a mismatch, and a duplicate arriving while
 * the first still runs is in flight. `begin` is synchronous on purpose: the check and the claim happen in one
 * step of the event loop, so of N identical concurrent requests exactly one gets `new`.
 *
 * Claims live in memory only. After a crash the key is free again and a retry runs the command once more; the
 * commands behind it are safe to repeat (kill/resume set a state, orders carry a journaled clientOrderId). To
 * store an answer atomically with its effect, issue the effect's write and `complete` in the same event turn:
 * lmdb-js commits them in one transaction.
 */
export function createIdempotencyStore(
  db: Database<IdempotencyRecord, string>,
  guard: CommitGuard,
  now: () => number,
  ttlMs = IDEMPOTENCY_TTL_MS,
): IdempotencyStore {
  const inFlight = new Map<string, { requestHash: string; scope: string }>();

  const checkKey = (key: string): void => {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_CHARS)
      throw new AppError('VALIDATION_FAILED', `Idempotency-Key must be 1-${MAX_IDEMPOTENCY_KEY_CHARS} characters`);
  };
  const live = (key: string): IdempotencyRecord | undefined => {
    const rec = db.get(key);
    return rec && rec.expiresAt > now() ? rec : undefined;
  };

  return {
    begin(key, requestHash, scope) {
      checkKey(key);
      // A claim whose answer cannot be stored is useless: refuse before the command runs, not after.
      guard.assertWritable('idempotency.begin');
      const running = inFlight.get(key);
      if (running)
        return running.requestHash === requestHash && running.scope === scope
          ? { kind: 'in_flight' }
          : { kind: 'mismatch' };
      const done = live(key);
      if (done) {
        if (done.requestHash !== requestHash || done.scope !== scope) return { kind: 'mismatch' };
        return { kind: 'replay', status: done.status, body: done.body };
      }
      inFlight.set(key, { requestHash, scope });
      return { kind: 'new' };
    },
    async complete(key, status, body) {
      const claim = inFlight.get(key);
      if (!claim) throw new AppError('CONFLICT', `idempotency key ${JSON.stringify(key)} is not claimed`);
      if (!Number.isInteger(status) || status < 100 || status > 599)
        throw new AppError('VALIDATION_FAILED', `status ${status} is not an HTTP status`);
      const createdAt = now();
      const record: IdempotencyRecord = {
        key,
        scope: claim.scope,
        requestHash: claim.requestHash,
        status,
        body: toJson(body ?? null, 'idempotent response body'),
        createdAt,
        expiresAt: createdAt + ttlMs,
      };
      try {
        await guard.commit('idempotency.complete', () => db.put(key, record));
      } finally {
        // Released only once the answer is visible: a duplicate in between sees `in_flight`, never `new`.
        inFlight.delete(key);
      }
    },
    abandon(key) {
      inFlight.delete(key);
    },
    async prune() {
      const t = now();
      const expired: string[] = [];
      for (const { key, value } of db.getRange({ snapshot: false }))
        if (typeof key === 'string' && value.expiresAt <= t) expired.push(key);
      if (expired.length === 0) return 0;
      // Removes are issued in one event turn, so they share one commit.
      await Promise.all(expired.map((key) => guard.commit('idempotency.prune', () => db.remove(key))));
      return expired.length;
    },
    get(key) {
      checkKey(key);
      return live(key);
    },
  };
}
