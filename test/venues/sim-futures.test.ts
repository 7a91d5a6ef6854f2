/**
 * USDⓈ-M perpetuals through the real `ccxt.binanceusdm` class: positions, leverage 1–5, funding paid at each
 * funding interval of the sim clock, reduce-only orders that can never grow a position, algo (trigger) orders.
 */
import type { Exchange } from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createManualClock,
  DEFAULT_MANUAL_START_MS,
  type Simulator,
  startSimulator,
} from '../../src/venues/sim/index.js';
import { rejectionOf, usdmClient } from './sim-ccxt.js';

const HOUR = 3_600_000;
const SYM = 'BTC/USDT:USDT';
let sim: Simulator;
let ex: Exchange;

/** Sim time to the next funding boundary (8 h multiples of epoch time). */
const toNextFunding = () => Math.ceil((sim.now() + 1) / (8 * HOUR)) * 8 * HOUR - sim.now();

const futures = () => sim.state({ venue: 'binance' }).accounts[0]!.futures;
const positionQty = () => futures().positions.find((p) => p.symbol === 'BTCUSDT')?.qty ?? 0;

beforeAll(async () => {
  // One hour after a funding boundary, so the next settlement is 7 h away.
  sim = await startSimulator({ seed: 5, clock: createManualClock(DEFAULT_MANUAL_START_MS + HOUR) });
  ex = usdmClient(sim);
  await ex.loadMarkets();
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

describe('ccxt.binanceusdm against the simulator', () => {
  it('lists linear perpetuals and the futures wallet', async () => {
    expect(ex.market(SYM)).toMatchObject({ swap: true, linear: true, settle: 'USDT', id: 'BTCUSDT' });
    const b = await ex.fetchBalance();
    expect(b.USDT).toMatchObject({ free: 100_000, total: 100_000 });
  });

  it('accepts leverage 1 to 5 and refuses more', async () => {
    for (const lev of [1, 5]) expect(((await ex.setLeverage(lev, SYM)) as { leverage?: number }).leverage).toBe(lev);
    const e = await rejectionOf(ex.setLeverage(6, SYM));
    expect(e.message).toContain('-4028');
    expect(futures().leverage).toEqual({ BTCUSDT: 5 });
  });

  it('opens a position and reports it through fetchPositions', async () => {
    await ex.setLeverage(2, SYM);
    const o = await ex.createOrder(SYM, 'market', 'buy', 0.1);
    expect(o).toMatchObject({ status: 'closed', filled: 0.1 });
    const [p] = await ex.fetchPositions([SYM]);
    expect(p).toMatchObject({ symbol: SYM, side: 'long', contracts: 0.1, entryPrice: o.average });
    expect(p?.initialMargin).toBeCloseTo((0.1 * p!.markPrice!) / 2, 4);
  });

  it('pays funding at every funding interval of the sim clock, at the rate and mark it publishes', async () => {
    await ex.createOrder(SYM, 'market', 'buy', 0.2);
    const wallet0 = futures().wallet.USDT!;
    const boundary = sim.now() + toNextFunding();
    sim.advance(toNextFunding() - 1000);
    expect(futures().fundingPaid).toHaveLength(0);
    sim.advance(1000);
    const paid = futures().fundingPaid;
    expect(paid).toHaveLength(1);
    expect(paid[0]!.time).toBe(boundary);
    const mark = futures().positions[0]!.markPrice;
    expect(paid[0]!.income).toBeCloseTo(-0.2 * mark * paid[0]!.rate!, 8);
    expect(futures().wallet.USDT).toBeCloseTo(wallet0 + paid[0]!.income, 6);
    sim.advance(8 * HOUR);
    expect(futures().fundingPaid).toHaveLength(2);
    const history = await ex.fetchFundingRateHistory(SYM, boundary);
    expect(history.slice(0, 2).map((h) => h.fundingRate)).toEqual(futures().fundingPaid.map((f) => f.rate));
    const income = await ex.fetchFundingHistory(SYM);
    expect(income.map((i) => i.amount)).toEqual(futures().fundingPaid.map((f) => f.income));
  });

  it('funding follows a funding spike and flips sign for shorts', async () => {
    sim.scenario({ kind: 'funding_spike', symbol: 'BTCUSDT', rate: 0.003 });
    expect((await ex.fetchFundingRate(SYM)).fundingRate).toBe(0.003);
    await ex.createOrder(SYM, 'market', 'sell', 0.1);
    sim.advance(toNextFunding());
    const [f] = futures().fundingPaid;
    expect(f?.rate).toBe(0.003);
    expect(f!.income).toBeGreaterThan(0);
  });

  it('never lets a reduce-only order increase a position', async () => {
    await ex.createOrder(SYM, 'market', 'buy', 0.1);
    const grow = await rejectionOf(ex.createOrder(SYM, 'market', 'buy', 0.05, undefined, { reduceOnly: true }));
    expect(grow.message).toContain('-2022');
    expect(positionQty()).toBe(0.1);
    const over = await ex.createOrder(SYM, 'market', 'sell', 0.3, undefined, { reduceOnly: true });
    expect(over.filled).toBe(0.1);
    expect(positionQty()).toBe(0);
    expect(await ex.fetchPositions([SYM]).then((ps) => ps.filter((p) => (p.contracts ?? 0) > 0))).toHaveLength(0);
    const none = await rejectionOf(ex.createOrder(SYM, 'market', 'sell', 0.1, undefined, { reduceOnly: true }));
    expect(none.message).toContain('-2022');
  });

  it('expires a resting reduce-only order once its position is gone instead of opening the other side', async () => {
    await ex.createOrder(SYM, 'market', 'buy', 0.1);
    const mark = futures().positions[0]!.markPrice;
    const ro = await ex.createOrder(SYM, 'limit', 'sell', 0.1, Math.round(mark * 1.02), { reduceOnly: true });
    await ex.createOrder(SYM, 'market', 'sell', 0.1);
    sim.setPrice({ market: 'perp', symbol: 'BTCUSDT', price: Math.round(mark * 1.03) });
    sim.advance(1000);
    expect((await ex.fetchOrder(ro.id!, SYM)).status).toBe('expired');
    expect(positionQty()).toBe(0);
  });

  it('places stop orders on the algo endpoints, triggers them and closes the position', async () => {
    await ex.createOrder(SYM, 'market', 'buy', 0.1);
    const mark = futures().positions[0]!.markPrice;
    const sl = await ex.createOrder(SYM, 'market', 'sell', 0.1, undefined, {
      stopLossPrice: Math.round(mark * 0.9),
      reduceOnly: true,
      clientOrderId: 'sl-1',
    });
    expect(sl).toMatchObject({ status: 'open', triggerPrice: Math.round(mark * 0.9), clientOrderId: 'sl-1' });
    const open = await ex.fetchOpenOrders(SYM, undefined, undefined, { trigger: true });
    expect(open.map((o) => o.id)).toEqual([sl.id]);
    sim.setPrice({ market: 'perp', symbol: 'BTCUSDT', price: Math.round(mark * 0.89) });
    sim.advance(1000);
    const algo = await ex.fetchOrder(sl.id!, SYM, { trigger: true });
    expect(algo.status).toBe('closed');
    expect(positionQty()).toBe(0);
    // As at Binance, the triggered order is a regular order under an id of its own (`actualOrderId`, a separate
    // sequence from algo ids) that keeps the clientAlgoId; its trade carries that id, not the algo id.
    const actual = String((algo.info as { actualOrderId?: string }).actualOrderId);
    expect(actual).not.toBe('');
    expect(actual).not.toBe(sl.id);
    const [trade] = (await ex.fetchMyTrades(SYM)).filter((t) => t.side === 'sell');
    expect(trade?.order).toBe(actual);
    expect(await ex.fetchOrder(actual, SYM)).toMatchObject({ id: actual, clientOrderId: 'sl-1', status: 'closed' });
    await expect(ex.fetchOrder(sl.id!, SYM)).rejects.toThrow(/-2013/);
  });

  it('serves open, closed and canceled orders, trades and funding rates', async () => {
    const lim = await ex.createOrder(SYM, 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'fl-1' });
    await ex.createOrder(SYM, 'limit', 'buy', 0.01, 49_000);
    await ex.createOrder(SYM, 'market', 'buy', 0.01);
    expect((await ex.fetchOpenOrders(SYM)).map((o) => o.clientOrderId)).toContain('fl-1');
    expect((await ex.fetchOrder('', SYM, { clientOrderId: 'fl-1' })).id).toBe(lim.id);
    expect((await ex.cancelOrder(lim.id!, SYM)).status).toBe('canceled');
    await ex.cancelAllOrders(SYM);
    expect(await ex.fetchOpenOrders(SYM)).toHaveLength(0);
    expect((await ex.fetchClosedOrders(SYM)).map((o) => o.filled)).toEqual([0.01]);
    const trades = await ex.fetchMyTrades(SYM);
    expect(trades).toHaveLength(1);
    expect(trades[0]?.fee?.currency).toBe('USDT');
    const rates = await ex.fetchFundingRates();
    expect(Object.keys(rates)).toContain(SYM);
    expect(rates[SYM]?.fundingTimestamp).toBe(sim.now() + toNextFunding());
  });

  it('refuses an order the margin cannot carry', async () => {
    await ex.setLeverage(1, SYM);
    const e = await rejectionOf(ex.createOrder(SYM, 'market', 'buy', 2));
    expect(e.message).toContain('-2019');
  });
});
