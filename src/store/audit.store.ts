import type { Database } from 'lmdb';
import { AppError } from '../domain/errors.js';
import { type Json, sha256Canonical, toJsonObject } from './canonical-json.js';
import { type CommitGuard, putIfAbsent } from './commit-guard.js';
import { type JsonlMirror, jsonlLine } from './jsonl-mirror.js';

/** One operator command as OWASP's logging sheet asks: who, what, on what, from where, before/after, result. */
export interface AuditInput {
  actor: string;
  action: string;
  target?: string;
  ip?: string;
  before?: unknown;
  after?: unknown;
  result: string;
  reason?: string;
  requestId?: string;
  idempotencyKey?: string;
}

/** A committed audit record: the input plus its place in the hash chain. */
export interface AuditRecord {
  seq: number;
  ts: number;
  actor: string;
  action: string;
  target?: string;
  ip?: string;
  before?: Json;
  after?: Json;
  result: string;
  reason?: string;
  requestId?: string;
  idempotencyKey?: string;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  limit: number;
  /** Only records at or after this epoch-ms time. */
  since?: number;
  actor?: string;
  action?: string;
}

/** The last link of the chain, written in the same transaction as the record, so a cut-off tail is detectable. */
export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditStore {
  /** Appends a record to the hash chain; resolves after the durable commit. */
  append(input: AuditInput): Promise<AuditRecord>;
  /** Newest first, at most `limit` (capped at 1,000). */
  list(query: AuditQuery): AuditRecord[];
  /** Every record in sequence order, read lazily. */
  readAll(): Iterable<AuditRecord>;
  head(): AuditHead | undefined;
  /** Rewrites `audit.jsonl` from LMDB; returns the line count. */
  rebuildMirror(): Promise<number>;
}

/** `prevHash` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);
/** Records live under integer keys; the head lives under this string key, which sorts after every number. */
export const AUDIT_HEAD_KEY = 'head';
const MAX_LIST = 1000;
const SEQ_END = Number.MAX_SAFE_INTEGER;

/** The hash of a record: SHA-256 over the canonical JSON of every field except `hash` itself (prevHash included). */
export function auditHash(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...content } = record;
  return sha256Canonical(content);
}

type AuditDb = Database<AuditRecord | AuditHead, number | string>;

/**
 * The hash-chained audit log (DESIGN §9). Sequence and `prevHash` are taken synchronously at append time, so
 * concurrent appends chain in call order and still share one commit. The chain makes an edited or removed record
 * detectable (`verifyAuditChain`); it cannot stop someone who rewrites the whole chain, which is why `audit.jsonl`
 * also leaves the process (ship it to read-only storage).
 */
