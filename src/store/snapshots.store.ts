import type { Database } from 'lmdb';
import { AppError } from '../domain/errors.js';
import { type Json, toJson } from './canonical-json.js';
import type { CommitGuard } from './commit-guard.js';

/** A persisted actor snapshot with when it was saved. */
export interface StoredSnapshot {
  systemId: string;
  savedAt: number;
  snapshot: Json;
}

/**
 * Persisted snapshots of money-guarding actors (breakers, guards, governance), by XState `systemId`, so a restart
 * restores them as they were and never more permissive (DESIGN §1, §6). Snapshots must be plain JSON
 * (STYLE: machine context is plain JSON), which `getPersistedSnapshot()` gives.
 */
export interface SnapshotsStore {
  /** Saves an actor's persisted snapshot; resolves after the durable commit. */
  saveSnapshot(systemId: string, snapshot: unknown): Promise<void>;
  /** The last saved snapshot, or undefined. */
  loadSnapshot<T = Json>(systemId: string): T | undefined;
  /** The snapshot with its metadata, or undefined. */
  loadEntry(systemId: string): StoredSnapshot | undefined;
  /** Forgets an actor's snapshot; resolves after the durable commit. */
  deleteSnapshot(systemId: string): Promise<void>;
  /** Every systemId with a snapshot, in order. */
  systemIds(): string[];
}

export function createSnapshotsStore(
  db: Database<StoredSnapshot, string>,
  guard: CommitGuard,
  now: () => number,
): SnapshotsStore {
  const checkId = (systemId: string): void => {
    if (typeof systemId !== 'string' || systemId.length === 0 || systemId.length > 500)
      throw new AppError('VALIDATION_FAILED', 'systemId must be a string of 1-500 characters');
  };
  return {
    async saveSnapshot(systemId, snapshot) {
      checkId(systemId);
      const entry: StoredSnapshot = { systemId, savedAt: now(), snapshot: toJson(snapshot, 'actor snapshot') };
      await guard.commit('actors.saveSnapshot', () => db.put(systemId, entry));
    },
    loadSnapshot<T = Json>(systemId: string): T | undefined {
      checkId(systemId);
      return db.get(systemId)?.snapshot as T | undefined;
    },
    loadEntry(systemId) {
      checkId(systemId);
      return db.get(systemId);
    },
    async deleteSnapshot(systemId) {
      checkId(systemId);
      await guard.commit('actors.deleteSnapshot', () => db.remove(systemId));
    },
    systemIds() {
      return [...db.getKeys({ snapshot: false })].filter((k): k is string => typeof k === 'string');
    },
  };
}
