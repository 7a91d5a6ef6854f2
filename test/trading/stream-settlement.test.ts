/**
 * Stream settlement (src/actors/engine/stream-settlement.ts) on the real engine, ledger and LMDB against the
 * simulator, with the test playing the user-data stream: the events it sends are built from the venue's own REST
 * answers (real trade ids), delivered the ways a stream can misbehave — every event twice, an order's partial fills
 * in reverse order, an order update naming a clientOrderId nobody has, a fill that REST reconciliation then reads
 * again. Each fill reaches the ledger exactly once, and the order settles once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KvStore } from '../../src/store/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import type { Order, Trade, VenueGateway } from '../../src/venues/venue-gateway.js';
import { boot, type EngineRig, engineRig, type RigOptions } from './engine-harness.js';
import { startVenue, until } from './support.js';

let sim: Simulator;
const rigs: EngineRig[] = [];

beforeAll(async () => {
  sim = await startVenue(181);
}, 30_000);
afterAll(async () => {
  for (const r of rigs) await r.close().catch(() => undefined);
  await sim?.close();
});

async function rig(o: RigOptions = {}): Promise<EngineRig> {
  const r = await engineRig(sim, { spot: { USDT: 1_000_000 }, limits: { maxNotionalUsdt: 200_000 }, ...o });
  rigs.push(r);
  await boot(r);
  // The spot stream is live: settlement waits for it before reading REST (the test is the stream).
  r.engine.setUserDataLive('binance', true, 'spot');
  return r;
}

const journalFills = (r: EngineRig, tradeId: string) =>
  [...r.store.journal.readFrom(1)].filter((e) => e.type === 'order.fill' && e.tradeId === tradeId).length;

const cidOf = (res: Awaited<ReturnType<EngineRig['engine']['submitOperator']>>) => {
  if (res.status !== 'accepted') throw new Error(`order not accepted: ${JSON.stringify(res)}`);
  return res.order.clientOrderId;
};

const streamFills = async (r: EngineRig) =>
  (await r.metrics.registry.getSingleMetric('engine_stream_fills_total')?.get())?.values.find(
    (v) => v.labels.venue === 'binance' && v.labels.market === 'spot',
  )?.value ?? 0;

describe('stream settlement', () => {
  it('applies each fill once through duplicates, reversed partial fills, an unknown order and a REST read of the same trades', async () => {
    const r = await rig();
    const btc0 = r.book.balance('binance', 'BTC');
    // Large enough to sweep several levels of the simulator's book: several trades (partial fills) for one order.
    const res = await r.engine.submitOperator({
      venue: 'binance',
      symbol: 'BTCUSDT',
      side: 'buy',
      quote: 150_000,
      actor: 'test',
    });
    const cid = cidOf(res);
    const rec = r.store.orders.get(cid);
    const venueId = String(rec?.venueOrderId);
    const trades: Trade[] = (await r.gateway.fetchMyTrades({ symbol: 'BTCUSDT', market: 'spot' })).filter(
      (t) => t.orderId === venueId,
    );
    expect(trades.length).toBeGreaterThanOrEqual(2);
    const total = trades.reduce((s, t) => s + t.amount, 0);
    const order: Order = await r.gateway.fetchOrder({ symbol: 'BTCUSDT', clientOrderId: cid, market: 'spot' });
    expect(order.status).toBe('closed');

    // Nobody's order: nothing to settle, nothing to apply, nothing thrown.
    r.engine.onUserData('binance', { type: 'order', order: { ...order, id: '999999', clientOrderId: 'nobody-1' } });
    // The partial fills last first, each twice; the final order update between them, twice.
    const reversed = [...trades].reverse();
    for (const [i, t] of reversed.entries()) {
      r.engine.onUserData('binance', { type: 'fill', trade: t, clientOrderId: cid });
      r.engine.onUserData('binance', { type: 'fill', trade: t, clientOrderId: cid });
      if (i === 0) {
        r.engine.onUserData('binance', { type: 'order', order });
        r.engine.onUserData('binance', { type: 'order', order });
      }
    }
    await until('the order settled', () => (r.engine.inflightCount() === 0 ? true : undefined), 10_000);
    expect(r.store.orders.get(cid)?.status).toBe('filled');
    expect(r.book.balance('binance', 'BTC') - btc0).toBeCloseTo(total - feesInBase(trades), 10);
    for (const t of trades) expect(journalFills(r, t.id)).toBe(1);
    // Every fill came by the stream.
    expect(await streamFills(r)).toBe(trades.length);

    // Reconciliation reads the same trades by REST: nothing new to apply.
    const rec2 = await r.engine.reconcileAll();
    expect(rec2.fillsApplied).toBe(0);
    for (const t of trades) expect(journalFills(r, t.id)).toBe(1);
    expect(r.book.balance('binance', 'BTC') - btc0).toBeCloseTo(total - feesInBase(trades), 10);
    expect(await streamFills(r)).toBe(trades.length);
    // The unknown order left no record behind.
    expect(r.store.orders.get('nobody-1')).toBeUndefined();
  }, 30_000);

  it('a fill REST settled first is not applied again when the stream brings it late', async () => {
    const r = await rig();
    // The stream is down while the order settles: REST applies its fills.
    r.engine.setUserDataLive('binance', false, 'spot');
    const res = await r.engine.submitOperator({
      venue: 'binance',
      symbol: 'ETHUSDT',
      side: 'buy',
      quote: 500,
      actor: 'test',
    });
    const cid = cidOf(res);
    await until('settled by REST', () => (r.engine.inflightCount() === 0 ? true : undefined), 10_000);
    const venueId = String(r.store.orders.get(cid)?.venueOrderId);
    const trades = (await r.gateway.fetchMyTrades({ symbol: 'ETHUSDT', market: 'spot' })).filter(
      (t) => t.orderId === venueId,
    );
    expect(trades.length).toBeGreaterThanOrEqual(1);
    const eth = r.book.balance('binance', 'ETH');
    // The stream comes back and replays them (a reconnect's cache): nothing moves.
    r.engine.setUserDataLive('binance', true, 'spot');
    for (const t of trades) r.engine.onUserData('binance', { type: 'fill', trade: t, clientOrderId: cid });
    await until('the replayed fills handled', async () =>
      trades.every((t) => r.book.hasTrade('binance', t.id)) ? true : undefined,
    );
    await r.engine.reconcileAll();
    expect(r.book.balance('binance', 'ETH')).toBe(eth);
    for (const t of trades) expect(journalFills(r, t.id)).toBe(1);
    expect(await streamFills(r)).toBe(0);
  }, 30_000);

  it('an order REST settled is not settled again when the stream brings its fills and end late', async () => {
    const settledEvents: string[] = [];
    const r = await rig({
      notify: (_v, _s, e) => {
        if (e.type === 'order.settled') settledEvents.push(String(e.clientOrderId));
      },
    });
    r.engine.setUserDataLive('binance', false, 'spot');
    const cid = cidOf(
      await r.engine.submitOperator({ venue: 'binance', symbol: 'ETHUSDT', side: 'buy', quote: 300, actor: 'test' }),
    );
    await until('settled by REST', () => (settledEvents.includes(cid) ? true : undefined), 10_000);
    const rec = r.store.orders.get(cid);
    const venueId = String(rec?.venueOrderId);
    const trades = (await r.gateway.fetchMyTrades({ symbol: 'ETHUSDT', market: 'spot' })).filter(
      (t) => t.orderId === venueId,
    );
    const order = await r.gateway.fetchOrder({ symbol: 'ETHUSDT', clientOrderId: cid, market: 'spot' });
    r.engine.setUserDataLive('binance', true, 'spot');
    for (const t of trades) r.engine.onUserData('binance', { type: 'fill', trade: t, clientOrderId: cid });
    r.engine.onUserData('binance', { type: 'order', order: { ...order, clientOrderId: cid } });
    // A barrier: the next order's settlement comes after whatever the late copies started.
    r.engine.setUserDataLive('binance', false, 'spot');
    const next = cidOf(
      await r.engine.submitOperator({ venue: 'binance', symbol: 'ETHUSDT', side: 'buy', quote: 300, actor: 'test' }),
    );
    await until('the next order settled', () => (settledEvents.includes(next) ? true : undefined), 10_000);
    expect(settledEvents.filter((c) => c === cid)).toHaveLength(1);
  }, 30_000);

  it('a duplicate fill does not settle its order before the first copy is durable', async () => {
    const held = commitHold();
    const settled: string[] = [];
    const r = await rig({
      wrapPortfolio: held.wrap,
      notify: (_v, _s, e) => {
        if (e.type === 'order.settled') settled.push(String(e.clientOrderId));
      },
    });
    const cid = cidOf(
      await r.engine.submitOperator({ venue: 'binance', symbol: 'ETHUSDT', side: 'buy', quote: 500, actor: 'test' }),
    );
    const venueId = String(r.store.orders.get(cid)?.venueOrderId);
    const trades = (await r.gateway.fetchMyTrades({ symbol: 'ETHUSDT', market: 'spot' })).filter(
      (t) => t.orderId === venueId,
    );
    expect(trades.length).toBeGreaterThanOrEqual(1);
    // The order's end first: settlement now waits for its fills only.
    r.engine.onUserData('binance', {
      type: 'order',
      order: await r.gateway.fetchOrder({ symbol: 'ETHUSDT', clientOrderId: cid, market: 'spot' }),
    });
    await until('the order is filled', () => (r.store.orders.get(cid)?.status === 'filled' ? true : undefined));

    held.hold();
    for (const t of trades) r.engine.onUserData('binance', { type: 'fill', trade: t, clientOrderId: cid });
    for (const t of trades) r.engine.onUserData('binance', { type: 'fill', trade: t, clientOrderId: cid });
    await settlesOnlyAfterCommit(r, held, trades, settled, cid);
  }, 30_000);

  it('a REST read of a fill the stream applied waits for that commit before the order settles', async () => {
    const held = commitHold();
    const settled: string[] = [];
    let restGate: Promise<void> | undefined;
    let restOpen: () => void = () => undefined;
    let restTrades: Trade[] | undefined;
    const r = await rig({
      wrapPortfolio: held.wrap,
      notify: (_v, _s, e) => {
        if (e.type === 'order.settled') settled.push(String(e.clientOrderId));
      },
      // Settlement's trade read is answered only once the stream's copy of the fills is applied.
      wrap: (gw) =>
        Object.create(gw, {
          fetchMyTrades: {
            value: async (...a: Parameters<VenueGateway['fetchMyTrades']>) => {
              const got = await gw.fetchMyTrades(...a);
              const g = restGate;
              if (g) {
                restTrades = got;
                await g;
              }
              return got;
            },
          },
        }),
    });
    // The stream is down: settlement reads REST.
    r.engine.setUserDataLive('binance', false, 'spot');
    restGate = new Promise<void>((resolve) => {
      restOpen = resolve;
    });
    const cid = cidOf(
      await r.engine.submitOperator({ venue: 'binance', symbol: 'ETHUSDT', side: 'buy', quote: 500, actor: 'test' }),
    );
    const got = await until('settlement read the trades', () => restTrades);
    const venueId = String(r.store.orders.get(cid)?.venueOrderId);
    const trades = got.filter((t) => t.orderId === venueId);
    expect(trades.length).toBeGreaterThanOrEqual(1);

    // The stream's copy first, its commit held; then settlement gets the same trades from REST.
    held.hold();
    for (const t of trades) r.engine.onUserData('binance', { type: 'fill', trade: t, clientOrderId: cid });
    restGate = undefined;
    restOpen();
    await settlesOnlyAfterCommit(r, held, trades, settled, cid);
  }, 30_000);
});

/**
 * The portfolio's commits land in LMDB as usual, but while held their promises resolve only at `release()`: to
 * Bosun, the commit of a fill is still in flight.
 */
