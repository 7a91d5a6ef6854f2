/**
 * Every VenueGateway call against the simulator's Binance dialect through the real ccxt `binance` (spot) and
 * `binanceusdm` (USDⓈ-M) classes, checked against what the simulator holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BosunGateway } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { cid, paperGateway, requestStats, restingBuyPrice, sent, startTestSim } from './gateway-harness.js';

let sim: Simulator;
let gw: BosunGateway;

beforeAll(async () => {
  sim = await startTestSim(11);
  gw = paperGateway(sim, 'binance');
  await gw.loadMarkets();
});

afterAll(async () => {
  await gw.close();
  await sim.close();
});

const simAccount = () => sim.state({ venue: 'binance', account: sim.keys.binance.apiKey }).accounts[0]!;
const fair = (key: string) => Number(sim.prices('binance')[key]);

describe('Binance markets and market data', () => {
  it('loads spot and USDⓈ-M markets with their filters, keyed by Bosun symbol', () => {
    const spot = gw.markets('spot');
    const linear = gw.markets('linear');
    expect(spot.BTCUSDT).toMatchObject({
      market: 'spot',
      base: 'BTC',
      quote: 'USDT',
      venueSymbol: 'BTC/USDT',
      active: true,
    });
    expect(linear.BTCUSDT).toMatchObject({ market: 'linear', venueSymbol: 'BTC/USDT:USDT' });
    for (const m of [spot.BTCUSDT!, linear.BTCUSDT!]) {
      expect(m.minQty).toBeGreaterThan(0);
      expect(m.stepSize).toBeGreaterThan(0);
      expect(m.tickSize).toBeGreaterThan(0);
      expect(m.minNotional).toBeGreaterThan(0);
    }
    expect(spot.USDTUSDC).toBeDefined(); // the depeg guard's market
  });

  it('hands out one frozen record per market kind, not a copy per call (it is on the tick and order paths)', async () => {
    // A copy per call made the price book's valuation O(symbols²): at 1,000 symbols it held the event loop long
    // enough for every stream's keepalive to time out (stream tick→order bench, stop 27).
    const spot = gw.markets('spot');
    expect(gw.markets('spot')).toBe(spot);
    expect(gw.markets('linear')).toBe(gw.markets('linear'));
    expect(Object.isFrozen(spot)).toBe(true);
    expect(() => {
      (spot as Record<string, unknown>).XYZUSDT = spot.BTCUSDT;
    }).toThrow(TypeError);
    // A reload builds a new record with the same markets.
    await gw.loadMarkets(true);
    expect(gw.markets('spot')).not.toBe(spot);
    expect(Object.keys(gw.markets('spot')).sort()).toEqual(Object.keys(spot).sort());
  });

  it('reads spot and futures balances equal to the simulator account', async () => {
    const acct = simAccount();
    const spot = await gw.fetchBalances('spot');
    for (const [asset, b] of Object.entries(acct.spot)) {
      expect(spot[asset]).toMatchObject({ free: b.free, used: b.locked, total: b.free + b.locked });
    }
    const futures = await gw.fetchBalances('linear');
    expect(futures.USDT?.total).toBeCloseTo(acct.futures.wallet.USDT ?? Number.NaN, 6);
  });

  it('reads tickers around the fair price, stamped with the receive time', async () => {
    const before = Date.now();
    const t = await gw.fetchTickers(['BTCUSDT', 'ETHUSDT']);
    const after = Date.now();
    expect(Object.keys(t).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    const btc = t.BTCUSDT!;
    expect(btc.bid!).toBeLessThan(btc.ask!);
    expect(btc.last! / fair('binance:spot:BTCUSDT')).toBeCloseTo(1, 2);
    expect(btc.receivedAt).toBeGreaterThanOrEqual(before);
    expect(btc.receivedAt).toBeLessThanOrEqual(after);
    const perp = await gw.fetchTickers(['BTCUSDT'], 'linear');
    expect(perp.BTCUSDT?.market).toBe('linear');
  });

  it('leaves unlisted symbols out of a ticker answer instead of failing the whole poll', async () => {
    const t = await gw.fetchTickers(['BTCUSDT', 'NOPEUSDT']);
    expect(Object.keys(t)).toEqual(['BTCUSDT']);
    expect(await gw.fetchTickers(['NOPEUSDT'])).toEqual({});
  });

  it('reads an order book of the asked depth, best bid under best ask', async () => {
    const b = await gw.fetchOrderBook('BTCUSDT', 5);
    expect(b.bids.length).toBeGreaterThan(0);
    expect(b.bids.length).toBeLessThanOrEqual(5);
    expect(b.bids[0]![0]).toBeLessThan(b.asks[0]![0]);
    expect(b.bids[0]![0]).toBeGreaterThan(b.bids.at(-1)![0] - 1e-9);
    const perp = await gw.fetchOrderBook('BTCUSDT', 7, 'linear'); // USDⓈ-M takes only 5/10/20…: asked 10, cut to 7
    expect(perp.asks.length).toBe(7);
  });

  it('reads funding rates from premiumIndex', async () => {
    const one = await gw.fetchFundingRate('BTCUSDT');
    expect(Number.isFinite(one.rate)).toBe(true);
    expect(one.nextFundingTime).toBeGreaterThan(sim.now());
    const all = await gw.fetchFundingRates(['BTCUSDT', 'ETHUSDT']);
    expect(Object.keys(all).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(all.BTCUSDT?.rate).toBe(one.rate);
  });
});

describe('Binance spot orders', () => {
  it('creates a resting limit order with our clientOrderId, finds it by id and by clientOrderId, then cancels it', async () => {
    const id = cid('bl');
    const price = restingBuyPrice(gw, 'BTCUSDT', fair('binance:spot:BTCUSDT'));
    const r = await gw.createOrder({
      clientOrderId: id,
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'limit',
      amount: 0.01,
      price,
      market: 'spot',
    });
    if (r.status !== 'accepted') throw new Error(JSON.stringify(r));
    expect(r.order).toMatchObject({ clientOrderId: id, status: 'open', type: 'limit', price, amount: 0.01, filled: 0 });
    expect(sim.state({ venue: 'binance', open: true }).orders.find((o) => o.clientOrderId === id)).toMatchObject({
      id: r.order.id,
    });

    expect(await gw.fetchOrder({ symbol: 'BTCUSDT', id: r.order.id })).toMatchObject({
      clientOrderId: id,
      status: 'open',
    });
    expect(await gw.fetchOrder({ symbol: 'BTCUSDT', clientOrderId: id })).toMatchObject({ id: r.order.id });
    expect((await gw.fetchOpenOrders('BTCUSDT')).map((o) => o.clientOrderId)).toContain(id);

    const canceled = await gw.cancelOrder({ symbol: 'BTCUSDT', clientOrderId: id });
    expect(canceled).toMatchObject({ id: r.order.id, clientOrderId: id, status: 'canceled' });
    expect(sim.state({ venue: 'binance' }).orders.find((o) => o.clientOrderId === id)?.status).toBe('canceled');
  });

  it("leaves pacing to Bosun's budget: ccxt's own throttle holds no call, so an order behind a heavy read goes at once", async () => {
    // ccxt's leaky bucket is one FIFO queue: every call waited out the cost of the calls before it (live, an order
    // after the all-symbol open orders waited 16 × 50 ms). The budget charges every call by the venue's limits.
    const throttled: string[] = [];
    for (const m of gw.members) {
      const ex = m.exchange as unknown as { enableRateLimit: boolean; throttle: (cost?: number) => Promise<unknown> };
      expect(ex.enableRateLimit).toBe(false);
      const original = ex.throttle.bind(ex);
      ex.throttle = (cost?: number) => {
        throttled.push(`${m.exchange.id} ${cost}`);
        return original(cost);
      };
    }
    await gw.fetchOpenOrders();
    const r = await gw.createOrder({
      clientOrderId: cid('bt'),
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.001,
      market: 'spot',
    });
    expect(r.status).toBe('accepted');
    expect(throttled).toEqual([]);
    // What the budget charged instead (Binance's weights: open orders of every symbol 80, the order 1).
    expect(gw.members[0]?.pressure()).toBeGreaterThan(0);
  });

  it('fills a market order and reports the fill in my trades', async () => {
    const id = cid('bm');
    const r = await gw.createOrder({
      clientOrderId: id,
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.002,
      market: 'spot',
    });
    if (r.status !== 'accepted') throw new Error(JSON.stringify(r));
    expect(r.order).toMatchObject({ status: 'closed', filled: 0.002, remaining: 0, price: expect.any(Number) });
    const trades = await gw.fetchMyTrades({ symbol: 'BTCUSDT', market: 'spot' });
    const mine = trades.filter((t) => t.orderId === r.order.id);
    expect(mine.reduce((a, t) => a + t.amount, 0)).toBeCloseTo(0.002, 8);
    expect(mine[0]).toMatchObject({ symbol: 'BTCUSDT', market: 'spot', side: 'buy', maker: false });
  });

  it('sends stops as STOP_LOSS_LIMIT with their trigger, and post-only as LIMIT_MAKER', async () => {
    const ref = fair('binance:spot:BTCUSDT');
    const tick = gw.markets('spot').BTCUSDT!.tickSize;
    const trigger = Math.round((ref * 0.8) / tick) * tick;
    const stop = await gw.createOrder({
      clientOrderId: cid('bs'),
      symbol: 'BTCUSDT',
      side: 'sell',
      type: 'stop_loss_limit',
      amount: 0.001,
      price: trigger - 10 * tick,
      stopPrice: trigger,
      market: 'spot',
    });
    expect(stop).toMatchObject({
      status: 'accepted',
      order: { type: 'stop_loss_limit', stopPrice: trigger, status: 'open' },
    });
    const maker = await gw.createOrder({
      clientOrderId: cid('bp'),
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'limit',
      postOnly: true,
      amount: 0.001,
      price: restingBuyPrice(gw, 'BTCUSDT', ref),
      market: 'spot',
    });
    expect(maker).toMatchObject({ status: 'accepted', order: { postOnly: true } });
    const types = sim.state({ venue: 'binance', open: true }).orders.map((o) => o.type);
    expect(types).toEqual(expect.arrayContaining(['STOP_LOSS_LIMIT', 'LIMIT_MAKER']));
  });

  it('rejects an insufficient-funds order as fatal with the venue reason', async () => {
    const r = await gw.createOrder({
      clientOrderId: cid('bf'),
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 50,
      market: 'spot',
    });
    expect(r).toMatchObject({
      status: 'rejected',
      error: { kind: 'fatal', code: 'InsufficientFunds', tag: 'insufficient_funds' },
    });
  });

  it('cancels every open spot order, one DELETE per symbol with open orders', async () => {
    const before = await requestStats(sim);
    const open = await gw.fetchOpenOrders(undefined, 'spot');
    expect(open.length).toBeGreaterThan(0);
    expect(await gw.cancelAllOrders(undefined, 'spot')).toBe(open.length);
    expect(await gw.fetchOpenOrders(undefined, 'spot')).toEqual([]);
    const after = await requestStats(sim);
    expect(sent(after, before, 'DELETE /api/v3/openOrders')).toBe(new Set(open.map((o) => o.symbol)).size);
  });
});

describe('Binance USDⓈ-M orders and positions', () => {
  it('opens a long, reads the position the simulator holds, and refuses a reduce-only order that would grow it', async () => {
    const r = await gw.createOrder({
      clientOrderId: cid('fl'),
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.01,
      market: 'linear',
    });
    expect(r).toMatchObject({ status: 'accepted', order: { market: 'linear', status: 'closed', filled: 0.01 } });
    const [pos] = await gw.fetchPositions(['BTCUSDT']);
    const held = simAccount().futures.positions.find((p) => p.symbol === 'BTCUSDT')!;
    expect(pos).toMatchObject({ symbol: 'BTCUSDT', market: 'linear', side: 'long', amount: held.qty });
    expect(pos!.entryPrice).toBeCloseTo(held.entryPrice, 6);

    const grow = await gw.createOrder({
      clientOrderId: cid('fr'),
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.01,
      reduceOnly: true,
      market: 'linear',
    });
    expect(grow).toMatchObject({ status: 'rejected', error: { kind: 'fatal', tag: 'invalid_order' } });
    const shrink = await gw.createOrder({
      clientOrderId: cid('fs'),
      symbol: 'BTCUSDT',
      side: 'sell',
      type: 'market',
      amount: 0.004,
      reduceOnly: true,
      market: 'linear',
    });
    expect(shrink).toMatchObject({ status: 'accepted', order: { reduceOnly: true } });
    const [after] = await gw.fetchPositions(['BTCUSDT']);
    expect(after?.amount).toBeCloseTo(0.006, 8);
    const trades = await gw.fetchMyTrades({ symbol: 'BTCUSDT', market: 'linear' });
    expect(trades.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps a protective stop in the Algo book and finds, lists and cancels it there', async () => {
    const id = cid('fx');
    const stopPrice = Math.round(fair('binance:perp:BTCUSDT') * 0.8);
    const r = await gw.createOrder({
      clientOrderId: id,
      symbol: 'BTCUSDT',
      side: 'sell',
      type: 'stop_loss',
      amount: 0.006,
      stopPrice,
      reduceOnly: true,
      market: 'linear',
    });
    if (r.status !== 'accepted') throw new Error(JSON.stringify(r));
    expect(r.order.id).toMatch(/^algo:/);
    expect(r.order).toMatchObject({ type: 'stop_loss', stopPrice, reduceOnly: true });
    expect((await gw.fetchOpenOrders('BTCUSDT', 'linear')).map((o) => o.id)).toContain(r.order.id);
    expect(await gw.fetchOrder({ symbol: 'BTCUSDT', market: 'linear', clientOrderId: id })).toMatchObject({
      id: r.order.id,
    });
    expect(await gw.cancelOrder({ symbol: 'BTCUSDT', market: 'linear', id: r.order.id })).toMatchObject({
      status: 'canceled',
    });
  });

  it('sweeps open orders of both kinds when no market is given', async () => {
    const stopPrice = Math.round(fair('binance:perp:BTCUSDT') * 0.8);
    await gw.createOrder({
      clientOrderId: cid('fy'),
      symbol: 'BTCUSDT',
      side: 'sell',
      type: 'stop_loss',
      amount: 0.006,
      stopPrice,
      reduceOnly: true,
      market: 'linear',
    });
    const price = restingBuyPrice(gw, 'ETHUSDT', fair('binance:spot:ETHUSDT'));
    await gw.createOrder({
      clientOrderId: cid('sy'),
      symbol: 'ETHUSDT',
      side: 'buy',
      type: 'limit',
      amount: 0.01,
      price,
      market: 'spot',
    });
    const open = await gw.fetchOpenOrders();
    expect(new Set(open.map((o) => o.market))).toEqual(new Set(['spot', 'linear']));
    expect(await gw.cancelAllOrders()).toBe(open.length);
    expect(sim.state({ venue: 'binance', open: true }).orders).toEqual([]);
  });
});
