import { describe, expect, it } from 'vitest';
import { runBacktest } from './backtest.js';

const base = {
  seed: 7,
  bars: 1_500,
  asset: 'BTC',
  startUsd: 60_000,
  capitalUsd: 10_000,
  maxNotionalUsd: 100,
  minTradeUsd: 10,
  feeBps: 10,
  env: {
    weights: { stable_model: 0.7, canary_model: 0.3 },
    calibration: { confidence_gain: 1, quote_multiplier: 1, cooldown_scale: 1, states: 3 },
    trend: { fastBars: 8, slowBars: 34, entryZ: 0.5 },
    warmupBars: 300,
    trendWeight: 0.5,
  },
};

describe('bosun backtest', () => {
  it('runs the live strategy code over the seeded path, deterministically, with calibrations and trades', () => {
    const a = runBacktest(base);
    expect(a.bars).toBe(1_500);
    expect(a.calibrations).toBeGreaterThanOrEqual(2);
    expect(a.trades).toBeGreaterThan(0);
    expect(a.feesUsd).toBeGreaterThan(0);
    expect(runBacktest(base)).toEqual(a);
    expect(runBacktest({ ...base, seed: 8 }).endEquityUsd).not.toBe(a.endEquityUsd);
  });

  it('a zero notional cap means no trades (the same sizing as live)', () => {
    expect(runBacktest({ ...base, maxNotionalUsd: 0 }).trades).toBe(0);
  });
});
