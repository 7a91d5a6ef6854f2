/**
 * Binance spot through the real `ccxt.binance` class: every call the gateway uses succeeds and parses to the
 * values the simulator holds. A manual clock keeps prices still unless a test moves them.
 */
import type { Exchange } from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { binanceClient, rejectionOf } from './sim-ccxt.js';

let sim: Simulator;
let ex: Exchange;

const fair = (id: string) => Number(sim.prices('binance')[`binance:spot:${id}`]);
const spot = () => sim.state({ venue: 'binance' }).accounts[0]!.spot;

beforeAll(async () => {
  sim = await startSimulator({ seed: 21, clock: createManualClock() });
  ex = binanceClient(sim);
  await ex.loadMarkets();
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

describe('ccxt.binance against the simulator', () => {
  it('loads spot and USDⓈ-M markets with the filters as precision and limits', () => {
    for (const s of ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BTC/USDC', 'USDT/USDC', 'BTC/USDT:USDT'])
      expect(ex.markets?.[s], s).toBeDefined();
    const m = ex.market('BTC/USDT');
    expect(m.precision).toMatchObject({ price: 0.01, amount: 0.00001 });
    expect(m.limits.amount?.min).toBe(0.0001);
    expect(m.limits.cost?.min).toBe(5);
    expect(ex.market('BTC/USDT:USDT')).toMatchObject({ swap: true, linear: true, settle: 'USDT' });
  });

  it('fetches the balance the simulator holds', async () => {
    const b = await ex.fetchBalance();
    expect(b.USDT).toMatchObject({ free: 100_000, used: 0, total: 100_000 });
    expect(b.BTC?.total).toBe(spot().BTC?.free);
  });

  it('fetches tickers and a book around the fair price', async () => {
    const t = await ex.fetchTicker('BTC/USDT');
    expect(t.last).toBe(fair('BTCUSDT'));
    expect(t.bid!).toBeLessThan(t.last!);
    expect(t.ask!).toBeGreaterThan(t.last!);
    const ts = await ex.fetchTickers(['BTC/USDT', 'ETH/USDT', 'USDT/USDC']);
    expect(Object.keys(ts).sort()).toEqual(['BTC/USDT', 'ETH/USDT', 'USDT/USDC']);
    expect(ts['USDT/USDC']!.last).toBeCloseTo(1, 2);
    const book = await ex.fetchOrderBook('BTC/USDT', 5);
    expect(book.bids).toHaveLength(5);
    expect(book.bids[0]![0]).toBe(t.bid);
    expect(book.asks[0]![0]).toBe(t.ask);
    const bidPrices = book.bids.map((l) => l[0]!);
    expect([...bidPrices].sort((a, b) => b - a)).toEqual(bidPrices);
  });

  it('fills a market buy from the book and books it on the balance with the fee in BTC', async () => {
    const o = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.05, undefined, { clientOrderId: 'mkt-1' });
    expect(o).toMatchObject({ status: 'closed', filled: 0.05, clientOrderId: 'mkt-1', side: 'buy', type: 'market' });
    expect(o.fee).toMatchObject({ currency: 'BTC', cost: 0.00005 });
    const b = await ex.fetchBalance();
    expect(b.BTC?.free).toBeCloseTo(2 + 0.05 - 0.00005, 10);
    expect(b.USDT?.free).toBeCloseTo(100_000 - o.cost!, 6);
    expect(b.USDT?.free).toBe(spot().USDT?.free);
    const trades = await ex.fetchMyTrades('BTC/USDT');
    expect(trades.reduce((s, t) => s + t.amount!, 0)).toBeCloseTo(0.05, 10);
    expect(trades.every((t) => t.order === o.id && t.takerOrMaker === 'taker')).toBe(true);
  });

  it('buys by cost (quoteOrderQty)', async () => {
    const o = await ex.createMarketBuyOrderWithCost('BTC/USDT', 600);
    expect(o.status).toBe('closed');
    expect(o.cost!).toBeLessThanOrEqual(600);
    expect(o.cost!).toBeGreaterThan(590);
  });

  it('rests a limit order, finds it by id and by clientOrderId, and cancels it releasing the hold', async () => {
    const o = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'lim-1' });
    expect(o.status).toBe('open');
    expect((await ex.fetchBalance()).USDT?.used).toBe(500);
    const open = await ex.fetchOpenOrders('BTC/USDT');
    expect(open.map((x) => x.id)).toEqual([o.id]);
    expect((await ex.fetchOrder(o.id!, 'BTC/USDT')).clientOrderId).toBe('lim-1');
    expect((await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'lim-1' })).id).toBe(o.id);
    const c = await ex.cancelOrder(o.id!, 'BTC/USDT');
    expect(c.status).toBe('canceled');
    expect((await ex.fetchBalance()).USDT).toMatchObject({ free: 100_000, used: 0 });
  });

  it('fills a resting limit as maker once the price trades through it', async () => {
    const px = Math.round(fair('BTCUSDT') * 0.99);
    const o = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, px);
    sim.setPrice({ symbol: 'BTCUSDT', price: px - 50 });
    sim.advance(1000);
    const f = await ex.fetchOrder(o.id!, 'BTC/USDT');
    expect(f).toMatchObject({ status: 'closed', filled: 0.01, average: px });
    const [t] = await ex.fetchMyTrades('BTC/USDT');
    expect(t?.takerOrMaker).toBe('maker');
  });

  it('accepts post-only below the market and rejects it when it would take', async () => {
    const o = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000, { postOnly: true });
    expect(o).toMatchObject({ status: 'open', postOnly: true });
    const err = await rejectionOf(
      ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, Math.round(fair('BTCUSDT') * 1.01), { postOnly: true }),
    );
    expect(err.constructor.name).toBe('OrderImmediatelyFillable');
  });

  it('triggers stop-loss and take-profit orders, market and limit, when the price crosses', async () => {
    const p = fair('BTCUSDT');
    const sl = await ex.createOrder('BTC/USDT', 'market', 'sell', 0.01, undefined, {
      stopLossPrice: Math.round(p * 0.95),
    });
    const sll = await ex.createOrder('BTC/USDT', 'limit', 'sell', 0.01, Math.round(p * 0.94), {
      stopLossPrice: Math.round(p * 0.95),
    });
    const tp = await ex.createOrder('BTC/USDT', 'market', 'sell', 0.01, undefined, {
      takeProfitPrice: Math.round(p * 1.05),
    });
    const tpl = await ex.createOrder('BTC/USDT', 'limit', 'sell', 0.01, Math.round(p * 1.05), {
      takeProfitPrice: Math.round(p * 1.05),
    });
    const open = await ex.fetchOpenOrders('BTC/USDT');
    expect(open.map((o) => o.info.type).sort()).toEqual([
      'STOP_LOSS',
      'STOP_LOSS_LIMIT',
      'TAKE_PROFIT',
      'TAKE_PROFIT_LIMIT',
    ]);
    expect(open.find((o) => o.id === sl.id)?.triggerPrice).toBe(Math.round(p * 0.95));
    sim.setPrice({ symbol: 'BTCUSDT', price: Math.round(p * 0.945) });
    sim.advance(1000);
    expect((await ex.fetchOrder(sl.id!, 'BTC/USDT')).status).toBe('closed');
    expect((await ex.fetchOrder(sll.id!, 'BTC/USDT')).status).toBe('closed');
    expect((await ex.fetchOrder(tp.id!, 'BTC/USDT')).status).toBe('open');
    sim.setPrice({ symbol: 'BTCUSDT', price: Math.round(p * 1.06) });
    sim.advance(1000);
    expect((await ex.fetchOrder(tp.id!, 'BTC/USDT')).status).toBe('closed');
    expect((await ex.fetchOrder(tpl.id!, 'BTC/USDT')).filled).toBe(0.01);
  });

  it('cancels all open orders of a symbol and lists closed ones', async () => {
    await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000);
    await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 49_000);
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01);
    const canceled = await ex.cancelAllOrders('BTC/USDT');
    expect(canceled).toHaveLength(2);
    expect(await ex.fetchOpenOrders('BTC/USDT')).toHaveLength(0);
    const closed = await ex.fetchClosedOrders('BTC/USDT');
    expect(closed.map((o) => o.status)).toEqual(['closed']);
    const all = await ex.fetchOrders('BTC/USDT');
    expect(all.map((o) => o.status).sort()).toEqual(['canceled', 'canceled', 'closed']);
  });

  it('fills only what the finite book holds: a large market order expires partially filled', async () => {
    sim.setBalances({ venue: 'binance', spot: { USDT: 50_000_000 } });
    const o = await ex.createOrder('BTC/USDT', 'market', 'buy', 100);
    expect(o.status).toBe('expired');
    expect(o.filled!).toBeGreaterThan(0);
    expect(o.filled!).toBeLessThan(100);
    expect(o.average!).toBeGreaterThan(fair('BTCUSDT'));
  });

  it('rejects unknown parameters (-1104) and a bad decimal (-1100) as BadRequest', async () => {
    const e1 = await rejectionOf(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000, { foo: 'bar' }));
    expect(e1.message).toContain('-1104');
    expect(e1.constructor.name).toBe('BadRequest');
    const e2 = await rejectionOf(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000, { quantity: '1e-3' }));
    expect(e2.message).toContain('-1100');
  });

  it('rejects a duplicate newClientOrderId among open orders', async () => {
    await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'dup-1' });
    const e = await rejectionOf(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'dup-1' }));
    expect(e.message).toContain('Duplicate order sent.');
  });
});
