import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { orderRecord } from '../../test/support/order-record.js';
import { isOpenOrder, type OrderInput } from './orders.store.js';
import { openStore, type Store } from './store.js';

const dirs: string[] = [];
const opened: Store[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openAt(dir: string) {
  const store = await openStore({ dir, now: () => 1_000 });
  opened.push(store);
  return store;
}

function freshDir() {
  const dir = join(mkdtempSync(join(tmpdir(), 'bosun-orders-')), 'db');
  dirs.push(dir);
  return dir;
}

/** Writes `value` under `key` straight into the environment's `orders` database, past the store's parse. */
async function writeRaw(dir: string, key: string, value: unknown) {
  const root = open({ path: dir });
  await root.openDB({ name: 'orders' }).put(key, value);
  await root.close();
}

describe('orders store', () => {
  it('lists open orders: every status short of filled, cancelled or rejected', async () => {
    const store = await openAt(freshDir());
    const statuses = ['intent', 'acknowledged', 'partially_filled', 'unknown', 'filled', 'cancelled', 'rejected'];
    await Promise.all(
      statuses.map((status, i) =>
        store.orders.put(orderRecord({ clientOrderId: `o${i}`, status: status as OrderInput['status'] })),
      ),
    );
    expect(
      store.orders
        .listOpen()
        .map((o) => o.status)
        .sort(),
    ).toEqual(['acknowledged', 'intent', 'partially_filled', 'unknown']);
    expect(isOpenOrder({ status: 'filled' })).toBe(false);
  });

  it('refuses to write a record that is not an order record, naming the field', async () => {
    const store = await openAt(freshDir());
    const bad = [
      { ...orderRecord({ clientOrderId: '' }) },
      { ...orderRecord({ clientOrderId: 'x1' }), status: 'new' },
      { ...orderRecord({ clientOrderId: 'x2' }), qty: 1 },
      { ...orderRecord({ clientOrderId: 'x3' }), amount: Number.NaN },
    ];
    const fields = ['clientOrderId', 'status', 'qty', 'amount'];
    for (const [i, rec] of bad.entries())
      await expect(store.orders.put(rec as OrderInput)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining(fields[i] as string),
      });
    expect([...store.orders.list()]).toEqual([]);
  });

  it('reads back exactly the typed record it wrote, across a reopen', async () => {
    const dir = freshDir();
    const store = await openAt(dir);
    const rec = orderRecord({ clientOrderId: 'bn-1', status: 'acknowledged', venueOrderId: '42', limitPrice: null });
    await store.orders.put(rec);
    await store.close();
    const again = await openAt(dir);
    expect(again.orders.get('bn-1')).toEqual(rec);
    expect(again.orders.listOpen()).toEqual([rec]);
  });

  it('refuses to open over a stored record that does not parse, naming its key (boot fails closed)', async () => {
    const dir = freshDir();
    const store = await openAt(dir);
    await store.orders.put(orderRecord({ clientOrderId: 'ok-1' }));
    await store.close();
    // An open order whose amount was lost: left out of the open index it would hold no slot and never be resolved.
    const { amount: _, ...noAmount } = orderRecord({ clientOrderId: 'bosun-o-bBTCUSDT-7', status: 'acknowledged' });
    await writeRaw(dir, 'bosun-o-bBTCUSDT-7', noAmount);
    await expect(openAt(dir)).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: expect.stringMatching(/"bosun-o-bBTCUSDT-7".*amount/),
    });
  });

  it('refuses a record filed under another clientOrderId', async () => {
    const dir = freshDir();
    await writeRaw(dir, 'a-1', orderRecord({ clientOrderId: 'b-2', status: 'filled' }));
    await expect(openAt(dir)).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: expect.stringContaining('"a-1"'),
    });
  });

  it('parses what get and list read from LMDB: a record corrupted after open is refused, not returned', async () => {
    const dir = freshDir();
    const store = await openAt(dir);
    await store.orders.put(orderRecord({ clientOrderId: 'done-1', status: 'filled', filled: 0.001 }));
    await writeRaw(dir, 'done-1', { clientOrderId: 'done-1', status: 'filled', updatedAt: 1 });
    expect(() => store.orders.get('done-1')).toThrow(/"done-1"/);
    expect(() => [...store.orders.list()]).toThrow(/"done-1"/);
  });
});
