import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelOwnEntries } from '../../src/actors/engine/halt-cancel.js';
import type { PerpSettings } from '../../src/actors/engine/perp-settlement.js';
import { perpStopOptions } from '../../src/actors/engine-wiring.js';
import { createStopValidator, type StopValidator } from '../../src/actors/stop-validator.actors.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { usdmClient } from '../venues/sim-ccxt.js';
import {
  boot,
  type EngineRig,
  engineRig,
  frozenMarketRig,
  ISOLATED_PERP,
  perpOrder,
  silent,
} from './engine-harness.js';
import { startVenue, until } from './support.js';

/**
 * Perpetual positions under the stop validator, isolated margin and reduce-only minimums, on the simulator through
 * real ccxt (`binanceusdm`) and LMDB: every perpetual position (long or short, one-way mode) keeps one reduce-only
 * STOP_MARKET on its closing side, replaced when the position flips or grows, cancelled when it closes, and left
 * alone by a kill and by the fatal path; the configured margin mode and leverage reach the venue before the first
 * perpetual order on a symbol; the venue's liquidation price follows Binance's formula and the liquidation rail
 * uses it; reduce-only perpetual orders are exempt from MIN_NOTIONAL at the venue and in the rails (-4164).
 */
let sim: Simulator;
const rigs: EngineRig[] = [];
const PERP: PerpSettings = ISOLATED_PERP;
const STOP_PCT = 5;

beforeAll(async () => {
  sim = await startVenue(167);
}, 30_000);
afterAll(async () => {
  for (const r of rigs) await r.close().catch(() => undefined);
  await sim?.close();
});

async function perpRig(perp: PerpSettings = PERP, symbols = ['BTCUSDT', 'ETHUSDT']): Promise<EngineRig> {
  const r = await engineRig(sim, { futures: { USDT: 20_000 }, perp, limits: { maxNotionalUsdt: 300 }, symbols });
  rigs.push(r);
  await boot(r);
  return r;
}

function validator(r: EngineRig): StopValidator {
  return createStopValidator({
    venue: 'binance',
    node: 'test',
    incarnation: r.engine.incarnation,
    gateway: () => r.gateway,
    kv: r.store.kv,
    journal: r.store.journal,
    metrics: r.metrics,
    log: silent,
    now: Date.now,
    symbols: () => [],
    ownedPosition: () => 0,
    price: () => undefined,
    stopLossPct: STOP_PCT,
    repair: true,
    notifyEnabled: false,
    intervalMs: 60_000,
    perp: perpStopOptions('binance', r.perps as NonNullable<EngineRig['perps']>, r.engine),
  });
}

const markOf = (symbol: string, s: Simulator = sim) => Number(s.prices('binance')[`binance:perp:${symbol}`]);
const futuresOf = (r: EngineRig) => {
  const a = r.sim.state({ venue: 'binance', account: r.keys.apiKey }).accounts[0];
  if (!a) throw new Error('no sim account');
  return a.futures;
};
const positionAt = (r: EngineRig, symbol = 'BTCUSDT') => futuresOf(r).positions.find((p) => p.symbol === symbol);
/** The account's open perpetual stops at the venue (algo orders not triggered). */
const venueStops = (r: EngineRig, symbol = 'BTCUSDT') =>
  r.sim
    .state({ venue: 'binance', account: r.keys.apiKey, open: true })
    .orders.filter((o) => o.market === 'perp' && o.symbol === symbol && o.type === 'STOP_MARKET' && !o.triggered);

async function entry(r: EngineRig, side: 'buy' | 'sell', quote: number, reduceOnly = false, symbol = 'BTCUSDT') {
  const res = await perpOrder(r, { side, quote, price: markOf(symbol, r.sim), reduceOnly, symbol });
  await until('every order settled', () => (r.engine.inflightCount() === 0 ? true : undefined), 15_000);
  return res;
}
const bookQty = (r: EngineRig, symbol = 'BTCUSDT') => r.perps?.position('binance', symbol, 'strategies') ?? 0;

