import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { orderRecord } from '../../test/support/order-record.js';
import { openStore, type Store } from './store.js';

const dirs: string[] = [];
const opened: Store[] = [];

async function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-store-'));
  dirs.push(dir);
  const reopen = async () => {
    const store = await openStore({ dir: join(dir, 'db'), now: () => 1_000 });
    opened.push(store);
    return store;
  };
  return { store: await reopen(), reopen };
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('store', () => {
  it('keeps kv values, orders, portfolio and actor snapshots across a restart', async () => {
    const { store, reopen } = await fixture();
    await store.kv.put('governance', { global: 'HALTED', reason: 'kill' });
    await store.portfolio.put('baseline', { cashUsd: 1000, seq: 12 });
    await store.orders.put(orderRecord({ clientOrderId: 'bn-1', updatedAt: 5 }));
    await store.snapshots.saveSnapshot('breaker:binance', { value: { breaker: 'open' }, context: { fails: 5 } });
    await store.close();

    const again = await reopen();
    expect(again.kv.get('governance')).toEqual({ global: 'HALTED', reason: 'kill' });
    expect(again.portfolio.get('baseline')).toEqual({ cashUsd: 1000, seq: 12 });
    expect(again.orders.get('bn-1')).toEqual(orderRecord({ clientOrderId: 'bn-1', updatedAt: 5 }));
    expect(again.snapshots.loadSnapshot('breaker:binance')).toEqual({
      value: { breaker: 'open' },
      context: { fails: 5 },
    });
    expect(again.snapshots.loadEntry('breaker:binance')).toMatchObject({ savedAt: 1_000 });
    expect(again.snapshots.systemIds()).toEqual(['breaker:binance']);
  });

  it('deletes kv keys and lists them by prefix', async () => {
    const { store } = await fixture();
    await Promise.all([store.kv.put('gov.a', 1), store.kv.put('gov.b', 2), store.kv.put('ops.token', 'h')]);
    expect(store.kv.keys('gov.')).toEqual(['gov.a', 'gov.b']);
    expect(await store.kv.delete('gov.a')).toBe(true);
    expect(store.kv.get('gov.a')).toBeUndefined();
    expect(await store.kv.delete('gov.a')).toBe(false);
    await store.snapshots.saveSnapshot('guard:depeg', { x: 1 });
    await store.snapshots.deleteSnapshot('guard:depeg');
    expect(store.snapshots.loadSnapshot('guard:depeg')).toBeUndefined();
  });

  it('refuses writes once closed, with STORE_FAILED and without calling onFatal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-store-'));
    dirs.push(dir);
    const fatal: unknown[] = [];
    const store = await openStore({ dir, onFatal: (e) => fatal.push(e) });
    const pending = store.journal.append({ type: 'last.words' });
    await store.close();
    expect(await pending).toEqual({ seq: 1 });
    expect(store.state).toBe('closed');
    await expect(store.kv.put('k', 1)).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(store.journal.append({ type: 'late' })).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(fatal).toEqual([]);
  });

  it('runs without a logs directory and refuses exportJsonl there', async () => {
    const { store } = await fixture();
    await store.journal.append({ type: 'x' });
    await expect(store.exportJsonl()).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('reports an environment it cannot open as STORE_FAILED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-store-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    await expect(openStore({ dir: join(dir, 'not-a-dir', 'db') })).rejects.toMatchObject({ code: 'STORE_FAILED' });
  });
});
