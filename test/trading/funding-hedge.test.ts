import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerpSettings } from '../../src/actors/engine/perp-settlement.js';
import { createFundingHedges } from '../../src/actors/funding-hedge.js';
import type { FundingPlan } from '../../src/machines/funding-guard.machine.js';
import type { SignalEffect } from '../../src/machines/symbol.machine.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { CROSS_PERP } from '../support/perp-settings.js';
import { boot, type EngineRig, engineRig, silent } from './engine-harness.js';
import { startVenue, until } from './support.js';

/**
 * The funding hedge's lifecycle against the simulator (real ccxt, LMDB, engine): a short-perp trim is hedged on
 * the BTC perpetual (never a spot sell), the hedge is its own position owner (the strategies' signals neither
 * size against nor close it), and it is unwound when the spike ends or the trimmed position is closed; the perp
 * book equals the venue at the end.
 */
let sim: Simulator;
const rigs: EngineRig[] = [];
const PERP: PerpSettings = CROSS_PERP;

beforeAll(async () => {
  sim = await startVenue(162);
}, 30_000);
afterAll(async () => {
  for (const r of rigs) await r.close().catch(() => undefined);
  await sim?.close();
});

const mark = (symbol: string) => Number(sim.prices('binance')[`binance:perp:${symbol}`]);
const spotPx = (symbol: string) => Number(sim.prices('binance')[`binance:spot:${symbol}`]);
const waitFor = (what: string, cond: () => boolean) => until(what, () => (cond() ? true : undefined), 15_000);

async function setup() {
  const r = await engineRig(sim, { futures: { USDT: 20_000 }, perp: PERP, limits: { maxNotionalUsdt: 300 } });
  rigs.push(r);
  await boot(r);
  r.engine.notePrice('binance', 'BTCUSDT', spotPx('BTCUSDT'));
  r.engine.notePrice('binance', 'ETHUSDT', spotPx('ETHUSDT'));
  const metrics = createMetrics({ defaultMetrics: false });
  const hedges = createFundingHedges({
    kv: r.store.kv,
    engine: r.engine,
    book: r.book,
    ...(r.perps ? { perps: r.perps } : {}),
    gateway: () => r.gateway,
    orders: () => r.store.orders.list(),
    minTradeUsdt: 10,
    maxNotionalUsdt: () => 300,
    metrics,
    log: silent,
    now: Date.now,
  });
  return { r, hedges, metrics };
}

const account = (r: EngineRig) => sim.state({ venue: 'binance', account: r.keys.apiKey }).accounts[0]!;
const venuePerp = (r: EngineRig, s: string) => account(r).futures.positions.find((p) => p.symbol === s)?.qty ?? 0;
const settled = (r: EngineRig) => waitFor('orders settled', () => r.engine.inflightCount() === 0);

const shortTrim = (symbol: string): FundingPlan => ({
  symbol,
  trim: { side: 'buy', amount: 0.01, notionalUsdt: 300 },
  // Above the USDⓈ-M minimum notional (100 USDT).
  hedge: { symbol: 'BTCUSDT', side: 'sell', quoteUsdt: 250 },
  ratePct: -0.5,
  key: `short:${symbol}`,
});

function signal(r: EngineRig, value: number): void {
  const e: SignalEffect = {
    venue: 'binance',
    symbol: 'BTCUSDT',
    price: mark('BTCUSDT'),
    at: Date.now(),
    t0: performance.now(),
    output: { strategy: 'hmm', signal: value, quoteMultiplier: 1 } as SignalEffect['output'],
    trading: 'ACTIVE',
  };
  r.engine.onSignal(e);
}

describe('funding hedge lifecycle', () => {
  it('a short-perp trim is hedged on the perpetual under its own owner; strategy signals leave it; unwound when the spike ends', async () => {
    const { r, hedges, metrics } = await setup();
    const spotBtc = account(r).spot.BTC?.free ?? 0;
    expect(await hedges.open('binance', shortTrim('ETHUSDT'))).toBe(true);
    await settled(r);
    const hedge = r.perps?.position('binance', 'BTCUSDT', 'hedge') ?? 0;
    expect(hedge).toBeLessThan(0);
    expect(venuePerp(r, 'BTCUSDT')).toBeCloseTo(hedge, 12);
    // Not a spot sell: the spot BTC is untouched.
    expect(account(r).spot.BTC?.free ?? 0).toBe(spotBtc);
    expect(hedges.records('binance')).toHaveLength(1);

    // The strategies go long and flat again on BTC: their share moves, the hedge's does not.
    signal(r, 1);
    await waitFor('strategies long', () => (r.perps?.position('binance', 'BTCUSDT', 'strategies') ?? 0) > 0);
    await settled(r);
    signal(r, 0);
    await waitFor('strategies flat', () => (r.perps?.position('binance', 'BTCUSDT', 'strategies') ?? 0) === 0);
    await settled(r);
    expect(r.perps?.position('binance', 'BTCUSDT', 'hedge')).toBeCloseTo(hedge, 12);
    expect(venuePerp(r, 'BTCUSDT')).toBeCloseTo(hedge, 12);

    // Still spiking: kept. The spike ends: unwound, the record gone, the venue flat.
    await hedges.review('binance', ['ETHUSDT']);
    expect(hedges.records('binance')).toHaveLength(0);
    // ETHUSDT has no position at the venue: "the trimmed position closed" ended it even while spiking.
    await settled(r);
    await waitFor('hedge unwound', () => (r.perps?.position('binance', 'BTCUSDT', 'hedge') ?? 0) === 0);
    await settled(r);
    expect(venuePerp(r, 'BTCUSDT')).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('funding_hedge_notional_usdt')).toMatch(/BTCUSDT/);
  });

  it('a hedge whose trimmed position is still open is kept while the spike lasts and unwound when it ends', async () => {
    const { r, hedges } = await setup();
    // A short ETH perp position of the operator's (not Bosun's): the trimmed position.
    const eth = await r.gateway.createOrder({
      clientOrderId: 'op-eth-short',
      symbol: 'ETHUSDT',
      side: 'sell',
      type: 'market',
      amount: 0.2,
      market: 'linear',
    });
    expect(eth.status).toBe('accepted');
    await r.engine.reconcileAll();
    expect(await hedges.open('binance', shortTrim('ETHUSDT'))).toBe(true);
    await settled(r);
    await hedges.review('binance', ['ETHUSDT']);
    expect(hedges.records('binance')).toHaveLength(1);
    expect(r.perps?.position('binance', 'BTCUSDT', 'hedge')).toBeLessThan(0);
    await hedges.review('binance', []);
    expect(hedges.records('binance')).toHaveLength(0);
    await waitFor('hedge unwound', () => (r.perps?.position('binance', 'BTCUSDT', 'hedge') ?? 0) === 0);
    await settled(r);
    await r.engine.reconcileAll();
    const book = r.engine.perpLedger('binance');
    for (const p of account(r).futures.positions) expect(book?.positions[p.symbol]?.qty ?? 0).toBeCloseTo(p.qty, 12);
    expect(book?.wallet).toBeCloseTo(account(r).futures.wallet.USDT ?? 0, 6);
    expect(r.halts).toEqual([]);
  });
});