describe('the stop validator on perpetual positions', () => {
  it('protects a long with a reduce-only sell stop and a short with a buy stop; replaced on a flip, gone when flat', async () => {
    const r = await perpRig();
    const sv = validator(r);
    await entry(r, 'buy', 200);
    expect(bookQty(r)).toBeGreaterThan(0);
    let res = await sv.pass();
    expect(res.placed).toEqual(['BTCUSDT']);
    let stops = venueStops(r);
    expect(stops).toHaveLength(1);
    const pos = positionAt(r);
    expect(stops[0]).toMatchObject({ side: 'sell', reduceOnly: true, qty: pos?.qty });
    expect(stops[0]?.stopPrice).toBeLessThan(markOf('BTCUSDT'));
    expect(stops[0]?.stopPrice).toBeCloseTo((pos?.entryPrice ?? 0) * (1 - STOP_PCT / 100), -1);
    // Covered: a second pass changes nothing.
    res = await sv.pass();
    expect(res).toMatchObject({ placed: [], covered: 1 });
    expect(venueStops(r)).toHaveLength(1);

    // Flat (reduce-only close), then a short: the sell stop is cancelled, a buy stop above the market placed.
    await entry(r, 'sell', 200, true);
    expect(bookQty(r)).toBe(0);
    res = await sv.pass();
    expect(venueStops(r)).toHaveLength(0);
    expect(sv.book().perpStops?.BTCUSDT).toBeUndefined();
    await entry(r, 'sell', 200);
    expect(bookQty(r)).toBeLessThan(0);
    res = await sv.pass();
    expect(res.placed).toEqual(['BTCUSDT']);
    stops = venueStops(r);
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatchObject({ side: 'buy', reduceOnly: true, qty: Math.abs(positionAt(r)?.qty ?? 0) });
    expect(stops[0]?.stopPrice).toBeGreaterThan(markOf('BTCUSDT'));

    // The short grows: the stop is replaced by one for the whole position (one stop, never two).
    await entry(r, 'sell', 100);
    res = await sv.pass();
    stops = venueStops(r);
    expect(stops).toHaveLength(1);
    expect(stops[0]?.qty).toBeCloseTo(Math.abs(positionAt(r)?.qty ?? 0), 12);
  }, 60_000);

  it('survives a kill of every scope and the fatal path (I7): only the validator removes it', async () => {
    const r = await perpRig();
    const sv = validator(r);
    await entry(r, 'sell', 200);
    await sv.pass();
    const before = venueStops(r).map((o) => o.id);
    expect(before).toHaveLength(1);
    for (const scope of ['global', 'venue', 'symbol'] as const) {
      r.gov[scope] = 'HALTED';
      await r.engine.cancelOpen(
        scope === 'global' ? {} : { venue: 'binance', ...(scope === 'symbol' ? { symbol: 'BTCUSDT' } : {}) },
      );
      await r.engine.quiesce(1_000);
      r.gov[scope] = 'ACTIVE';
    }
    await cancelOwnEntries(r.store.orders, new Map([['binance', r.gateway]]), silent);
    expect(venueStops(r).map((o) => o.id)).toEqual(before);
    // Still protected after the kills: the next pass finds it covering.
    expect(await sv.pass()).toMatchObject({ placed: [], covered: 1 });
  }, 60_000);

  it('a position whose stop was dropped at the venue is re-protected by the next pass', async () => {
    const r = await perpRig();
    const sv = validator(r);
    await entry(r, 'buy', 200);
    await sv.pass();
    const [stop] = venueStops(r);
    const ex = usdmClient(sim, r.keys);
    await ex.cancelOrder(String(stop?.id), 'BTC/USDT:USDT', { trigger: true });
    expect(venueStops(r)).toHaveLength(0);
    const res = await sv.pass();
    expect(res.missing).toEqual(['BTCUSDT']);
    expect(res.placed).toEqual(['BTCUSDT']);
    expect(venueStops(r)).toHaveLength(1);
  }, 60_000);
});

