import type { KvStore } from './kv.store.js';

/**
 * The seen-set of accepted external events (by event id or signature), kept in LMDB so a captured event is refused
 * after a restart too: the in-memory cache it replaces forgot everything on restart, and two captured events were
 * accepted again. Each key is committed before the event is acknowledged (DESIGN §1). Entries live in `kv` under
 * one prefix with their expiry (epoch ms); expired entries are dropped as new ones arrive, at most a few per claim,
 * and never more than `maxEntries` are kept (the oldest go first).
 */
export interface ReplayStore {
  /** Records `key` until `expiresAt`; false (and nothing written) if it is already held and unexpired. */
  claim(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Forgets `key` (its event was refused after the claim, so a corrected resend is not a replay). */
  release(key: string): Promise<void>;
  size(): number;
}

const PREFIX = 'replay:';
const SWEEP_PER_CLAIM = 8;

export function createReplayStore(kv: KvStore, opts: { maxEntries: number; now?: () => number }): ReplayStore {
  // Expiry by key, in insertion order; loaded from LMDB at start (keys are read in key order, then sorted).
  const seen = new Map<string, number>();
  const now0 = (opts.now ?? Date.now)();
  const loaded: Array<[string, number]> = [];
  for (const k of kv.keys(PREFIX)) {
    const exp = kv.get<number>(k);
    if (typeof exp === 'number' && exp > now0) loaded.push([k.slice(PREFIX.length), exp]);
  }
  loaded.sort((a, b) => a[1] - b[1]);
  for (const [k, exp] of loaded) seen.set(k, exp);
  const stale = kv.keys(PREFIX).filter((k) => !seen.has(k.slice(PREFIX.length)));

  const drop = async (key: string) => {
    seen.delete(key);
    await kv.delete(PREFIX + key);
  };

  const sweep = async (now: number) => {
    let n = 0;
    while (stale.length > 0 && n < SWEEP_PER_CLAIM) {
      await kv.delete(stale.pop()!);
      n++;
    }
    for (const [k, exp] of seen) {
      if (exp > now || n >= SWEEP_PER_CLAIM) break;
      await drop(k);
      n++;
    }
  };

  return {
    async claim(key, expiresAt, now) {
      const exp = seen.get(key);
      if (exp !== undefined && exp > now) return false;
      await sweep(now);
      if (seen.size >= opts.maxEntries) {
        const oldest = seen.keys().next();
        if (!oldest.done) await drop(oldest.value);
      }
      // Claimed in memory first, so a concurrent duplicate is refused while the commit runs.
      seen.delete(key);
      seen.set(key, expiresAt);
      try {
        await kv.put(PREFIX + key, expiresAt);
      } catch (e) {
        seen.delete(key);
        throw e;
      }
      return true;
    },
    async release(key) {
      if (seen.has(key)) await drop(key);
    },
    size: () => seen.size,
  };
}
