/**
 * Kraken spot through the real `ccxt.kraken` class: Kraken's names (XXBT, XBTUSD), its order types, cl_ord_id,
 * fees in quote, and strict parameters.
 */
import type { Exchange } from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { krakenClient, rejectionOf } from './sim-ccxt.js';

let sim: Simulator;
let ex: Exchange;

const fair = (id: string) => Number(sim.prices('kraken')[`kraken:spot:${id}`]);
const account = () => sim.state({ venue: 'kraken' }).accounts[0]!;

beforeAll(async () => {
  sim = await startSimulator({ seed: 33, clock: createManualClock() });
  ex = krakenClient(sim);
  await ex.loadMarkets();
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

describe('ccxt.kraken against the simulator', () => {
  it("loads pairs in Kraken's naming, unified by ccxt", () => {
    expect(ex.market('BTC/USD')).toMatchObject({ id: 'XXBTZUSD', baseId: 'BTC', quote: 'USD' });
    expect(ex.market('BTC/USD').info.altname).toBe('XBTUSD');
    expect(ex.market('DOGE/USD').info.base).toBe('XXDG');
    for (const s of ['ETH/USD', 'BTC/USDT', 'BTC/USDC', 'USDT/USD', 'USDC/USDT'])
      expect(ex.markets?.[s], s).toBeDefined();
    expect(ex.market('BTC/USD').precision.price).toBe(0.1);
  });

  it('fetches BalanceEx as the simulator holds it', async () => {
    const b = await ex.fetchBalance();
    expect(b.USD).toMatchObject({ total: 100_000, used: 0 });
    expect(b.BTC?.total).toBe(account().spot.BTC?.free);
  });

  it('fetches ticker, tickers and depth around the fair price', async () => {
    const t = await ex.fetchTicker('BTC/USD');
    expect(t.last).toBe(fair('XXBTZUSD'));
    expect(t.bid!).toBeLessThan(t.ask!);
    const ts = await ex.fetchTickers(['BTC/USD', 'ETH/USD']);
    expect(Object.keys(ts).sort()).toEqual(['BTC/USD', 'ETH/USD']);
    const book = await ex.fetchOrderBook('BTC/USD', 3);
    expect(book.asks).toHaveLength(3);
    expect(book.asks[0]![0]).toBe(t.ask);
  });

  it('fills a market order, charging the taker fee in USD, and finds it by cl_ord_id', async () => {
    const o = await ex.createOrder('BTC/USD', 'market', 'buy', 0.02, undefined, { clientOrderId: 'km-1' });
    expect(o.id).toMatch(/^O[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$/);
    const f = await ex.fetchOrder(o.id!);
    expect(f).toMatchObject({ status: 'closed', filled: 0.02, clientOrderId: 'km-1' });
    expect(f.fee?.currency).toBe('USD');
    expect(f.fee?.cost).toBeCloseTo(f.cost! * 0.0026, 6);
    const b = await ex.fetchBalance();
    expect(b.BTC?.total).toBeCloseTo(2.02, 10);
    expect(b.USD?.total).toBeCloseTo(100_000 - f.cost! - f.fee!.cost!, 3); // ZUSD has 4 decimals
    const trades = await ex.fetchMyTrades('BTC/USD');
    expect(trades.map((t) => t.order)).toEqual(trades.map(() => o.id));
  });

  it('rests limit, post-only and stop orders with their trigger prices, then cancels them', async () => {
    const p = fair('XXBTZUSD');
    const lim = await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'kl-1' });
    await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, 49_000, { postOnly: true });
    await ex.createOrder('BTC/USD', 'market', 'sell', 0.01, undefined, { stopLossPrice: Math.round(p * 0.9) });
    await ex.createOrder('BTC/USD', 'limit', 'sell', 0.01, Math.round(p * 0.89), {
      stopLossPrice: Math.round(p * 0.9),
    });
    await ex.createOrder('BTC/USD', 'market', 'sell', 0.01, undefined, { takeProfitPrice: Math.round(p * 1.1) });
    await ex.createOrder('BTC/USD', 'limit', 'sell', 0.01, Math.round(p * 1.1), {
      takeProfitPrice: Math.round(p * 1.1),
    });
    const open = await ex.fetchOpenOrders();
    expect(open.map((o) => o.info.descr.ordertype).sort()).toEqual([
      'limit',
      'limit',
      'stop-loss',
      'stop-loss-limit',
      'take-profit',
      'take-profit-limit',
    ]);
    expect(open.find((o) => o.info.descr.ordertype === 'stop-loss')?.triggerPrice).toBe(Math.round(p * 0.9));
    expect((await ex.fetchBalance()).USD?.used).toBeGreaterThan(0);
    const byCl = await ex.fetchOpenOrders(undefined, undefined, undefined, { cl_ord_id: 'kl-1' });
    expect(byCl.map((o) => o.id)).toEqual([lim.id]);
    await ex.cancelOrder(lim.id!);
    expect((await ex.fetchOrder(lim.id!)).status).toBe('canceled');
    await ex.cancelAllOrders();
    expect(await ex.fetchOpenOrders()).toHaveLength(0);
    expect((await ex.fetchBalance()).USD?.used).toBe(0);
  });

  it('cancels a post-only order that would take, as Kraken does', async () => {
    const o = await ex.createOrder('BTC/USD', 'limit', 'buy', 0.01, Math.round(fair('XXBTZUSD') * 1.02), {
      postOnly: true,
    });
    const f = await ex.fetchOrder(o.id!);
    expect(f.status).toBe('canceled');
    expect(f.info.reason).toBe('Post only order');
  });

  it('triggers a stop-loss when the price falls through it', async () => {
    const p = fair('XXBTZUSD');
    const sl = await ex.createOrder('BTC/USD', 'market', 'sell', 0.01, undefined, {
      stopLossPrice: Math.round(p * 0.95),
    });
    sim.setPrice({ venue: 'kraken', symbol: 'XXBTZUSD', price: Math.round(p * 0.94) });
    sim.advance(1000);
    expect(await ex.fetchOrder(sl.id!)).toMatchObject({ status: 'closed', filled: 0.01 });
    expect((await ex.fetchClosedOrders()).map((o) => o.id)).toContain(sl.id);
  });

  it('rejects parameters Kraken does not know (ccxt passes triggerPrice through raw)', async () => {
    const e = await rejectionOf(ex.createOrder('BTC/USD', 'market', 'sell', 0.01, undefined, { triggerPrice: 50_000 }));
    expect(e.message).toContain('EGeneral:Invalid arguments');
    expect(e.constructor.name).toBe('BadRequest');
    expect(account().spot.BTC?.free).toBe(2);
  });

  it('answers an unknown txid on QueryOrders with EOrder:Invalid order', async () => {
    const e = await rejectionOf(ex.fetchOrder('OAAAAA-BBBBB-CCCCCC'));
    expect(e.message).toContain('EOrder:Invalid order');
  });
});
