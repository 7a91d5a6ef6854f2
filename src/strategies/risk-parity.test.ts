import { describe, expect, it } from 'vitest';
import { symbolBudgetUsdt } from './allocator.js';
import { barReturnVol, emptyBarCloses, noteBarPrice, riskParityWeights } from './risk-parity.js';
import { createRng } from './seeded-random.js';

/** A geometric random walk with per-bar log-return σ = `vol`. */
function walk(seed: number, vol: number, n = 200): number[] {
  const rng = createRng(seed);
  const out = [100];
  for (let i = 1; i < n; i++) out.push((out[i - 1] as number) * Math.exp(vol * rng.gaussian()));
  return out;
}

describe('risk parity', () => {
  it('estimates σ of bar log-returns', () => {
    expect(barReturnVol(walk(1, 0.02, 2_000))).toBeCloseTo(0.02, 2);
    expect(barReturnVol([100, 101, 102])).toBeNaN(); // too few returns
    expect(barReturnVol([100, 0, ...walk(2, 0.01, 20)])).toBeNaN(); // a broken close
  });

  it('weights sum to 1 and order inversely to volatility', () => {
    const w = riskParityWeights({ BTCUSDT: walk(3, 0.01), ETHUSDT: walk(4, 0.02), SOLUSDT: walk(5, 0.04) });
    expect(Object.values(w).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(w.BTCUSDT).toBeGreaterThan(w.ETHUSDT as number);
    expect(w.ETHUSDT).toBeGreaterThan(w.SOLUSDT as number);
    // ∝ 1/σ: twice the vol, about half the weight.
    expect((w.BTCUSDT as number) / (w.ETHUSDT as number)).toBeCloseTo(2, 0);
  });

  it('guards degenerate σ: flat or short history gets 0, none usable splits equally', () => {
    const flat = Array.from({ length: 50 }, () => 100);
    const w = riskParityWeights({ A: flat, B: walk(6, 0.02), C: [100] });
    expect(w).toEqual({ A: 0, B: 1, C: 0 });
    expect(riskParityWeights({ A: flat, B: [] })).toEqual({ A: 0.5, B: 0.5 });
    for (const v of Object.values(riskParityWeights({ A: flat }))) expect(Number.isFinite(v)).toBe(true);
  });

  it('closes bars from live prices', () => {
    const b = emptyBarCloses();
    for (const [p, at] of [
      [100, 0],
      [101, 500],
      [102, 1_000],
      [103, 2_500],
      [Number.NaN, 2_600],
      [104, 3_100],
    ] as const)
      noteBarPrice(b, p, at, 1_000, 100);
    expect(b.closes).toEqual([101, 102, 103]);
    expect(b.last).toBe(104);
  });

  it('the allocator splits the symbols’ share by the weights when given, and not otherwise', () => {
    const a = { reserve_pct: 0 };
    const syms = ['BTCUSDT', 'ETHUSDT'];
    const plain = symbolBudgetUsdt(a, 10_000, 'binance', ['binance'], 'BTCUSDT', syms);
    expect(plain).toBeCloseTo(5_000, 9);
    const w = { BTCUSDT: 0.8, ETHUSDT: 0.2 };
    expect(symbolBudgetUsdt(a, 10_000, 'binance', ['binance'], 'BTCUSDT', syms, w)).toBeCloseTo(8_000, 9);
    expect(symbolBudgetUsdt(a, 10_000, 'binance', ['binance'], 'ETHUSDT', syms, w)).toBeCloseTo(2_000, 9);
    // Inside the allocations: a symbol's max_usdt ceiling still caps it; an operator's listed share is respected.
    const capped = { reserve_pct: 0, max_usdt: { symbols: { BTCUSDT: 1_000 } } };
    expect(symbolBudgetUsdt(capped, 10_000, 'binance', ['binance'], 'BTCUSDT', syms, w)).toBe(1_000);
    const listed = { reserve_pct: 0, symbols: { BTCUSDT: 0.5, ETHUSDT: 0.1 } };
    expect(symbolBudgetUsdt(listed, 10_000, 'binance', ['binance'], 'ETHUSDT', syms, w)).toBeCloseTo(1_200, 9);
  });
});
