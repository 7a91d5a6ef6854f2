import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import type { KvPort } from '../../src/supervisor/runtime.js';

/** The real LMDB store's kv database, for benchmarks that include durable writes. */
export async function openBenchKv(dir: string): Promise<KvPort> {
  const store = await openStore({ dir: join(dir, 'db') });
  return store.kv;
}
