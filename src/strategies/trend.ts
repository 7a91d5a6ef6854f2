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

/** What one trend step reports; `advanceTrend` writes it into a caller-owned object. */
export interface TrendStepOut {
  signal: number;
  fired: boolean;
  z: number;
}

// Bounded parameters per parameter object: the object is config, replaced (not mutated) when it changes.
const bounded = new WeakMap<TrendParams, TrendParams>();
function boundedOf(params: TrendParams): TrendParams {
  let p = bounded.get(params);
  if (p === undefined) {
    p = boundParams(params);
    bounded.set(params, p);
  }
  return p;
}

/**
 * One bar, in place: `state` is advanced and the step's outcome written to `out` (the symbol actor's hot path:
 * nothing is allocated). The same arithmetic as `trendStep`, which is this on a copy.
 */
export function advanceTrend(state: TrendState, close: number, params: TrendParams, out: TrendStepOut): void {
  if (!(Number.isFinite(close) && close > 0)) {
    out.signal = 0;
    out.fired = false;
    out.z = state.lastZ;
    return;
  }
  const p = boundedOf(params);
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
  out.fired = warm && Math.abs(z) >= p.entryZ && Math.abs(state.lastZ) < p.entryZ;
  out.signal = warm && Math.abs(z) >= p.entryZ ? clamp(z / (2 * p.entryZ), -1, 1) : 0;
  out.z = z;
  state.fast = fast;
  state.slow = slow;
  state.volEwma = volEwma;
  state.bars = bars;
  state.lastClose = close;
  state.lastZ = z;
}

/** One bar on a copy of `state` (the state handed in is left as it was). */
export function trendStep(
  state: TrendState,
  close: number,
  params: TrendParams,
): { state: TrendState; signal: number; fired: boolean; z: number } {
  if (!(Number.isFinite(close) && close > 0)) return { state, signal: 0, fired: false, z: state.lastZ };
  const next = { ...state };
  const out: TrendStepOut = { signal: 0, fired: false, z: 0 };
  advanceTrend(next, close, params, out);
  return { state: next, signal: out.signal, fired: out.fired, z: out.z };
}
