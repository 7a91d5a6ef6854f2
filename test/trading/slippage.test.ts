import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOrderView } from '../../src/actors/engine/order-entry.js';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { boot, type EngineRig, engineRig } from './engine-harness.js';
import { until } from './support.js';

/**
 * Slippage on every order (issue #16 item 2): a market order on a thin simulated book walks several levels, and
 * its measured slippage equals the book walk computed here, independently, from the book the venue showed before
 * the order (the sim clock is frozen, so the book does not change in between).
 */
let sim: Simulator;
let r: EngineRig;

beforeAll(async () => {
  sim = await startSimulator({
    host: '127.0.0.1',
    port: 0,
    seed: 16,
    // Frozen at wall time: the engine asks for its trades since the order's (wall-clock) creation.
    clock: createManualClock(Date.now()),
    // Four levels of ~150 USDT on each side, 10 bps apart: a 700 USDT order walks most of them.
    book: { levels: 6, levelNotional: 150, spreadBps: 4, gapBps: 10 },
  });
  r = await engineRig(sim, { spot: { USDT: 100_000, BTC: 0.05 } });
  await boot(r);
}, 30_000);
afterAll(async () => {
  await r?.close();
  await sim?.close();
});

/** The average price of taking `qty` from `levels` best first (the book walk), computed from the venue's book. */
function bookWalk(levels: ReadonlyArray<[number, number]>, qty: number): number {
  let left = qty;
  let cost = 0;
  for (const [price, size] of levels) {
    const q = Math.min(size, left);
    cost += q * price;
    left -= q;
    if (left <= 1e-12) break;
  }
  if (left > 1e-9) throw new Error('the book is shallower than the order');
  return cost / qty;
}

async function measured(side: 'buy' | 'sell', quote: number) {
  const book = await r.gateway.fetchOrderBook('BTCUSDT', 20);
  const [bid] = book.bids[0] as [number, number];
  const [ask] = book.asks[0] as [number, number];
  const mid = (bid + ask) / 2;
  // The tick the feed would deliver: the engine's arrival price is the latest tick's mid.
  r.engine.notePrice('binance', 'BTCUSDT', mid);
  const res = await r.engine.submitOperator({ venue: 'binance', symbol: 'BTCUSDT', side, quote, actor: 'test' });
  expect(res.status).toBe('accepted');
  const cid = res.order?.clientOrderId as string;
  // Until its journal entry has committed, not only the record: `orders.get` answers a put before its commit.
  const rec = await until('the order slippage, journaled', () => {
    const x = r.store.orders.get(cid);
    if (!x?.slippage) return undefined;
    const journaled = [...r.store.journal.readFrom(0)].some(
      (e) => e.type === 'order.slippage' && e.clientOrderId === cid,
    );
    return journaled ? x : undefined;
  });
  const amount = Number(rec.amount);
  const walk = bookWalk(side === 'buy' ? book.asks : book.bids, amount);
  const expectedBps = ((side === 'buy' ? walk - mid : mid - walk) / mid) * 1e4;
  return { rec, mid, walk, expectedBps, levelsWalked: book.asks.filter(([p]) => p <= walk).length };
}

describe('order slippage', () => {
  it('a market buy on a thin book costs exactly the book walk against the mid, in bps', async () => {
    const m = await measured('buy', 700);
    const view = toOrderView(m.rec);
    expect(view.slippage?.liquidity).toBe('taker');
    expect(view.slippage?.decisionMid).toBeCloseTo(m.mid, 8);
    expect(view.slippage?.averagePrice).toBeCloseTo(m.walk, 6);
    // To the bps (the record keeps hundredths).
    expect(Math.abs((view.slippage?.sendBps ?? Number.NaN) - m.expectedBps)).toBeLessThan(0.01);
    expect(Math.abs((view.slippage?.decisionBps ?? Number.NaN) - m.expectedBps)).toBeLessThan(0.01);
    // The walk crossed more than the first level: the figure is the book's depth, not the half spread.
    expect(m.expectedBps).toBeGreaterThan(10);
    // The histogram got it, labelled by market and liquidity (observed once the record's commit resolved).
    const series =
      'order_slippage_bps_count{venue="binance",market="spot",symbol="BTCUSDT",side="buy",strategy="operator",liquidity="taker"} 1';
    await until('the histogram sample', async () =>
      (await r.metrics.registry.metrics()).includes(series) ? true : undefined,
    );
  });

  it('a market sell is signed the other way: below the mid is a cost', async () => {
    const m = await measured('sell', 700);
    const s = toOrderView(m.rec).slippage;
    expect(s?.sendBps).toBeGreaterThan(10);
    expect(Math.abs((s?.sendBps ?? Number.NaN) - m.expectedBps)).toBeLessThan(0.01);
  });

  it('the numbers are journaled as order.slippage (mirrored to orders.jsonl)', () => {
    const entries = [...r.store.journal.readFrom(0)].filter((e) => e.type === 'order.slippage');
    expect(entries).toHaveLength(2);
    const first = entries[0] as unknown as { slippage: { sendBps: number; liquidity: string }; market: string };
    expect(first.market).toBe('spot');
    expect(first.slippage.liquidity).toBe('taker');
  });
});
