/**
 * A paper venue that survives restarts: the simulator with a state directory keeps accounts, orders (open and
 * closed, by clientOrderId), trades and its price path's position, writes them before it answers, and resumes
 * from them — seen through the real ccxt classes, as Bosun sees it after a restart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ccxt, { type Exchange } from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import type { BosunGateway } from '../../src/venues/index.js';
import {
  createManualClock,
  DEFAULT_MANUAL_START_MS,
  type ManualClock,
  type Simulator,
  startSimulator,
} from '../../src/venues/sim/index.js';
import { STATE_FILE } from '../../src/venues/sim/state-file.js';
import type { CreateOrderRequest, Order } from '../../src/venues/venue-gateway.js';
import { pointExchangeAt } from '../../src/venues/venue-urls.js';
import { cid, paperGateway, restingBuyPrice } from './gateway-harness.js';

const dirs: string[] = [];
const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Closes now what afterEach would close (a restart in the middle of a test). */
async function closeNow(...items: Array<{ close(): Promise<void> }>): Promise<void> {
  for (const o of items) {
    open.splice(open.indexOf(o), 1);
    await o.close();
  }
}

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bosun-sim-state-'));
  dirs.push(d);
  return d;
}

async function start(dir: string, clock: ManualClock, seed = 3): Promise<Simulator> {
  const sim = await startSimulator({ seed, clock, stateDir: dir });
  open.push(sim);
  return sim;
}

function gateway(sim: Simulator, venue: 'binance' | 'kraken'): BosunGateway {
  const gw = paperGateway(sim, venue);
  open.push(gw);
  return gw;
}

async function place(gw: BosunGateway, req: Omit<CreateOrderRequest, 'market'>): Promise<Order> {
  const r = await gw.createOrder({ ...req, market: 'spot' });
  if (r.status !== 'accepted') throw new Error(JSON.stringify(r));
  return r.order;
}

/** What a client sees of an order, minus fields that only say when it was read. */
const view = (o: Order) => ({
  id: o.id,
  clientOrderId: o.clientOrderId,
  status: o.status,
  filled: o.filled,
  price: o.price,
  amount: o.amount,
});

