import type { StrategyEnv } from './symbol-strategy.js';

/**
 * A strategy environment that signals within a few bars, for tests and benchmarks: trend follow alone sizes the
 * signal (fast 3 / slow 10 bars, entry z 0.3), the two HMM variants are weighted equally and calibrate after
 * `warmupBars` bars (the default keeps them in warm-up, so no fit runs), neutral calibration multipliers.
 */
export function fastTrendEnv(warmupBars = 100_000): StrategyEnv {
  return {
    weights: { stable_model: 0.5, canary_model: 0.5 },
    calibration: { confidence_gain: 1, quote_multiplier: 1, cooldown_scale: 1, states: 3 },
    trend: { fastBars: 3, slowBars: 10, entryZ: 0.3 },
    warmupBars,
    trendWeight: 1,
  };
}
