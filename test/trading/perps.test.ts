import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerpSettings } from '../../src/actors/engine/perp-settlement.js';
import type { SignalEffect } from '../../src/machines/symbol.machine.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { boot, type EngineRig, engineRig, ISOLATED_PERP, perpOrder } from './engine-harness.js';
import { startVenue, until } from './support.js';

/**
 * Strategies on Binance USDⓈ-M perpetuals, end to end on the simulator through real ccxt and LMDB: the same
 * signal goes long and short (one-way mode, reduce-only exits), leverage and margin mode are set at boot as the
 * venue enforces them, funding accrues into the perp book, each kill scope blocks as the runbook documents, the
 * liquidation rail refuses a too-leveraged entry, and the perp book equals the venue (wallet and positions).
 */
let sim: Simulator;
const rigs: EngineRig[] = [];
const PERP: PerpSettings = ISOLATED_PERP;

beforeAll(async () => {
  sim = await startVenue(161);
}, 30_000);
afterAll(async () => {
  for (const r of rigs) await r.close().catch(() => undefined);
  await sim?.close();
});

async function perpRig(perp: PerpSettings = PERP): Promise<EngineRig> {
  const r = await engineRig(sim, { futures: { USDT: 20_000 }, perp, limits: { maxNotionalUsdt: 300 } });
  rigs.push(r);
  await boot(r);
  return r;
}

const markOf = (symbol: string) => Number(sim.prices('binance')[`binance:perp:${symbol}`]);
const futuresOf = (r: EngineRig) => {
  const a = sim.state({ venue: 'binance', account: r.keys.apiKey }).accounts[0];
  if (!a) throw new Error('no sim account');
  return a.futures;
};
const venueQty = (r: EngineRig, symbol = 'BTCUSDT') =>
  futuresOf(r).positions.find((p) => p.symbol === symbol)?.qty ?? 0;
const bookQty = (r: EngineRig, symbol = 'BTCUSDT') => r.perps?.position('binance', symbol, 'strategies') ?? 0;

/** A strategy's 200 USDT long on the BTC perpetual at its mark, straight to the engine (past the signal). */
function longEntry(r: EngineRig) {
  return perpOrder(r, { side: 'buy', quote: 200, price: markOf('BTCUSDT') });
}

function signal(r: EngineRig, value: number, strategy = 'hmm', symbol = 'BTCUSDT', price = markOf(symbol)): void {
  const e: SignalEffect = {
    venue: 'binance',
    symbol,
    price,
    at: Date.now(),
    t0: performance.now(),
    output: { strategy, signal: value, quoteMultiplier: 1 } as SignalEffect['output'],
    trading: 'ACTIVE',
  };
  r.engine.onSignal(e);
}

/** Every order of the rig finished (slots free): the next signal is judged on settled positions. */
const settled = (r: EngineRig) => waitFor('every order settled', () => r.engine.inflightCount() === 0);

/** Polls a condition (bounded). */
const waitFor = (what: string, cond: () => boolean) => until(what, () => (cond() ? true : undefined), 30_000);

/** The perp book equals the venue: net positions exactly, the wallet to a millionth of a USDT. */
function expectBookEqualsVenue(r: EngineRig): void {
  const f = futuresOf(r);
  const book = r.engine.perpLedger('binance');
  expect(book).toBeDefined();
  for (const p of f.positions) expect(book?.positions[p.symbol]?.qty ?? 0).toBeCloseTo(p.qty, 12);
  for (const [s, p] of Object.entries(book?.positions ?? {}))
    expect(f.positions.find((x) => x.symbol === s)?.qty ?? 0).toBeCloseTo(p.qty, 12);
  expect(book?.wallet).toBeCloseTo(f.wallet.USDT ?? 0, 6);
}