describe('isolated margin as Binance runs it', () => {
  it('the configured margin mode and leverage reach the venue, before the first perpetual order on a symbol', async () => {
    const r = await perpRig(PERP, ['BTCUSDT']);
    expect(futuresOf(r).marginType.BTCUSDT).toBe('ISOLATED');
    expect(futuresOf(r).leverage.BTCUSDT).toBe(2);
    // ETHUSDT was not followed at boot: its first entry sets the mode and leverage first.
    expect(futuresOf(r).marginType.ETHUSDT).toBeUndefined();
    const res = await entry(r, 'buy', 200, false, 'ETHUSDT');
    expect(res.status).toBe('accepted');
    expect(futuresOf(r).marginType.ETHUSDT).toBe('ISOLATED');
    expect(futuresOf(r).leverage.ETHUSDT).toBe(2);
    expect(positionAt(r, 'ETHUSDT')?.isolatedMargin).toBeGreaterThan(0);
  }, 60_000);

  it("reports Binance's isolated liquidation price, refuses leverage reduction with a position (-4161)", async () => {
    const r = await perpRig();
    await entry(r, 'buy', 200);
    const p = positionAt(r);
    if (!p) throw new Error('no position');
    // One-way isolated, first bracket (cum 0): LP = (WB − q·EP) / (q·MMR − q), WB = q·EP/L.
    const q = p.qty;
    const expected = (p.isolatedMargin - q * p.entryPrice) / (q * 0.004 - q);
    expect(p.isolatedMargin).toBeCloseTo((q * p.entryPrice) / 2, 6);
    expect(p.liquidationPrice).toBeCloseTo(expected, 4);
    const [venue] = await r.gateway.fetchPositions(['BTCUSDT']);
    expect(venue?.liquidationPrice).toBeCloseTo(expected, 4);
    const ex = usdmClient(sim, r.keys);
    await expect(ex.setLeverage(1, 'BTC/USDT:USDT')).rejects.toThrow(/-4161|Leverage reduction/);
    await expect(ex.setMarginMode('cross', 'BTC/USDT:USDT')).rejects.toThrow(/position/i);
    // Raising it is allowed, as on Binance.
    await ex.setLeverage(3, 'BTC/USDT:USDT');
    expect(futuresOf(r).leverage.BTCUSDT).toBe(3);
  }, 60_000);

  /** By hand on the venue: leverage 2 → 5 (raising is allowed with an isolated position), the freed margin taken out. */
  async function thinMarginByHand(r: EngineRig): Promise<void> {
    const ex = usdmClient(sim, r.keys);
    await ex.setLeverage(5, 'BTC/USDT:USDT');
    const p = positionAt(r);
    if (!p) throw new Error('no position');
    const spare = p.isolatedMargin + Math.min(0, p.unrealizedPnl) - p.initialMargin;
    await ex.reduceMargin('BTC/USDT:USDT', Math.floor(spare * 0.99 * 100) / 100);
    const liq = positionAt(r)?.liquidationPrice ?? 0;
    const mark = markOf('BTCUSDT');
    expect((mark - liq) / mark).toBeLessThan(0.25);
  }

  it("the liquidation rail uses the venue's liquidation price: leverage raised and margin removed by hand refuse the next add", async () => {
    const r = await perpRig({ ...PERP, minLiqDistancePct: 25 });
    expect((await entry(r, 'buy', 200)).status).toBe('accepted');
    await thinMarginByHand(r);
    // Once a read of the venue's positions (reconciliation, the stop validator's pass) reports the nearer price,
    // the rail refuses the add.
    await r.engine.reconcileAll();
    const res = await entry(r, 'buy', 250);
    expect(res).toMatchObject({ status: 'rejected', reason: 'liquidation_distance' });
    // An exit is never refused by it.
    expect((await entry(r, 'sell', 100, true)).status).toBe('accepted');
  }, 60_000);

  it('before any read of the venue, the same add passes on the formula alone (the venue price is what refuses it)', async () => {
    // Bosun's formula (its book's position at PERP_MAX_LEVERAGE 2) puts the liquidation ~50% away.
    const r = await perpRig({ ...PERP, minLiqDistancePct: 25 });
    expect((await entry(r, 'buy', 200)).status).toBe('accepted');
    await thinMarginByHand(r);
    expect((await entry(r, 'buy', 250)).status).toBe('accepted');
  }, 60_000);
});

