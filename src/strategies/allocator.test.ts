import { describe, expect, it } from 'vitest';
import { type CapitalAllocations, CapitalAllocationsFileSchema } from '../config/files.schema.js';
import {
  type AllocationInput,
  blend,
  intentFor,
  inverseVolWeights,
  symbolBudgetUsdt,
  targetPositionUsdt,
} from './allocator.js';
import { createRng } from './seeded-random.js';

const VENUES = ['binance', 'kraken'] as const;

describe('symbolBudgetUsdt', () => {
  it('splits deployable equity equally over venues and symbols when the file names none', () => {
    const a: AllocationInput = { reserve_pct: 10 };
    // 10,000 × 0.9 / 2 venues / 4 symbols
    expect(
      symbolBudgetUsdt(a, 10_000, 'binance', VENUES, 'BTCUSDT', ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT']),
    ).toBe(1125);
  });

  it('uses listed venue and symbol fractions, and an unlisted venue gets nothing once venues are listed', () => {
    const a: AllocationInput = { reserve_pct: 0, venues: { binance: 0.75 }, symbols: { BTCUSDT: 0.5 } };
    expect(symbolBudgetUsdt(a, 1000, 'binance', VENUES, 'BTCUSDT', ['BTCUSDT', 'ETHUSDT'])).toBe(375);
    expect(symbolBudgetUsdt(a, 1000, 'kraken', VENUES, 'BTCUSDT', ['BTCUSDT'])).toBe(0);
  });

  it('shares the remainder of the listed symbol fractions equally among unlisted symbols', () => {
    const a: AllocationInput = { reserve_pct: 0, venues: { binance: 1 }, symbols: { BTCUSDT: 0.4 } };
    const syms = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
    expect(symbolBudgetUsdt(a, 1000, 'binance', VENUES, 'ETHUSDT', syms)).toBeCloseTo(300, 9);
    expect(symbolBudgetUsdt(a, 1000, 'binance', VENUES, 'SOLUSDT', syms)).toBeCloseTo(300, 9);
  });

  it('keeps a listed symbol’s fraction reserved even when that symbol is not trading', () => {
    const a: AllocationInput = { reserve_pct: 0, venues: { kraken: 1 }, symbols: { BTCUSDT: 0.5 } };
    expect(symbolBudgetUsdt(a, 1000, 'kraken', VENUES, 'ETHUSDT', ['ETHUSDT'])).toBe(500);
  });

  it('counts a symbol missing from the active list as one more unlisted symbol', () => {
    const a: AllocationInput = { reserve_pct: 0, venues: { binance: 1 } };
    expect(symbolBudgetUsdt(a, 900, 'binance', VENUES, 'NEWUSDT', ['BTCUSDT', 'ETHUSDT'])).toBe(300);
  });

  it('caps the venue capital before the split and the symbol budget after it', () => {
    const a: AllocationInput = {
      reserve_pct: 0,
      venues: { binance: 1 },
      max_usdt: { venues: { binance: 400 }, symbols: { ETHUSDT: 50 } },
    };
    const syms = ['BTCUSDT', 'ETHUSDT'];
    expect(symbolBudgetUsdt(a, 10_000, 'binance', VENUES, 'BTCUSDT', syms)).toBe(200);
    expect(symbolBudgetUsdt(a, 10_000, 'binance', VENUES, 'ETHUSDT', syms)).toBe(50);
  });

  it('gives nothing when equity is zero, negative or not a number, or the whole equity is reserved', () => {
    const a: AllocationInput = { reserve_pct: 10 };
    for (const eq of [0, -500, Number.NaN]) expect(symbolBudgetUsdt(a, eq, 'binance', VENUES, 'X', ['X'])).toBe(0);
    expect(symbolBudgetUsdt({ reserve_pct: 100 }, 1000, 'binance', VENUES, 'X', ['X'])).toBe(0);
  });

  it('accepts the parsed ops/capital_allocations.json as it is (reserve_pct is a percentage, default 10)', () => {
    const parsed: CapitalAllocations = CapitalAllocationsFileSchema.parse({ symbols: { BTCUSDT: 0.5 } });
    expect(symbolBudgetUsdt(parsed, 2000, 'kraken', VENUES, 'BTCUSDT', ['BTCUSDT'])).toBe(450);
  });

  it('never hands out more than the deployable equity across all (venue, symbol) pairs', () => {
    const rng = createRng(11);
    const syms = ['AUSDT', 'BUSDT', 'CUSDT', 'DUSDT'];
    for (let i = 0; i < 2_000; i++) {
      const listed = Object.fromEntries(syms.filter(() => rng.next() < 0.5).map((s) => [s, rng.next() / syms.length]));
      const a: AllocationInput = {
        reserve_pct: rng.next() * 100,
        venues: rng.next() < 0.5 ? undefined : { binance: rng.next() / 2, kraken: rng.next() / 2 },
        symbols: listed,
      };
      const equity = rng.next() * 1e6;
      let sum = 0;
      for (const v of VENUES) for (const s of syms) sum += symbolBudgetUsdt(a, equity, v, VENUES, s, syms);
      expect(sum).toBeLessThanOrEqual(equity * (1 - a.reserve_pct / 100) * (1 + 1e-12));
    }
  });
});

describe('blend', () => {
  it('normalises the weights (0.7/0.3 and 7/3 blend the same)', () => {
    const s = { stable_model: 1, canary_model: -1 };
    expect(blend(s, { stable_model: 0.7, canary_model: 0.3 })).toBeCloseTo(0.4, 12);
    expect(blend(s, { stable_model: 7, canary_model: 3 })).toBeCloseTo(0.4, 12);
  });

  it('gives a signal with no weight (or a weight ≤ 0) no say, and a weighted strategy without a signal no share', () => {
    expect(blend({ a: 0.5, unknown: -1 }, { a: 2 })).toBe(0.5);
    expect(blend({ a: 0.5, b: -1 }, { a: 1, b: 0 })).toBe(0.5);
    expect(blend({ a: 0.5, b: -1 }, { a: 1, b: -3 })).toBe(0.5);
    expect(blend({ a: 0.5 }, { a: 1, b: 9 })).toBe(0.5);
    expect(blend({ a: 0.5, b: Number.NaN }, { a: 1, b: 1 })).toBe(0.5);
  });

  it('is 0 when nothing is weighted, and stays in [-1, 1] even for out-of-range inputs and huge weights', () => {
    expect(blend({ a: 1 }, {})).toBe(0);
    expect(blend({}, { a: 1 })).toBe(0);
    expect(blend({ a: 5, b: 3 }, { a: 1e308, b: 1e308 })).toBe(1);
    expect(blend({ a: -7 }, { a: 1 })).toBe(-1);
  });
});

describe('targetPositionUsdt', () => {
  it('is clamp(signal) × budget × multiplier', () => {
    expect(targetPositionUsdt(0.5, 1000, { quoteMultiplier: 0.8, longOnly: false })).toBe(400);
    expect(targetPositionUsdt(3, 1000, { quoteMultiplier: 1, longOnly: false })).toBe(1000);
    expect(targetPositionUsdt(-0.25, 1000, { quoteMultiplier: 1, longOnly: false })).toBe(-250);
  });

  it('is 0 for a negative signal on spot (long-only), never −0', () => {
    expect(Object.is(targetPositionUsdt(-0.9, 1000, { quoteMultiplier: 1, longOnly: true }), 0)).toBe(true);
    expect(Object.is(targetPositionUsdt(-0.9, 0, { quoteMultiplier: 1, longOnly: false }), 0)).toBe(true);
  });

  it('sizes to 0 on a non-finite signal, budget or multiplier', () => {
    expect(targetPositionUsdt(Number.NaN, 1000, { quoteMultiplier: 1, longOnly: true })).toBe(0);
    expect(targetPositionUsdt(1, Number.NaN, { quoteMultiplier: 1, longOnly: true })).toBe(0);
    expect(targetPositionUsdt(1, 1000, { quoteMultiplier: Number.POSITIVE_INFINITY, longOnly: true })).toBe(0);
  });
});

describe('intentFor', () => {
  const opts = { minTradeUsdt: 10, maxNotionalUsdt: 100 };

  it('buys the gap toward a higher target', () => {
    expect(intentFor(50, 120, opts)).toMatchObject({ side: 'buy', quoteUsdt: 70, reduceOnly: false });
  });

  it('clips a buy to the max notional and says so', () => {
    const d = intentFor(0, 1000, opts);
    expect(d).toMatchObject({ side: 'buy', quoteUsdt: 100 });
    expect(d?.reason).toContain('clipped to max notional');
  });

  it('sells down to a lower target, reduce-only', () => {
    expect(intentFor(80, 20, opts)).toMatchObject({ side: 'sell', quoteUsdt: 60, reduceOnly: true });
  });

  it('never sells more than the position, even for a short target', () => {
    const d = intentFor(40, -500, opts);
    expect(d).toMatchObject({ side: 'sell', quoteUsdt: 40, reduceOnly: true });
    expect(d?.reason).toContain('capped at position');
    expect(intentFor(0, -500, opts)).toBeNull();
  });

  it('does nothing inside the hysteresis band, and trades exactly at its edge', () => {
    expect(intentFor(100, 109.99, opts)).toBeNull();
    expect(intentFor(100, 90.01, opts)).toBeNull();
    expect(intentFor(100, 110, opts)).toMatchObject({ side: 'buy', quoteUsdt: 10 });
    expect(intentFor(100, 100, { minTradeUsdt: 0, maxNotionalUsdt: 100 })).toBeNull();
  });

  it('does nothing when the cap leaves less than the minimum trade', () => {
    expect(intentFor(0, 500, { minTradeUsdt: 10, maxNotionalUsdt: 5 })).toBeNull();
    expect(intentFor(5, -500, { minTradeUsdt: 10, maxNotionalUsdt: 100 })).toBeNull();
  });

  it('does nothing on non-finite inputs or a max notional ≤ 0', () => {
    expect(intentFor(Number.NaN, 100, opts)).toBeNull();
    expect(intentFor(0, Number.POSITIVE_INFINITY, opts)).toBeNull();
    expect(intentFor(0, 100, { minTradeUsdt: 1, maxNotionalUsdt: 0 })).toBeNull();
    expect(intentFor(0, 100, { minTradeUsdt: 1, maxNotionalUsdt: Number.NaN })).toBeNull();
  });

  it('over 10,000 random cases: quote in (0, max notional], sells within the position, band respected', () => {
    const rng = createRng(20240607);
    const wide = (scale: number) => (rng.next() - 0.5) * 2 * scale * 10 ** Math.floor(rng.next() * 6 - 3);
    let buys = 0;
    let sells = 0;
    for (let i = 0; i < 10_000; i++) {
      const current = rng.next() < 0.1 ? 0 : wide(1e4);
      const target = rng.next() < 0.1 ? 0 : wide(1e4);
      const o = { minTradeUsdt: rng.next() * 20, maxNotionalUsdt: rng.next() * 500 };
      const d = intentFor(current, target, o);
      if (d === null) continue;
      expect(d.quoteUsdt).toBeGreaterThan(0);
      expect(d.quoteUsdt).toBeLessThanOrEqual(o.maxNotionalUsdt);
      expect(d.quoteUsdt).toBeGreaterThanOrEqual(o.minTradeUsdt);
      expect(Math.abs(target - current)).toBeGreaterThanOrEqual(o.minTradeUsdt);
      if (d.side === 'sell') {
        sells++;
        expect(target).toBeLessThan(current);
        expect(d.quoteUsdt).toBeLessThanOrEqual(current);
        expect(d.reduceOnly).toBe(true);
      } else {
        buys++;
        expect(target).toBeGreaterThan(current);
        expect(d.quoteUsdt).toBeLessThanOrEqual(target - current);
      }
    }
    // The generator must actually exercise both sides.
    expect(buys).toBeGreaterThan(1000);
    expect(sells).toBeGreaterThan(1000);
  });
});

describe('inverseVolWeights', () => {
  it('weights symbols by 1/vol and sums to 1', () => {
    const w = inverseVolWeights({ BTCUSDT: 0.02, ETHUSDT: 0.04 });
    expect(w.BTCUSDT).toBeCloseTo(2 / 3, 12);
    expect(w.ETHUSDT).toBeCloseTo(1 / 3, 12);
  });

  it('gives zero, negative and NaN vols weight 0 and still sums to 1', () => {
    const w = inverseVolWeights({ A: 0.01, B: 0, C: Number.NaN, D: -1, E: 0.01 });
    expect(w).toEqual({ A: 0.5, B: 0, C: 0, D: 0, E: 0.5 });
  });

  it('falls back to an equal split when no vol is usable, and is empty for no symbols', () => {
    expect(inverseVolWeights({ A: 0, B: Number.NaN })).toEqual({ A: 0.5, B: 0.5 });
    expect(inverseVolWeights({})).toEqual({});
  });

  it('does not overflow on a subnormal vol', () => {
    const w = inverseVolWeights({ A: 5e-324, B: 1 });
    expect(w.A).toBe(1);
    expect(w.B).toBeLessThan(1e-300);
    expect(Number.isFinite(w.A! + w.B!)).toBe(true);
  });

  it('sums to 1 over random inputs', () => {
    const rng = createRng(3);
    for (let i = 0; i < 1000; i++) {
      const vols: Record<string, number> = {};
      const n = 1 + Math.floor(rng.next() * 8);
      for (let k = 0; k < n; k++) vols[`S${k}`] = rng.next() < 0.2 ? 0 : rng.next() * 0.1;
      const sum = Object.values(inverseVolWeights(vols)).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 12);
    }
  });
});
