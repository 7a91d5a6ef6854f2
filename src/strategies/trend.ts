/**
 * Trend follow (pure): a fast and a slow EMA of bar closes; the spread between them, measured in units of the
 * bar volatility over the slow horizon, is a z-score. Beyond `entryZ` the strategy wants a position sized by how
 * far beyond (clamped to [-1, 1]); inside it wants none. `fired` marks the bar the z-score crosses the threshold
 * (`trend_follow_signals_total`). Cheap: O(1) per bar, JSON state.
 */
export interface TrendParams {
  fastBars: number;
  slowBars: number;
  entryZ: number;
}

export const TREND_DEFAULTS: Readonly<TrendParams> = { fastBars: 8, slowBars: 34, entryZ: 0.5 };

export const TREND_BOUNDS = {
  fastBars: [3, 30],
  slowBars: [10, 200],
  entryZ: [0.1, 2],
} as const satisfies Record<keyof TrendParams, readonly [number, number]>;

export interface TrendState {
  fast: number | null;
  slow: number | null;
  /** EWMA of squared bar log-returns (variance per bar). */
  volEwma: number;
  bars: number;
  lastClose: number | null;
  lastZ: number;
}

export function initialTrendState(): TrendState {
  return { fast: null, slow: null, volEwma: 0, bars: 0, lastClose: null, lastZ: 0 };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** Clamps parameters into bounds and keeps fast < slow. */
export function boundParams(p: TrendParams): TrendParams {
  const slowBars = Math.round(clamp(p.slowBars, ...TREND_BOUNDS.slowBars));
  const fastBars = Math.round(clamp(Math.min(p.fastBars, slowBars - 1), ...TREND_BOUNDS.fastBars));
  return { fastBars: Math.min(fastBars, slowBars - 1), slowBars, entryZ: clamp(p.entryZ, ...TREND_BOUNDS.entryZ) };
}

export function trendStep(
  state: TrendState,
  close: number,
  params: TrendParams,
): { state: TrendState; signal: number; fired: boolean; z: number } {
  if (!(Number.isFinite(close) && close > 0)) return { state, signal: 0, fired: false, z: state.lastZ };
  const p = boundParams(params);
  const af = 2 / (p.fastBars + 1);
  const as = 2 / (p.slowBars + 1);
  const r = state.lastClose === null ? 0 : Math.log(close / state.lastClose);
  const fast = state.fast === null ? close : state.fast + af * (close - state.fast);
  const slow = state.slow === null ? close : state.slow + as * (close - state.slow);
  const volEwma = state.bars === 0 ? 0 : state.volEwma + as * (r * r - state.volEwma);
  const bars = state.bars + 1;
  const sigma = Math.sqrt(volEwma) * Math.sqrt(p.slowBars);
  const warm = bars >= p.slowBars && sigma > 0;
  const z = warm ? Math.log(fast / slow) / sigma : 0;
  const fired = warm && Math.abs(z) >= p.entryZ && Math.abs(state.lastZ) < p.entryZ;
  const signal = warm && Math.abs(z) >= p.entryZ ? clamp(z / (2 * p.entryZ), -1, 1) : 0;
  return { state: { fast, slow, volEwma, bars, lastClose: close, lastZ: z }, signal, fired, z };
}
