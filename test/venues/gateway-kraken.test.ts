/**
 * Every VenueGateway call against the simulator's Kraken dialect through the real ccxt `kraken` class, checked
 * against what the simulator holds — including Kraken's quirks: UUID `cl_ord_id`s, stops sent with
 * stopLossPrice/takeProfitPrice, AddOrder answering only an id, and CancelAll ignoring the symbol.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BosunGateway, toKrakenClientId } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { cid, paperGateway, requestStats, restingBuyPrice, sent, startTestSim } from './gateway-harness.js';

let sim: Simulator;
let gw: BosunGateway;

beforeAll(async () => {
  sim = await startTestSim(12);
  gw = paperGateway(sim, 'kraken');
  await gw.loadMarkets();
});

afterAll(async () => {
  await gw.close();
  await sim.close();
});

const fair = (key: string) => Number(sim.prices('kraken')[key]);
const simOrder = (clientOrderId: string) =>
  sim.state({ venue: 'kraken' }).orders.find((o) => o.clientOrderId === toKrakenClientId(clientOrderId));

describe('Kraken markets and market data', () => {
  it('loads spot markets under unified names (XXBTZUSD → BTCUSD) with filters; no linear market', () => {
    const spot = gw.markets('spot');
    expect(spot.BTCUSD).toMatchObject({ base: 'BTC', quote: 'USD', venueSymbol: 'BTC/USD' });
    expect(spot.BTCUSD!.tickSize).toBeGreaterThan(0);
    expect(spot.BTCUSD!.minQty).toBeGreaterThan(0);
    expect(spot.USDTUSD).toBeDefined();
    expect(gw.marketKinds).toEqual(['spot']);
    expect(gw.markets('linear')).toEqual({});
  });

  it('reads BalanceEx balances equal to the simulator account', async () => {
    const acct = sim.state({ venue: 'kraken', account: sim.keys.kraken.apiKey }).accounts[0]!;
    const b = await gw.fetchBalances();
    for (const [asset, v] of Object.entries(acct.spot)) {
      expect(b[asset]).toMatchObject({ total: v.free + v.locked, used: v.locked });
    }
  });

  it('reads tickers and the order book', async () => {
    const t = await gw.fetchTickers(['BTCUSD', 'ETHUSD']);
    expect(t.BTCUSD!.bid!).toBeLessThan(t.BTCUSD!.ask!);
    expect(t.BTCUSD!.last! / fair('kraken:spot:XXBTZUSD')).toBeCloseTo(1, 2);
    const book = await gw.fetchOrderBook('BTCUSD', 3);
    expect(book.bids).toHaveLength(3);
    expect(book.bids[0]![0]).toBeLessThan(book.asks[0]![0]);
  });

  it('has no funding or positions on a spot-only venue', async () => {
    expect(await gw.fetchPositions()).toEqual([]);
    await expect(gw.fetchFundingRate('BTCUSD')).rejects.toMatchObject({
      info: { code: 'NotSupported', kind: 'fatal' },
    });
  });
});

describe('Kraken orders', () => {
  it('books a limit order under a UUID cl_ord_id and maps it back to our clientOrderId', async () => {
    const id = cid('kl');
    const price = restingBuyPrice(gw, 'BTCUSD', fair('kraken:spot:XXBTZUSD'));
    const before = await requestStats(sim);
    const r = await gw.createOrder({
      clientOrderId: id,
      symbol: 'BTCUSD',
      side: 'buy',
      type: 'limit',
      amount: 0.01,
      price,
      market: 'spot',
    });
    if (r.status !== 'accepted') throw new Error(JSON.stringify(r));
    // AddOrder answers only txid + description: the gateway asked QueryOrders for the rest.
    expect(sent(await requestStats(sim), before, 'POST /0/private/QueryOrders')).toBe(1);
    expect(r.order).toMatchObject({
      clientOrderId: id,
      venueClientOrderId: toKrakenClientId(id),
      status: 'open',
      ackOnly: false,
      price,
    });
    expect(simOrder(id)).toMatchObject({ id: r.order.id, status: 'new' });

    expect(await gw.fetchOrder({ symbol: 'BTCUSD', id: r.order.id })).toMatchObject({
      clientOrderId: id,
      type: 'limit',
    });
    expect(await gw.fetchOrder({ symbol: 'BTCUSD', clientOrderId: id })).toMatchObject({ id: r.order.id });
    expect((await gw.fetchOpenOrders('BTCUSD')).map((o) => o.clientOrderId)).toContain(id);

    expect(await gw.cancelOrder({ symbol: 'BTCUSD', clientOrderId: id })).toBeNull(); // Kraken echoes a count only
    expect(simOrder(id)?.status).toBe('canceled');
  });

  it('fills a market order and lists it in TradesHistory', async () => {
    const r = await gw.createOrder({
      clientOrderId: cid('km'),
      symbol: 'BTCUSD',
      side: 'buy',
      type: 'market',
      amount: 0.002,
      market: 'spot',
    });
    if (r.status !== 'accepted') throw new Error(JSON.stringify(r));
    expect(r.order).toMatchObject({ status: 'closed', filled: 0.002 });
    const trades = await gw.fetchMyTrades({ since: sim.now() - 60_000 });
    expect(trades.filter((t) => t.orderId === r.order.id).reduce((a, t) => a + t.amount, 0)).toBeCloseTo(0.002, 8);
  });

  it('sends stop-loss and take-profit as Kraken stop order types, with their triggers', async () => {
    const ref = fair('kraken:spot:XXBTZUSD');
    const sl = await gw.createOrder({
      clientOrderId: cid('ks'),
      symbol: 'BTCUSD',
      side: 'sell',
      type: 'stop_loss',
      amount: 0.001,
      stopPrice: Math.round(ref * 0.8),
      market: 'spot',
    });
    const tp = await gw.createOrder({
      clientOrderId: cid('kt'),
      symbol: 'BTCUSD',
      side: 'sell',
      type: 'take_profit_limit',
      amount: 0.001,
      stopPrice: Math.round(ref * 1.2),
      price: Math.round(ref * 1.19),
      market: 'spot',
    });
    expect(sl).toMatchObject({ status: 'accepted', order: { type: 'stop_loss', stopPrice: Math.round(ref * 0.8) } });
    expect(tp).toMatchObject({
      status: 'accepted',
      order: { type: 'take_profit_limit', stopPrice: Math.round(ref * 1.2) },
    });
    const types = sim.state({ venue: 'kraken', open: true }).orders.map((o) => o.type);
    expect(types).toEqual(expect.arrayContaining(['stop-loss', 'take-profit-limit']));
  });

  it('cancels one symbol order by order (CancelAll would hit every pair), then everything with CancelAll', async () => {
    const eth = restingBuyPrice(gw, 'ETHUSD', fair('kraken:spot:XETHZUSD'));
    await gw.createOrder({
      clientOrderId: cid('ke'),
      symbol: 'ETHUSD',
      side: 'buy',
      type: 'limit',
      amount: 0.01,
      price: eth,
      market: 'spot',
    });
    const btcOpen = await gw.fetchOpenOrders('BTCUSD');
    expect(btcOpen.length).toBeGreaterThan(0);
    const before = await requestStats(sim);
    expect(await gw.cancelAllOrders('BTCUSD')).toBe(btcOpen.length);
    const after = await requestStats(sim);
    expect(sent(after, before, 'POST /0/private/CancelAll')).toBe(0);
    expect(await gw.fetchOpenOrders('BTCUSD')).toEqual([]);
    expect((await gw.fetchOpenOrders('ETHUSD')).length).toBe(1);

    expect(await gw.cancelAllOrders()).toBe(1);
    expect(sim.state({ venue: 'kraken', open: true }).orders).toEqual([]);
  });

  it('rejects an order below the minimum as fatal without touching the simulator book', async () => {
    const r = await gw.createOrder({
      clientOrderId: cid('kn'),
      symbol: 'BTCUSD',
      side: 'buy',
      type: 'market',
      amount: 1e-8,
      market: 'spot',
    });
    expect(r).toMatchObject({ status: 'rejected', error: { kind: 'fatal' } });
  });
});