describe('strategies on USDⓈ-M perpetuals', () => {
  it('sets leverage and margin mode at boot, as the venue enforces them', async () => {
    const r = await perpRig();
    const f = futuresOf(r);
    expect(f.leverage.BTCUSDT).toBe(2);
    expect(f.leverage.ETHUSDT).toBe(2);
    // Binance refuses a margin mode change while a position is open (-4048): so does the simulator.
    await r.gateway.configurePerp?.('BTCUSDT', { leverage: 2, marginMode: 'isolated' });
    signal(r, 1);
    await waitFor('venueQty(r) > 0', () => venueQty(r) > 0);
    await settled(r);
    await expect(r.gateway.configurePerp?.('BTCUSDT', { leverage: 2, marginMode: 'cross' })).rejects.toThrow(
      /position/i,
    );
  });

  it('goes long, closes reduce-only, goes short from the same signal; funding accrues; the book equals the venue', async () => {
    const r = await perpRig();
    signal(r, 1);
    await waitFor('bookQty(r) > 0', () => bookQty(r) > 0);
    await settled(r);
    expect(venueQty(r)).toBeCloseTo(bookQty(r), 12);

    // A flip: first a reduce-only close of the long, then the short on the next signal.
    signal(r, -1);
    await waitFor('bookQty(r) === 0', () => bookQty(r) === 0);
    await settled(r);
    const closes = [...r.store.orders.list()].filter((o) => o.side === 'sell' && o.market === 'linear');
    expect(closes.some((o) => o.reduceOnly === true)).toBe(true);
    signal(r, -1);
    await waitFor('bookQty(r) < 0', () => bookQty(r) < 0);
    await settled(r);
    expect(venueQty(r)).toBeCloseTo(bookQty(r), 12);
    // The short's entry is not reduce-only: it opened the position.
    const entry = [...r.store.orders.list()].filter((o) => o.side === 'sell' && o.market === 'linear').at(-1);
    expect(entry?.reduceOnly).toBe(false);

    // Funding: the simulator settles every 8 h of sim time; the payment enters the book once.
    const interval = 8 * 3_600_000;
    sim.advance(Math.ceil((sim.now() + 1) / interval) * interval - sim.now() + 1_000);
    const paidAtVenue = () => futuresOf(r).fundingPaid.length;
    expect(paidAtVenue()).toBeGreaterThan(0);
    await r.engine.reconcileAll();
    await r.engine.reconcileAll();
    const book = r.engine.perpLedger('binance');
    const venueFunding = futuresOf(r).fundingPaid.reduce((s, p) => s + p.income, 0);
    expect(venueFunding).not.toBe(0);
    expect(book?.funding).toBeCloseTo(venueFunding, 8);
    expectBookEqualsVenue(r);
    expect(r.halts).toEqual([]);
  }, 120_000);

  it('skips a signal while the strategies order the other side: sized before the entry settled, an exit would open a short', async () => {
    const r = await perpRig();
    signal(r, 1);
    // The entry is in flight (its fills not in the book): the exit signal of the same turn is skipped.
    signal(r, -1);
    await settled(r);
    const linear = () => [...r.store.orders.list()].filter((o) => o.market === 'linear' && o.type === 'market');
    expect(linear().map((o) => o.side)).toEqual(['buy']);
    expect(bookQty(r)).toBeGreaterThan(0);
    expect(venueQty(r)).toBeCloseTo(bookQty(r), 12);
    // Once settled, the next exit signal sizes from the book: a reduce-only close, flat at the venue.
    signal(r, -1);
    await waitFor('bookQty(r) === 0', () => bookQty(r) === 0);
    await settled(r);
    expect(venueQty(r)).toBe(0);
    expect(linear().at(-1)).toMatchObject({ side: 'sell', reduceOnly: true });
  });

  it('an exit closes the whole position at the cap after the price rose: its base amount, not the cap floored to the step', async () => {
    const r = await perpRig();
    signal(r, 1);
    await waitFor('bookQty(r) > 0', () => bookQty(r) > 0);
    await settled(r);
    const held = bookQty(r);
    const [entry] = [...r.store.orders.list()].filter((o) => o.market === 'linear');
    // The entry was clipped at MAX_NOTIONAL_USDT 300 (and floored to the step); at a price 1% above the one that
    // makes it worth the cap, the position is worth more than the cap.
    expect(entry?.quote).toBe(300);
    const up = (300 / held) * 1.01;
    expect(held * up).toBeGreaterThan(300);
    signal(r, 0, 'hmm', 'BTCUSDT', up);
    await settled(r);
    const close = [...r.store.orders.list()].filter((o) => o.market === 'linear').at(-1);
    // Before: `close 300.00 of 303.xx`, 300 / price floored to the step left 0.001 BTC (20%) open.
    expect(close).toMatchObject({ side: 'sell', reduceOnly: true, amount: held, filled: held });
    expect(bookQty(r)).toBe(0);
    expect(venueQty(r)).toBe(0);
    expectBookEqualsVenue(r);
  });

  it('the venue refuses a reduce-only order that would increase or flip the position (-2022), and so does the simulator', async () => {
    const r = await perpRig();
    const res = await r.gateway.createOrder({
      clientOrderId: 'perp-ro-1',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.002,
      reduceOnly: true,
      market: 'linear',
    });
    expect(res.status).toBe('rejected');
    if (res.status === 'rejected') expect(res.error.reason).toMatch(/ReduceOnly/i);
  });

  it('each kill scope blocks perpetual orders; REDUCING lets the reduce-only close out and refuses entries', async () => {
    const r = await perpRig();
    signal(r, -1);
    await waitFor('bookQty(r) < 0', () => bookQty(r) < 0);
    await settled(r);
    const held = bookQty(r);
    const count = () => [...r.store.orders.list()].length;
    for (const scope of ['global', 'venue', 'symbol'] as const) {
      r.gov[scope] = 'HALTED';
      const before = count();
      signal(r, 1); // would close the short (reduce-only): HALTED blocks exits too
      signal(r, -1, 'trend'); // would add to it
      await settled(r);
      expect(count()).toBe(before);
      expect(bookQty(r)).toBe(held);
      r.gov[scope] = 'ACTIVE';
    }
    r.gov.symbol = 'REDUCING';
    signal(r, -1, 'trend');
    await settled(r);
    expect(bookQty(r)).toBe(held);
    signal(r, 1);
    await waitFor('bookQty(r) === 0', () => bookQty(r) === 0);
    await settled(r);
    expect(venueQty(r)).toBe(0);
    r.gov.symbol = 'ACTIVE';
    expectBookEqualsVenue(r);
  });

  it('refuses an entry whose liquidation price is closer than PERP_MIN_LIQ_DISTANCE_PCT', async () => {
    // 5x: a long's liquidation price is ~19.9% below the entry, inside the 20% the rail requires.
    const r = await perpRig({ ...PERP, leverage: 5 });
    const res = await longEntry(r);
    expect(res).toMatchObject({ status: 'rejected', reason: 'liquidation_distance' });
    expect(venueQty(r)).toBe(0);
  });

  it('counts perpetual notional in the exposure caps', async () => {
    const r = await perpRig();
    signal(r, 1);
    await waitFor('bookQty(r) > 0', () => bookQty(r) > 0);
    await settled(r);
    const held = bookQty(r) * markOf('BTCUSDT');
    const spot = 0.01 * Number(sim.prices('binance')['binance:spot:BTCUSDT']);
    // Room for the 200 USDT entry beside the spot BTC, but not beside the spot BTC and the perpetual.
    r.limits.maxSymbolExposureUsdt = spot + held + 100;
    expect(held).toBeGreaterThan(100);
    const res = await longEntry(r);
    expect(res).toMatchObject({ status: 'rejected', reason: 'symbol_exposure' });
  });
});