function commitHold() {
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  return {
    wrap: (kv: KvStore): KvStore => ({
      get: (key) => kv.get(key),
      keys: (prefix) => kv.keys(prefix),
      delete: (key) => kv.delete(key),
      put(key, value) {
        const p = kv.put(key, value);
        const g = gate;
        return g ? p.then(() => g) : p;
      },
    }),
    hold() {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

/**
 * Everything the engine can do without a held commit is done: the continuations of this turn ran, and a write
 * issued after them (transactions commit in order) has committed, so every write they issued has too and its
 * waiters ran.
 */
async function quiet(r: EngineRig): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await r.store.kv.put('test:quiet', Date.now());
  await new Promise((resolve) => setImmediate(resolve));
}

/** Binance spot takes a buy's fee in the base asset: the ledger holds the amount less it. */
function feesInBase(trades: readonly Trade[]): number {
  return trades.reduce((s, t) => s + (t.fee?.currency === 'BTC' ? t.fee.cost : 0), 0);
}

/**
 * The fills are in the ledger in memory but their commit is held: nothing may act on them (no `order.settled`, the
 * order still in flight). Once the commit lands, the order settles and each fill is journaled once.
 */
async function settlesOnlyAfterCommit(
  r: Awaited<ReturnType<typeof rig>>,
  held: ReturnType<typeof commitHold>,
  trades: readonly Trade[],
  settled: readonly string[],
  cid: string,
): Promise<void> {
  await quiet(r);
  for (const t of trades) expect(r.book.hasTrade('binance', t.id)).toBe(true);
  expect(settled).toEqual([]);
  expect(r.engine.inflightCount()).toBe(1);
  held.release();
  await until('settled once the commit landed', () => (settled.includes(cid) ? true : undefined), 10_000);
  expect(r.engine.inflightCount()).toBe(0);
  for (const t of trades) expect(journalFills(r, t.id)).toBe(1);
}
