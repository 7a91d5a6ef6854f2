import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createLogger } from '../logging/logger.js';
import { openStore } from '../store/index.js';
import { createGuardStates } from './guard-state.js';

const log = createLogger({ level: 'silent', stdout: false }).log;

it('hands a guard its latest state at every spawn: at once in the same turn, and from LMDB after a restart', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'bosun-guard-state-')), 'db');
  const store = await openStore({ dir });
  const states = createGuardStates({ kv: store.kv, prefix: 'guard:', log });
  const input = states.spawnInput('guard:depeg:binance', { venue: 'binance' });
  expect(input).toEqual({ venue: 'binance', persisted: undefined });
  states.publish('guard:depeg:binance', { tripped: true });
  // Same turn: the put has not committed, so LMDB does not have it yet; the spawn input does.
  expect(store.kv.get('guard:guard:depeg:binance')).toBeUndefined();
  expect(input.persisted).toEqual({ tripped: true });
  states.publish('guard:depeg:binance', { tripped: false, rearms: 1 });
  expect(input.persisted).toEqual({ tripped: false, rearms: 1 });
  await store.close();
  // A new process: nothing in memory, the last committed state comes from LMDB under the same key.
  const again = await openStore({ dir });
  const fresh = createGuardStates({ kv: again.kv, prefix: 'guard:', log });
  expect(fresh.spawnInput('guard:depeg:binance', { venue: 'binance' }).persisted).toEqual({
    tripped: false,
    rearms: 1,
  });
  expect(fresh.read('guard:funding:binance')).toBeUndefined();
  await again.close();
});
