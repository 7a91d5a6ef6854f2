/** The LMDB persistence layer: the only module allowed to import lmdb (STYLE.md boundaries). */
export type { AlertRecord, AlertSeverity, AlertsStore } from './alerts.store.js';
export {
  AUDIT_HEAD_KEY,
  type AuditHead,
  type AuditInput,
  type AuditQuery,
  type AuditRecord,
  type AuditStore,
  type AuditVerdict,
  auditHash,
  GENESIS_HASH,
  verifyAuditChain,
} from './audit.store.js';
export { canonicalJson, type Json, sha256Canonical } from './canonical-json.js';
export type { Durability, GuardState } from './commit-guard.js';
export {
  type BeginResult,
  IDEMPOTENCY_TTL_MS,
  type IdempotencyRecord,
  type IdempotencyStore,
  MAX_IDEMPOTENCY_KEY_CHARS,
  requestFingerprint,
} from './idempotency.store.js';
export { isOrderEntry, type JournalEntry, type JournalInput, type JournalStore } from './journal.store.js';
export type { KvStore } from './kv.store.js';
export { createMemoryKv } from './memory-kv.store.js';
export { type OrderRecord, type OrderStatus, orderRecordSchema } from './order-record.js';
export { isOpenOrder, type OrderInput, type OrdersStore } from './orders.store.js';
export { createReplayStore, type ReplayStore } from './replay.store.js';
export type { SnapshotsStore, StoredSnapshot } from './snapshots.store.js';
export { DB_NAMES, openStore, type Store, type StoreOptions, type StoreStats } from './store.js';
