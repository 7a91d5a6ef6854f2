import type { Database } from 'lmdb';
import { AppError } from '../domain/errors.js';
import { type Json, toJsonObject } from './canonical-json.js';
import { type CommitGuard, putSyncIfAbsent, transactionWithFlush } from './commit-guard.js';
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

/** The entries of one transaction callback; `written` is how many of them, in order, it wrote. */
interface Batch {
  first: number;
  entries: JournalEntry[];
  sealed: boolean;
  written: Promise<number>;
}

// Placeholder for the instant between creating a batch and queueing its transaction (never awaited).
const NOT_QUEUED: Promise<number> = new Promise<number>(() => {});

export interface JournalDeps {
  db: Database<JournalEntry, number>;
  guard: CommitGuard;
  now: () => number;
  mirrors?: JournalMirrors | undefined;
  onCommitted?: ((seq: number) => void) | undefined;
}

/**
 * The append-only journal (DESIGN §6). Sequences are assigned synchronously in call order from an in-memory
 * counter seeded from the last key. The entries of one event turn are written by one transaction callback
 * (`db.transaction`), which lmdb-js runs inside the LMDB transaction of that turn's other writes (so an entry and
 * the ledger writes issued beside it commit together), and concurrent appends share one commit and still get
 * distinct contiguous numbers. Transactions commit in order and atomically, so after a crash the journal is always
 * a gap-free prefix. Each entry is put with MDB_NOOVERWRITE: a second process writing the same environment trips a
 * fatal error instead of silently overwriting history.
 *
 * Why a callback per turn and not one `put` per entry: a conditional (`noOverwrite`) async put costs lmdb-js a
 * promise, its resolvers and a resolution record per entry, all alive until the commit; that alone halved the rate
 * of a burst (raw lmdb-js, 20k puts: 149k/s unconditional, 79k/s with `noOverwrite`, cold process), where the
 * callback checks every key inside the transaction for the price of one promise per turn (144k/s).
 */
export function createJournalStore(deps: JournalDeps): JournalStore {
  const { db, guard, now, mirrors } = deps;
  const last = lastKey(db);
  let nextSeq = last + 1;
  let committedSeq = last;
  // Commits resolve in order, but the mirror must never depend on that: entries are released strictly by seq.
  const landed = new Map<number, JournalEntry>();
  // The batch taking entries: until its callback has run, and never past the end of the event turn it was opened
  // in (lmdb-js `beforecommit` fires when that turn's transaction is sealed), so no entry can join a commit other
  // than the one of the writes issued beside it.
  let open: Batch | undefined;
  db.on('beforecommit', () => {
    open = undefined;
  });

  if (mirrors) catchUp(db, mirrors, last);

  const writeBatch = (batch: Batch): number => {
    batch.sealed = true;
    if (open === batch) open = undefined;
    let written = 0;
    for (const entry of batch.entries) {
      // Stop at a taken key: nothing after it may land either, or the journal would hold a gap.
      if (!putSyncIfAbsent(db, entry.seq, entry)) break;
      written++;
    }
    return written;
  };
  const join = (entry: JournalEntry): Batch => {
    if (open && !open.sealed) {
      open.entries.push(entry);
      return open;
    }
    // The entry goes in before the transaction is queued: inside a write transaction lmdb-js runs the callback at once.
    const batch: Batch = { first: entry.seq, entries: [entry], sealed: false, written: NOT_QUEUED };
    open = batch;
    batch.written = guard.commit('journal.append', () => transactionWithFlush(db, () => writeBatch(batch)));
    return batch;
  };

  const land = (entry: JournalEntry): void => {
    committedSeq = entry.seq;
    if (mirrors) {
      // Formatted by whichever mirror writes it first, at its next macrotask, not on the ack path.
      const line = { record: entry };
      mirrors.events.write(entry.seq, line);
      if (isOrderEntry(entry.type)) mirrors.orders.write(entry.seq, line);
    }
  };
  const release = (entry: JournalEntry): void => {
    // In-order arrival is the norm, so the map is only touched when an entry really has to wait for a lower seq.
    if (entry.seq === committedSeq + 1 && landed.size === 0) land(entry);
    else {
      landed.set(entry.seq, entry);
      for (let next = landed.get(committedSeq + 1); next; next = landed.get(committedSeq + 1)) {
        landed.delete(next.seq);
        land(next);
      }
    }
    deps.onCommitted?.(committedSeq);
  };

  return {
    async append(input) {
      guard.assertWritable('journal.append');
      const body = toJsonObject(input, 'journal entry');
      if (typeof body.type !== 'string' || body.type === '')
        throw new AppError('VALIDATION_FAILED', 'journal entry needs a non-empty string type');
      if ('seq' in body) throw new AppError('VALIDATION_FAILED', 'journal entries must not carry their own seq');
      const ts = body.ts;
      if (ts !== undefined && (typeof ts !== 'number' || !Number.isSafeInteger(ts)))
        throw new AppError('VALIDATION_FAILED', 'journal entry ts must be epoch milliseconds');
      // Everything above may reject the entry; from here on a number is spent, so nothing below may throw early.
      const seq = nextSeq++;
      // `seq` and `ts` lead; a `ts` of the body keeps that place and the value just checked.
      const entry = { seq, ts: ts ?? now(), ...body } as JournalEntry;
      const batch = join(entry);
      const written = await batch.written;
      // A batch holds consecutive seqs, so an entry's place in it is its distance from the first.
      if (seq - batch.first >= written) {
        const taken = batch.first + written;
        throw guard.fail('journal.append', new Error(`journal seq ${taken} already exists: second writer?`));
      }
      release(entry);
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
