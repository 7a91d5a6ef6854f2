/**
 * One symbol's strategy stack, bar by bar: the two HMM variants (stable + canary, blended by
 * `ops/strategy_weights.json`) and trend follow. Pure and shared: the symbol actor runs it live and
 * `bosun backtest` runs the very same function over the simulator's seeded paths.
 *
 * Calibration (Baum–Welch) is not done here: it is the expensive part, so the step only says which variants are
 * due and the caller fits them off the tick path and hands the parameters back with `withCalibration`.
 */
import { createFilter, type FilterSnapshot, type HmmParams } from './gaussian-hmm.js';
import {
  type BlendedSignal,
  blendSignals,
  calibrationDue,
  MODEL_VARIANTS,
  type ModelVariant,
  type RegimeSignal,
  regimeSignal,
  type SignalCalibration,
  smoothSignal,
  type VariantCalibration,
  variantSpec,
} from './regime-signal.js';
import { initialTrendState, type TrendParams, type TrendState, trendStep } from './trend.js';

export interface VariantState {
  params: HmmParams | null;
  filter: FilterSnapshot | null;
  lastFitAtBar: number | null;
  /** A calibration was requested and has not come back yet (never two at once). */
  pending: boolean;
  signal: RegimeSignal | null;
}

export interface StrategyState {
  bars: number;
  lastClose: number | null;
  /**
   * Bar log-returns, newest last, at most `maxReturns` long. Appended in place (the array is owned by this state)
   * so a 20,000-bar window is not copied on every bar; it is still plain JSON.
   */
  returns: number[];
  variants: Record<ModelVariant, VariantState>;
  trend: TrendState;
}

export interface StrategyEnv {
  /** Normalised model weights (`stable_model`, `canary_model`). */
  weights: Partial<Record<ModelVariant, number>>;
  calibration: SignalCalibration & VariantCalibration;
  trend: TrendParams;
  /** Overrides the variants' warm-up (bars before the first fit); paper runs and tests use a short one. */
  warmupBars?: number | undefined;
  /** Share of the trend signal in the combined signal (the rest is the HMM blend); 0..1. */
  trendWeight: number;
}

export interface StrategyOutput {
  state: StrategyState;
  hmm: BlendedSignal;
  trend: number;
  /** The trend crossed its entry threshold on this bar (`trend_follow_signals_total`). */
  trendFired: boolean;
  /** Combined signal in [-1, 1] the allocator sizes from. */
  signal: number;
  /** Which strategy the position change is attributed to: the larger contribution. */
  strategy: 'hmm' | 'trend';
  quoteMultiplier: number;
  cooldownScale: number;
  /** Variants whose calibration is due now (the caller fits them and calls `withCalibration`). */
  calibrate: ModelVariant[];
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

export function initialStrategyState(): StrategyState {
  const variant = (): VariantState => ({
    params: null,
    filter: null,
    lastFitAtBar: null,
    pending: false,
    signal: null,
  });
  return {
    bars: 0,
    lastClose: null,
    returns: [],
    variants: { stable_model: variant(), canary_model: variant() },
    trend: initialTrendState(),
  };
}

/** Bars a variant calibrates on and the history kept for it. */
export function specOf(variant: ModelVariant, env: Pick<StrategyEnv, 'calibration' | 'warmupBars'>) {
  const spec = variantSpec(variant, env.calibration);
  if (env.warmupBars === undefined) return spec;
  return {
    ...spec,
    warmupBars: env.warmupBars,
    windowBars: Math.min(spec.windowBars, Math.max(env.warmupBars * 4, 50)),
  };
}

/** The most history any variant needs: the returns buffer is trimmed to this. */
function maxReturns(env: Pick<StrategyEnv, 'calibration' | 'warmupBars'>): number {
  return Math.max(...MODEL_VARIANTS.map((v) => specOf(v, env).windowBars));
}

/** The window a variant fits on: the newest `windowBars` returns (a copy, handed to the fitter). */
export function calibrationWindow(state: StrategyState, variant: ModelVariant, env: StrategyEnv): number[] {
  const spec = specOf(variant, env);
  return state.returns.slice(-spec.windowBars);
}

/** Folds one closed bar into the state. `state` is updated in place and returned (it is owned by one actor). */
export function onBar(state: StrategyState, close: number, env: StrategyEnv): StrategyOutput {
  const flat = { signal: 0, confidence: 0, quoteMultiplier: 0, cooldownScale: 1 };
  if (!(Number.isFinite(close) && close > 0)) {
    return {
      state,
      hmm: flat,
      trend: 0,
      trendFired: false,
      signal: 0,
      strategy: 'hmm',
      quoteMultiplier: 0,
      cooldownScale: 1,
      calibrate: [],
    };
  }
  const x = state.lastClose === null ? Number.NaN : Math.log(close / state.lastClose);
  state.lastClose = close;
  state.bars += 1;
  if (!Number.isNaN(x)) {
    state.returns.push(x);
    const keep = maxReturns(env);
    if (state.returns.length > keep * 1.25) state.returns.splice(0, state.returns.length - keep);
  }

  const calibrate: ModelVariant[] = [];
  const signals: Partial<Record<ModelVariant, RegimeSignal>> = {};
  for (const variant of MODEL_VARIANTS) {
    const v = state.variants[variant];
    const spec = specOf(variant, env);
    if (v.params && !Number.isNaN(x)) {
      const f = createFilter(v.params, v.filter ?? undefined);
      const step = f.step(x);
      const raw = regimeSignal(step.probs, v.params, env.calibration);
      v.filter = f.snapshot();
      v.signal = smoothSignal(v.signal ?? undefined, raw, spec.smoothing);
    }
    if (v.signal) signals[variant] = v.signal;
    if (!v.pending && calibrationDue(spec, state.bars, v.lastFitAtBar ?? undefined)) {
      v.pending = true;
      calibrate.push(variant);
    }
  }
  const hmm = blendSignals(signals, env.weights);

  const t = trendStep(state.trend, close, env.trend);
  state.trend = t.state;

  const w = clamp(env.trendWeight, 0, 1);
  const hmmPart = (1 - w) * hmm.signal;
  const trendPart = w * t.signal;
  const hmmLive = Object.keys(signals).length > 0;
  return {
    state,
    hmm,
    trend: t.signal,
    trendFired: t.fired,
    signal: clamp(hmmPart + trendPart, -1, 1),
    strategy: Math.abs(trendPart) > Math.abs(hmmPart) ? 'trend' : 'hmm',
    // Before the HMM is calibrated the trend sizes alone with the file's multiplier.
    quoteMultiplier: hmmLive ? hmm.quoteMultiplier : env.calibration.quote_multiplier,
    cooldownScale: hmmLive ? hmm.cooldownScale : env.calibration.cooldown_scale,
    calibrate,
  };
}

/** Installs a fitted model for a variant (or clears `pending` when the fit failed: `params` null). */
export function withCalibration(
  state: StrategyState,
  variant: ModelVariant,
  params: HmmParams | null,
  atBar: number,
): StrategyState {
  const v = state.variants[variant];
  v.pending = false;
  v.lastFitAtBar = atBar;
  if (params) {
    v.params = params;
    v.filter = null;
  }
  return state;
}
