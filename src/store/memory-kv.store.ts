import { type Json, toJson } from './canonical-json.js';
import type { KvStore } from './kv.store.js';

/**
 * A `KvStore` held in memory, with no durability: what `bosun backtest` runs the live perp book on (a replay has
 * no state directory and nothing to survive). Values go through the same JSON check as the LMDB store's, so a
 * value the live store would refuse is refused here too.
 */
export function createMemoryKv(): KvStore {
  const m = new Map<string, Json>();
  return {
    get: <T = Json>(key: string) => m.get(key) as T | undefined,
    async put(key, value) {
      m.set(key, toJson(value, 'memory kv value'));
    },
    async delete(key) {
      return m.delete(key);
    },
    keys: (prefix = '') => [...m.keys()].filter((k) => k.startsWith(prefix)).sort(),
  };
}
