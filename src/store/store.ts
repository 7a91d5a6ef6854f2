import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { AppError, errorMessage } from '../domain/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { type AlertRecord, type AlertsStore, createAlertsStore } from './alerts.store.js';
import { type AuditStore, createAuditStore } from './audit.store.js';
import type { Json } from './canonical-json.js';
import { createCommitGuard, type Durability, type GuardState } from './commit-guard.js';
import { createIdempotencyStore, IDEMPOTENCY_TTL_MS, type IdempotencyStore } from './idempotency.store.js';
import { createJournalStore, type JournalStore } from './journal.store.js';
import { createJsonlMirror, type JsonlMirror, type MirrorErrorHook } from './jsonl-mirror.js';
import { createKvStore, type KvStore } from './kv.store.js';
import { createOrdersStore, type OrdersStore } from './orders.store.js';
import { createSnapshotsStore, type SnapshotsStore } from './snapshots.store.js';

/** The named databases of the environment (DESIGN §6). */
export const DB_NAMES = ['journal', 'orders', 'portfolio', 'actors', 'idempotency', 'audit', 'kv', 'alerts'] as const;

export interface StoreOptions {
  /** The LMDB environment directory (`state/db`); created if missing. */
  dir: string;
  /** Where the JSONL mirrors go (`state/logs`); no mirrors when absent. */
  logsDir?: string | undefined;
  now?: (() => number) | undefined;
  /** Called once on the first failed commit: halt trading and exit (never retry in place). */
  onFatal?: ((err: AppError) => void) | undefined;
  /** A mirror append failed; LMDB still holds the record and `exportJsonl` rebuilds the file. */
  onMirrorError?: MirrorErrorHook | undefined;
  /** What an awaited write waits for; `flushed` (fsync) unless a caller knowingly trades power-loss safety. */
  durability?: Durability | undefined;
  idempotencyTtlMs?: number | undefined;
  metrics?: Pick<Metrics, 'journalSeq' | 'storeCommitErrors'> | undefined;
}

export interface Store {
  journal: JournalStore;
  orders: OrdersStore;
  /** Materialised balances and positions (key/value). */
  portfolio: KvStore;
  snapshots: SnapshotsStore;
  kv: KvStore;
  idempotency: IdempotencyStore;
  audit: AuditStore;
  /** The notifier's durable Telegram queue. */
  alerts: AlertsStore;
  /** `open`, `failed` (a commit failed: writes refused) or `closed`. */
  readonly state: GuardState;
  /** Rebuilds every JSONL mirror from LMDB (`bosun export`); returns line counts. */
  exportJsonl(): Promise<{ events: number; orders: number; audit: number }>;
  /** Resolves when every mirror line queued so far is on disk. */
  mirrorsIdle(): Promise<void>;
  /** LMDB environment figures (the transaction id counts commits). */
  stats(): StoreStats;
  /** Waits for pending writes and mirror lines, then closes the environment. */
  close(): Promise<void>;
  /**
   * A consistent copy of the whole environment while it keeps running (LMDB's `mdb_env_copy2` inside one read
   * transaction): writes `<dir>/data.mdb`, which `openStore({ dir })` opens as it is. `dir` must be new or empty.
   */
  backup(dir: string, opts?: { compact?: boolean }): Promise<{ path: string; bytes: number }>;
}

export interface StoreStats {
  lastTxnId: number;
  mapSize: number;
  lastPageNumber: number;
  numReaders: number;
}

/** Opens (or creates) the LMDB environment and every store over it. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const now = opts.now ?? Date.now;
  let root: RootDatabase;
  try {
    mkdirSync(opts.dir, { recursive: true });
    root = open({
      path: opts.dir,
      maxDbs: DB_NAMES.length + 4,
      // Each write promise carries its own commit's flush promise, so an ack can wait for exactly its fsync.
      separateFlushed: true,
    });
  } catch (e) {
    throw new AppError('STORE_FAILED', `cannot open LMDB at ${opts.dir}: ${errorMessage(e)}`, { cause: e });
  }
  const guard = createCommitGuard({
    durability: opts.durability ?? 'flushed',
    onFatal: opts.onFatal,
    onCommitError: () => opts.metrics?.storeCommitErrors.inc(),
  });

  let mirrors: { events: JsonlMirror; orders: JsonlMirror; audit: JsonlMirror } | undefined;
  if (opts.logsDir !== undefined) {
    mkdirSync(opts.logsDir, { recursive: true });
    const onError = opts.onMirrorError ?? (() => {});
    const logsDir = opts.logsDir;
    const mirror = (file: string) => createJsonlMirror(join(logsDir, file), onError);
    mirrors = { events: mirror('events.jsonl'), orders: mirror('orders.jsonl'), audit: mirror('audit.jsonl') };
  }

  const journal = createJournalStore({
    db: root.openDB({ name: 'journal' }),
    guard,
    now,
    mirrors,
    onCommitted: (seq) => opts.metrics?.journalSeq.set(seq),
  });
  opts.metrics?.journalSeq.set(journal.lastSeq());
  const audit = createAuditStore({ db: root.openDB({ name: 'audit' }), guard, now, mirror: mirrors?.audit });

  let closing: Promise<void> | undefined;
  return {
    journal,
    audit,
    orders: createOrdersStore(root.openDB({ name: 'orders' }), guard, now),
    portfolio: createKvStore(root.openDB<Json, string>({ name: 'portfolio' }), guard, 'portfolio'),
    snapshots: createSnapshotsStore(root.openDB({ name: 'actors' }), guard, now),
    kv: createKvStore(root.openDB<Json, string>({ name: 'kv' }), guard, 'kv'),
    idempotency: createIdempotencyStore(
      root.openDB({ name: 'idempotency' }),
      guard,
      now,
      opts.idempotencyTtlMs ?? IDEMPOTENCY_TTL_MS,
    ),
    alerts: createAlertsStore(root.openDB<AlertRecord, number>({ name: 'alerts' }), guard),
    get state() {
      return guard.state;
    },
    async exportJsonl() {
      const [counts, auditCount] = await Promise.all([journal.rebuildMirrors(), audit.rebuildMirror()]);
      return { ...counts, audit: auditCount };
    },
    async mirrorsIdle() {
      if (mirrors) await Promise.all(Object.values(mirrors).map((m) => m.idle()));
    },
    stats() {
      const s = root.getStats() as Partial<StoreStats>;
      return {
        lastTxnId: s.lastTxnId ?? 0,
        mapSize: s.mapSize ?? 0,
        lastPageNumber: s.lastPageNumber ?? 0,
        numReaders: s.numReaders ?? 0,
      };
    },
    async backup(dir, backupOpts) {
      if (guard.state !== 'open') throw new AppError('STORE_FAILED', `cannot back up a ${guard.state} store`);
      mkdirSync(dir, { recursive: true });
      try {
        await root.backup(dir, backupOpts?.compact ?? true);
      } catch (e) {
        throw new AppError('STORE_FAILED', `LMDB backup to ${dir} failed: ${errorMessage(e)}`, { cause: e });
      }
      const path = join(dir, 'data.mdb');
      return { path, bytes: statSync(path).size };
    },
    close() {
      closing ??= (async () => {
        // Writes already issued still commit (or fail) before the environment goes away.
        await guard.close();
        if (mirrors) await Promise.all(Object.values(mirrors).map((m) => m.close()));
        await root.close();
      })();
      return closing;
    },
  };
}
