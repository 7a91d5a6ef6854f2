import type { Database } from 'lmdb';
import { AppError } from '../domain/errors.js';
import { type Json, toJsonObject } from './canonical-json.js';
import { type CommitGuard, putIfAbsent } from './commit-guard.js';
import { type JsonlMirror, jsonlLine } from './jsonl-mirror.js';

/** What callers journal: a dot-namespaced `type` plus any JSON fields (`seq` and `ts` are the journal's). */
export interface JournalInput {
  type: string;
  seq?: never;
  ts?: number;
  [field: string]: unknown;
}

/** A committed journal entry. */
export interface JournalEntry {
  seq: number;
  ts: number;
  type: string;
  [field: string]: Json;
}

export interface JournalStore {
  /** Appends one entry; resolves with its sequence only after the durable commit (the ack path). */
  append(entry: JournalInput): Promise<{ seq: number }>;
  /** Entries with `seq >= from`, in order, read lazily (safe for long replays). */
  readFrom(from: number): Iterable<JournalEntry>;
  /** The highest sequence committed so far (0 when empty); every sequence below it is committed too. */
  lastSeq(): number;
  /** Rewrites `events.jsonl` and `orders.jsonl` from LMDB; returns the line counts. */
  rebuildMirrors(): Promise<{ events: number; orders: number }>;
}

export interface JournalMirrors {
  events: JsonlMirror;
  orders: JsonlMirror;
}

/** Journal entries also mirrored to `orders.jsonl`: intents, acks, fills, cancels (`order.*`). */
export function isOrderEntry(type: string): boolean {
  return type.startsWith('order.');
}

export interface JournalDeps {
  db: Database<JournalEntry, number>;
  guard: CommitGuard;
  now: () => number;
  mirrors?: JournalMirrors | undefined;
  onCommitted?: ((seq: number) => void) | undefined;
}

/**
 * The append-only journal (DESIGN §6). Sequences are assigned synchronously in call order from an in-memory
 * counter seeded from the last key, and every put of one event turn rides the same LMDB transaction (lmdb-js
 * `eventTurnBatching`), so concurrent appends share one commit and still get distinct contiguous numbers.
 * Transactions commit in order and atomically, so after a crash the journal is always a gap-free prefix. Each
 * put is `noOverwrite`: a second process writing the same environment trips a fatal error instead of
 * silently overwriting history.
 */
export function createJournalStore(deps: JournalDeps): JournalStore {
  const { db, guard, now, mirrors } = deps;
  const last = lastKey(db);
  let nextSeq = last + 1;
  let committedSeq = last;
  // Commits resolve in order, but the mirror must never depend on that: entries are released strictly by seq.
  const landed = new Map<number, JournalEntry>();

  if (mirrors) catchUp(db, mirrors, last);

  const release = (seq: number, entry: JournalEntry): void => {
    landed.set(seq, entry);
    for (let next = landed.get(committedSeq + 1); next; next = landed.get(committedSeq + 1)) {
      landed.delete(next.seq);
      committedSeq = next.seq;
      if (mirrors) {
        const line = jsonlLine(next);
        mirrors.events.write(next.seq, line);
        if (isOrderEntry(next.type)) mirrors.orders.write(next.seq, line);
      }
    }
    deps.onCommitted?.(committedSeq);
  };

  return {
    async append(input) {
      guard.assertWritable('journal.append');
      const { ts, ...body } = toJsonObject(input, 'journal entry');
      if (typeof body.type !== 'string' || body.type === '')
        throw new AppError('VALIDATION_FAILED', 'journal entry needs a non-empty string type');
      if ('seq' in body) throw new AppError('VALIDATION_FAILED', 'journal entries must not carry their own seq');
      if (ts !== undefined && (typeof ts !== 'number' || !Number.isSafeInteger(ts)))
        throw new AppError('VALIDATION_FAILED', 'journal entry ts must be epoch milliseconds');
      // Everything above may reject the entry; from here on a number is spent, so nothing below may throw early.
      const seq = nextSeq++;
      const entry = { seq, ts: typeof ts === 'number' ? ts : now(), ...body } as JournalEntry;
      const fresh = await guard.commit('journal.append', () => putIfAbsent(db, seq, entry));
      if (!fresh) throw guard.fail('journal.append', new Error(`journal seq ${seq} already exists: second writer?`));
      release(seq, entry);
      return { seq };
    },
    readFrom(from) {
      return db.getRange({ start: Math.max(1, Math.floor(from)), snapshot: false }).map(({ value }) => value);
    },
    lastSeq() {
      return committedSeq;
    },
    async rebuildMirrors() {
      if (!mirrors) throw new AppError('BAD_REQUEST', 'journal mirrors are off (no logs directory)');
      // Both files are held together: a line committed meanwhile must not slip into a file about to be replaced.
      await Promise.all([mirrors.events.pause(), mirrors.orders.pause()]);
      try {
        const upTo = committedSeq;
        const upToRange = () => db.getRange({ start: 1, end: upTo + 1, snapshot: false }).map(({ value }) => value);
        const events = mirrors.events.replace(upTo, upToRange().map(jsonlLine));
        const orders = mirrors.orders.replace(
          upTo,
          upToRange()
            .filter((e) => isOrderEntry(e.type))
            .map(jsonlLine),
        );
        return { events, orders };
      } finally {
        mirrors.events.resume();
        mirrors.orders.resume();
      }
    },
  };
}

function lastKey(db: Database<JournalEntry, number>): number {
  for (const key of db.getKeys({ reverse: true, limit: 1 })) if (typeof key === 'number') return key;
  return 0;
}

/** At open, append what a crash kept out of the mirrors (their tail is always a prefix of the journal). */
function catchUp(db: Database<JournalEntry, number>, mirrors: JournalMirrors, last: number): void {
  for (const [mirror, select] of [
    [mirrors.events, () => true],
    [mirrors.orders, isOrderEntry],
  ] as const) {
    const mirrored = mirror.recoverTail();
    if (mirrored === undefined || mirrored >= last) continue;
    mirror.appendNow(
      db
        .getRange({ start: mirrored + 1, end: last + 1, snapshot: false })
        .filter(({ value }) => select(value.type))
        .map(({ value }) => jsonlLine(value)),
    );
  }
}
