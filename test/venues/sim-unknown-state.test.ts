/**
 * An order the venue books and then answers with a 502: the client sees a failure (unknown state), yet the
 * order exists exactly once at the venue and is found by its clientOrderId — the recovery path the gateway
 * uses instead of a blind retry.
 */
import type { Exchange } from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { binanceClient, krakenClient, rejectionOf, usdmClient } from './sim-ccxt.js';

let sim: Simulator;
let binance: Exchange;
let usdm: Exchange;
let kraken: Exchange;

const ordersWith = (cid: string) => sim.state().orders.filter((o) => o.clientOrderId === cid);

beforeAll(async () => {
  sim = await startSimulator({ seed: 8, clock: createManualClock() });
  binance = binanceClient(sim);
  usdm = usdmClient(sim);
  kraken = krakenClient(sim);
  await Promise.all([binance.loadMarkets(), usdm.loadMarkets(), kraken.loadMarkets()]);
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

describe('accepted-then-502 orders', () => {
  it('Binance spot: one order at the venue, found by origClientOrderId', async () => {
    sim.faults.add({ kind: 'accept_then_502', venue: 'binance', path: '/api/v3/order', method: 'POST', count: 1 });
    const err = await rejectionOf(
      binance.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'u-502-1' }),
    );
    expect(err.constructor.name).toBe('ExchangeNotAvailable');
    expect(ordersWith('u-502-1')).toHaveLength(1);
    const found = await binance.fetchOrder('', 'BTC/USDT', { origClientOrderId: 'u-502-1' });
    expect(found).toMatchObject({ clientOrderId: 'u-502-1', status: 'open', amount: 0.01, price: 50_000 });
    expect(found.id).toBe(ordersWith('u-502-1')[0]!.id);
    expect(sim.requests().byPath['POST /api/v3/order']).toBe(1);
  });

  it('Binance spot: a filled market order answered 502 still shows its fills', async () => {
    sim.faults.add({ kind: 'accept_then_502', venue: 'binance', path: '/api/v3/order', count: 1 });
    await rejectionOf(binance.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'u-502-2' }));
    const found = await binance.fetchOrder('', 'BTC/USDT', { clientOrderId: 'u-502-2' });
    expect(found).toMatchObject({ status: 'closed', filled: 0.01 });
    expect(await binance.fetchMyTrades('BTC/USDT')).toHaveLength(found.trades.length || 1);
  });

  it('USDⓈ-M: one order at the venue, found by origClientOrderId', async () => {
    sim.faults.add({ kind: 'accept_then_502', venue: 'binance', path: '/fapi/v1/order', count: 1 });
    await rejectionOf(
      usdm.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'u-502-3' }),
    );
    expect(ordersWith('u-502-3')).toHaveLength(1);
    expect((await usdm.fetchOrder('', 'BTC/USDT:USDT', { origClientOrderId: 'u-502-3' })).filled).toBe(0.01);
  });

  it('Kraken: one order at the venue, found by cl_ord_id through OpenOrders and QueryOrders', async () => {
    sim.faults.add({ kind: 'accept_then_502', venue: 'kraken', path: '/0/private/AddOrder', count: 1 });
    const err = await rejectionOf(
      kraken.createOrder('BTC/USD', 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'u-502-4' }),
    );
    expect(err.constructor.name).toBe('ExchangeNotAvailable');
    expect(ordersWith('u-502-4')).toHaveLength(1);
    const open = await kraken.fetchOpenOrders(undefined, undefined, undefined, { cl_ord_id: 'u-502-4' });
    expect(open.map((o) => o.clientOrderId)).toEqual(['u-502-4']);
    const queried = await kraken.fetchOrder(open[0]!.id!, undefined, { cl_ord_id: 'u-502-4' });
    expect(queried.id).toBe(open[0]!.id);
  });

  it('the next create (not a retry) works normally once the fault is spent', async () => {
    sim.faults.add({ kind: 'accept_then_502', venue: 'binance', path: '/api/v3/order', count: 1 });
    await rejectionOf(binance.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'u-502-5' }));
    const ok = await binance.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'u-502-6' });
    expect(ok.status).toBe('open');
    expect(
      sim
        .state({ open: true })
        .orders.map((o) => o.clientOrderId)
        .sort(),
    ).toEqual(['u-502-5', 'u-502-6']);
  });
});

describe('dropped stop orders', () => {
  it('answers a stop as accepted but never stores nor triggers it', async () => {
    sim.faults.add({ kind: 'drop_stops', venue: 'binance' });
    const o = await binance.createOrder('BTC/USDT', 'market', 'sell', 0.01, undefined, {
      stopLossPrice: 40_000,
      clientOrderId: 'drop-1',
    });
    expect(o.id).toBeDefined();
    expect(ordersWith('drop-1')).toHaveLength(0);
    expect(await binance.fetchOpenOrders('BTC/USDT')).toHaveLength(0);
    const err = await rejectionOf(binance.fetchOrder(o.id!, 'BTC/USDT'));
    expect(err.constructor.name).toBe('OrderNotFound');
  });
});
