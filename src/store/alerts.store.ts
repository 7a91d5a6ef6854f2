import type { Database } from 'lmdb';
import { AppError } from '../domain/errors.js';
import type { CommitGuard } from './commit-guard.js';

/** How urgent an alert is: critical goes out before warning before info. */
export type AlertSeverity = 'critical' | 'warning' | 'info';

/**
 * One queued Telegram message. `count` alerts with the same key were collapsed into it; a `followUp` record
 * only carries alerts that arrived inside the dedupe window after the key was last sent (so all of them were
 * suppressed, and the message says how many).
 */
export interface AlertRecord {
  seq: number;
  key: string;
  text: string;
  severity: AlertSeverity;
  count: number;
  followUp: boolean;
  firstAt: number;
  lastAt: number;
  /** Not sent before this epoch ms (the end of the key's dedupe window for a follow-up). */
  notBefore: number;
}

/**
 * The notifier's durable queue (LMDB `alerts`, keyed by a numeric sequence so iteration is FIFO). A record is
 * written before `alert()` resolves and removed only after Telegram accepted it, so a `kill -9` loses nothing.
 */
export interface AlertsStore {
  /** Every queued record, oldest first. */
  list(): AlertRecord[];
  /** Inserts or replaces a record; resolves after the durable commit. */
  put(record: AlertRecord): Promise<void>;
  /** Removes a record; resolves after the durable commit. */
  delete(seq: number): Promise<void>;
  /** A sequence number larger than any stored one. */
  nextSeq(): number;
}

export function createAlertsStore(db: Database<AlertRecord, number>, guard: CommitGuard): AlertsStore {
  let last = 0;
  for (const key of db.getKeys({ reverse: true, limit: 1 })) if (typeof key === 'number') last = key;
  return {
    list() {
      const out: AlertRecord[] = [];
      for (const { key, value } of db.getRange({ snapshot: false })) if (typeof key === 'number') out.push(value);
      return out;
    },
    async put(record) {
      if (!Number.isSafeInteger(record.seq) || record.seq <= 0)
        throw new AppError('VALIDATION_FAILED', `alert seq must be a positive integer, got ${record.seq}`);
      if (record.seq > last) last = record.seq;
      await guard.commit('alerts.put', () => db.put(record.seq, record));
    },
    async delete(seq) {
      await guard.commit('alerts.delete', () => db.remove(seq));
    },
    nextSeq() {
      last += 1;
      return last;
    },
  };
}