describe('reduce-only and MIN_NOTIONAL on USDⓈ-M (-4164 "… unless you choose reduce only")', () => {
  it('a reduce-only close below the minimum notional passes the rails and the venue; an entry that small does not', async () => {
    const r = await perpRig();
    // BTCUSDT perpetual: one lot is worth less than its 100 USDT minimum notional.
    const m = r.gateway.markets('linear').BTCUSDT;
    if (!m) throw new Error('no BTCUSDT perpetual');
    const lot = m.stepSize * markOf('BTCUSDT');
    expect(lot).toBeLessThan(m.minNotional);
    expect((await entry(r, 'buy', 250)).status).toBe('accepted');
    const held = bookQty(r);
    const small = await entry(r, 'sell', lot * 1.2, true);
    expect(small.status).toBe('accepted');
    expect(bookQty(r)).toBeCloseTo(held - m.stepSize, 12);
    const refused = await entry(r, 'buy', lot * 1.2);
    expect(refused).toMatchObject({ status: 'rejected', reason: 'min_notional' });
    // The venue itself: a non-reduce-only order that small is -4164.
    const direct = await r.gateway.createOrder({
      clientOrderId: 'perp-small-1',
      symbol: 'BTCUSDT',
      side: 'sell',
      type: 'market',
      amount: m.stepSize,
      market: 'linear',
    });
    expect(direct.status).toBe('rejected');
    if (direct.status === 'rejected') expect(direct.error.reason).toMatch(/notional/i);
  }, 60_000);
});

describe('a triggered perpetual stop', () => {
  it("its fill is the protected position's (owner stop), found by the triggered order's own id, and the stop is recorded triggered", async () => {
    // The engine asks the validator about trades of no Bosun order (as engine-wiring.ts wires it).
    const late: { sv?: StopValidator } = {};
    const r = await frozenMarketRig(181, {
      futures: { USDT: 20_000 },
      perp: PERP,
      limits: { maxNotionalUsdt: 300 },
      symbols: ['BTCUSDT'],
      stops: {
        owns: (_v, o) => late.sv?.owns(o) ?? false,
        release: async () => undefined,
        perpStopFill: async (_v, t) => (await late.sv?.perpStopFill(t)) ?? false,
      },
    });
    rigs.push(r);
    const sv = validator(r);
    late.sv = sv;
    expect((await entry(r, 'buy', 200)).status).toBe('accepted');
    const held = bookQty(r);
    expect(held).toBeGreaterThan(0);
    expect((await sv.pass()).placed).toEqual(['BTCUSDT']);
    const [stop] = venueStops(r);
    if (!stop) throw new Error('no stop at the venue');

    // The market falls through the stop: the venue closes the position by the triggered order.
    // (The frozen clock is moved past the engine's: a trade of no order before its first-boot baseline is in it.)
    r.sim.setPrice({ market: 'perp', symbol: 'BTCUSDT', price: (stop.stopPrice as number) * 0.97 });
    r.sim.advance(Math.max(0, Date.now() - r.sim.now()) + 1_000);
    expect(positionAt(r)?.qty ?? 0).toBe(0);
    const trade = await until('the stop fill at the venue', async () =>
      (await r.gateway.fetchMyTrades({ symbol: 'BTCUSDT', market: 'linear', since: r.sim.now() - 60_000 })).find(
        (t) => t.side === 'sell',
      ),
    );
    // Binance's trade names the triggered order, not the algo order the validator placed.
    expect(trade.orderId).not.toBe(sv.book().perpStops?.BTCUSDT?.venueOrderId);

    const res = await r.engine.reconcileAll();
    expect(r.halts).toEqual([]);
    expect(res.fillsApplied).toBeGreaterThanOrEqual(1);
    // The strategies' share is closed with the venue's position; nothing is left as no one's.
    expect(bookQty(r)).toBe(0);
    expect(r.perps?.venue('binance')?.owners.BTCUSDT ?? {}).toEqual({});
    expect(r.perps?.venue('binance')?.positions.BTCUSDT).toBeUndefined();
    const journal = [...r.store.journal.readFrom(0)];
    expect(journal.filter((e) => e.type === 'perp.fill' && e.tradeId === trade.id)).toEqual([
      expect.objectContaining({ owner: 'stop', strategy: 'stop' }),
    ]);
    // The stop is recorded triggered, once; the next pass has nothing to protect and places nothing.
    expect(sv.book().perpStops?.BTCUSDT).toBeUndefined();
    expect(journal.filter((e) => e.type === 'order.stop.triggered')).toEqual([
      expect.objectContaining({ market: 'linear', symbol: 'BTCUSDT', clientOrderId: stop.clientOrderId }),
    ]);
    const next = await sv.pass();
    expect(next).toMatchObject({ placed: [], missing: [] });
    expect(venueStops(r)).toHaveLength(0);
    expect([...r.store.journal.readFrom(0)].filter((e) => e.type === 'order.stop.triggered')).toHaveLength(1);
  }, 60_000);
});