export function createAuditStore(deps: {
  db: AuditDb;
  guard: CommitGuard;
  now: () => number;
  mirror?: JsonlMirror | undefined;
}): AuditStore {
  const { db, guard, now, mirror } = deps;
  const stored = db.get(AUDIT_HEAD_KEY) as AuditHead | undefined;
  let nextSeq = (stored?.seq ?? 0) + 1;
  let lastHash = stored?.hash ?? GENESIS_HASH;
  let committedSeq = stored?.seq ?? 0;
  const landed = new Map<number, AuditRecord>();

  if (mirror) {
    const mirrored = mirror.recoverTail();
    if (mirrored !== undefined && mirrored < committedSeq)
      mirror.appendNow(rangeFrom(db, mirrored + 1, committedSeq + 1).map(jsonlLine));
  }

  const release = (record: AuditRecord): void => {
    landed.set(record.seq, record);
    for (let next = landed.get(committedSeq + 1); next; next = landed.get(committedSeq + 1)) {
      landed.delete(next.seq);
      committedSeq = next.seq;
      mirror?.write(next.seq, jsonlLine(next));
    }
  };

  return {
    async append(input) {
      guard.assertWritable('audit.append');
      const body = toJsonObject(input, 'audit record');
      for (const field of ['actor', 'action', 'result'] as const)
        if (typeof body[field] !== 'string' || body[field] === '')
          throw new AppError('VALIDATION_FAILED', `audit record needs a non-empty ${field}`);
      const { seq: _s, ts: _t, prevHash: _p, hash: _h, ...content } = body;
      const seq = nextSeq++;
      const unsigned = { ...content, seq, ts: now(), prevHash: lastHash } as Omit<AuditRecord, 'hash'>;
      const record: AuditRecord = { ...unsigned, hash: auditHash(unsigned) };
      lastHash = record.hash;
      const head: AuditHead = { seq, hash: record.hash };
      // Both puts are issued in this event turn, so they land in the same LMDB transaction.
      const [fresh] = await Promise.all([
        guard.commit('audit.append', () => putIfAbsent<number | string, AuditRecord | AuditHead>(db, seq, record)),
        guard.commit('audit.head', () => db.put(AUDIT_HEAD_KEY, head)),
      ]);
      if (!fresh) throw guard.fail('audit.append', new Error(`audit seq ${seq} already exists: second writer?`));
      release(record);
      return record;
    },
    list({ limit, since, actor, action }) {
      const max = Math.max(1, Math.min(MAX_LIST, Math.floor(limit) || 1));
      const out: AuditRecord[] = [];
      // A plain filter, not an early stop on `since`: a wall clock can step back, sequence order is the truth.
      for (const { value } of db.getRange({ start: SEQ_END, end: 0, reverse: true, snapshot: false })) {
        const rec = value as AuditRecord;
        if (since !== undefined && rec.ts < since) continue;
        if (actor !== undefined && rec.actor !== actor) continue;
        if (action !== undefined && rec.action !== action) continue;
        out.push(rec);
        if (out.length >= max) break;
      }
      return out;
    },
    readAll() {
      return rangeFrom(db, 1, SEQ_END);
    },
    head() {
      return db.get(AUDIT_HEAD_KEY) as AuditHead | undefined;
    },
    async rebuildMirror() {
      if (!mirror) throw new AppError('BAD_REQUEST', 'audit mirror is off (no logs directory)');
      await mirror.pause();
      try {
        const upTo = committedSeq;
        return mirror.replace(upTo, rangeFrom(db, 1, upTo + 1).map(jsonlLine));
      } finally {
        mirror.resume();
      }
    },
  };
}

function rangeFrom(db: AuditDb, start: number, end: number) {
  return db.getRange({ start, end, snapshot: false }).map(({ value }) => value as AuditRecord);
}

export type AuditVerdict = { ok: true; count: number } | { ok: false; badSeq: number; reason: string };

/**
 * Walks the audit chain from the first record: sequences must run 1, 2, 3… without gaps, each `prevHash` must
 * be the previous record's hash, each hash must match the record's content, and the last record must be the
 * stored head (which catches a removed tail).
 */
export function verifyAuditChain(store: { audit: Pick<AuditStore, 'readAll' | 'head'> }): AuditVerdict {
  let expected = 1;
  let prev = GENESIS_HASH;
  for (const rec of store.audit.readAll()) {
    if (rec.seq !== expected)
      return rec.seq > expected
        ? { ok: false, badSeq: expected, reason: `record ${expected} is missing` }
        : { ok: false, badSeq: rec.seq, reason: `record out of order (expected ${expected})` };
    if (rec.prevHash !== prev)
      return { ok: false, badSeq: rec.seq, reason: 'prevHash does not match the previous record' };
    if (auditHash(rec) !== rec.hash) return { ok: false, badSeq: rec.seq, reason: 'content does not match its hash' };
    prev = rec.hash;
    expected++;
  }
  const count = expected - 1;
  const head = store.audit.head();
  if ((head?.seq ?? 0) !== count || (head?.hash ?? GENESIS_HASH) !== prev)
    return { ok: false, badSeq: count + 1, reason: `chain ends at ${count} but the head says ${head?.seq ?? 0}` };
  return { ok: true, count };
}