describe('a persistent simulator', () => {
  it('resumes accounts, open and closed orders, trades and prices after a restart, under the same keys', async () => {
    const dir = stateDir();
    const clock = createManualClock();
    const sim1 = await start(dir, clock);
    const keys = sim1.keys;
    const bn = gateway(sim1, 'binance');
    const kr = gateway(sim1, 'kraken');
    await Promise.all([bn.loadMarkets(), kr.loadMarkets()]);
    const fair = (k: string) => Number(sim1.prices()[k]);
    const ids = { bRest: cid('br'), bMkt: cid('bm'), kRest: cid('kr'), kMkt: cid('km') };
    const before = {
      bRest: await place(bn, {
        clientOrderId: ids.bRest,
        symbol: 'BTCUSDT',
        side: 'buy',
        type: 'limit',
        amount: 0.01,
        price: restingBuyPrice(bn, 'BTCUSDT', fair('binance:spot:BTCUSDT')),
      }),
      bMkt: await place(bn, { clientOrderId: ids.bMkt, symbol: 'ETHUSDT', side: 'buy', type: 'market', amount: 0.1 }),
      kRest: await place(kr, {
        clientOrderId: ids.kRest,
        symbol: 'BTCUSD',
        side: 'buy',
        type: 'limit',
        amount: 0.01,
        price: restingBuyPrice(kr, 'BTCUSD', fair('kraken:spot:XXBTZUSD')),
      }),
      kMkt: await place(kr, { clientOrderId: ids.kMkt, symbol: 'BTCUSD', side: 'sell', type: 'market', amount: 0.01 }),
    };
    const balances = { binance: await bn.fetchBalances('spot'), kraken: await kr.fetchBalances('spot') };
    const trades = {
      binance: await bn.fetchMyTrades({ symbol: 'ETHUSDT' }),
      kraken: await kr.fetchMyTrades({ symbol: 'BTCUSD' }),
    };
    await closeNow(bn, kr, sim1);

    // The venue was down for five minutes; its market went on.
    clock.advance(5 * 60_000);
    const sim2 = await start(dir, clock, 999);
    expect(sim2.restored).toBe(true);
    expect(sim2.seed).toBe(3);
    expect(sim2.keys).toEqual(keys);
    const bn2 = gateway(sim2, 'binance');
    const kr2 = gateway(sim2, 'kraken');
    await Promise.all([bn2.loadMarkets(), kr2.loadMarkets()]);

    for (const [key, gw, symbol] of [
      ['bRest', bn2, 'BTCUSDT'],
      ['bMkt', bn2, 'ETHUSDT'],
      ['kRest', kr2, 'BTCUSD'],
      ['kMkt', kr2, 'BTCUSD'],
    ] as const) {
      const o = await gw.fetchOrder({ symbol, clientOrderId: ids[key] });
      expect(view(o)).toEqual(view(before[key].status === 'open' ? before[key] : o));
      expect(o.id).toBe(before[key].id);
    }
    expect((await bn2.fetchOpenOrders('BTCUSDT')).map((o) => o.clientOrderId)).toEqual([ids.bRest]);
    expect((await kr2.fetchOpenOrders('BTCUSD')).map((o) => o.clientOrderId)).toEqual([ids.kRest]);
    expect(await bn2.fetchBalances('spot')).toEqual(balances.binance);
    expect(await kr2.fetchBalances('spot')).toEqual(balances.kraken);
    const strip = (ts: Awaited<ReturnType<BosunGateway['fetchMyTrades']>>) =>
      ts.map((t) => ({ id: t.id, orderId: t.orderId, price: t.price, amount: t.amount }));
    expect(strip(await bn2.fetchMyTrades({ symbol: 'ETHUSDT' }))).toEqual(strip(trades.binance));
    expect(strip(await kr2.fetchMyTrades({ symbol: 'BTCUSD' }))).toEqual(strip(trades.kraken));

    // New ids continue after the old ones: a venue never hands out an order id twice.
    const next = await place(bn2, {
      clientOrderId: cid('bn'),
      symbol: 'ETHUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.1,
    });
    expect(Number(next.id)).toBeGreaterThan(Number(before.bMkt.id));

    // Prices continued as if the venue had never stopped: a twin that kept running shows the same.
    const twin = await startSimulator({ seed: 3, clock: createManualClock(DEFAULT_MANUAL_START_MS) });
    open.push(twin);
    twin.advance(clock.now() - DEFAULT_MANUAL_START_MS);
    expect(sim2.prices()).toEqual(twin.prices());
  });

  it('has an accepted order on disk before the client reads the answer', async () => {
    const dir = stateDir();
    const sim = await start(dir, createManualClock());
    const bn = gateway(sim, 'binance');
    await bn.loadMarkets();
    const id = cid('dur');
    const o = await place(bn, { clientOrderId: id, symbol: 'ETHUSDT', side: 'buy', type: 'market', amount: 0.1 });
    // Read the file as a process restarted after a kill -9 at this instant would.
    const onDisk = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as {
      orders: Array<{ clientOrderId: string; venueOrderId: string; status: string }>;
      trades: Array<{ order: number }>;
    };
    expect(onDisk.orders.find((x) => x.clientOrderId === id)).toMatchObject({ venueOrderId: o.id, status: 'filled' });
    expect(onDisk.trades.length).toBeGreaterThan(0);
  });

  it('publishes a fill on the user-data stream only once it is on disk', async () => {
    const dir = stateDir();
    const sim = await start(dir, createManualClock());
    const ex = new ccxt.pro.binance({
      ...sim.keys.binance,
      options: { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false },
    }) as unknown as Exchange;
    pointExchangeAt(ex, sim.baseUrl);
    open.push({ close: () => ex.close() });
    await ex.loadHttpProxyAgent();
    await ex.loadMarkets();
    // authenticate() resolves on the subscribe acknowledgement; only then is an order certain to be streamed.
    await (ex as unknown as { authenticate(p: object): Promise<unknown> }).authenticate({ type: 'spot' });
    for (let i = 0; i < 5; i++) {
      const trades = ex.watchMyTrades('ETH/USDT');
      // Not awaited: the REST answer waits for the save anyway; the question is whether the stream does.
      const placed = ex.createOrder('ETH/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: cid(`ws${i}`) });
      const [t] = await trades;
      // Read the file as a process restarted after a kill -9 at the instant the fill was seen would.
      const onDisk = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as {
        orders: Array<{ venueOrderId: string; status: string }>;
        trades: unknown[];
      };
      expect(onDisk.orders.find((x) => x.venueOrderId === t?.order)?.status).toBe('filled');
      expect(onDisk.trades).toHaveLength(i + 1);
      await placed;
    }
  });

  it('a fresh state directory gets fresh keys; a corrupt state file stops the start (fail closed)', async () => {
    const a = await start(stateDir(), createManualClock());
    const b = await start(stateDir(), createManualClock());
    expect(a.restored).toBe(false);
    expect(b.keys.binance.apiKey).not.toBe(a.keys.binance.apiKey);
    const bad = stateDir();
    writeFileSync(join(bad, STATE_FILE), '{"format":1,"accounts":[');
    await expect(startSimulator({ clock: createManualClock(), stateDir: bad })).rejects.toThrow();
  });
});
