/**
 * One symbol's strategy stack, bar by bar: the two HMM variants (stable + canary, blended by
 * `ops/strategy_weights.json`) and trend follow. Pure and shared: the symbol actor runs it live and
 * `bosun backtest` runs the very same function over the simulator's seeded paths.
 *
 * Calibration (Baum–Welch) is not done here: it is the expensive part, so the step only says which variants are
 * due and the caller fits them off the tick path and hands the parameters back with `withCalibration`.
 */
import { createFilter, type FilterSnapshot, type HmmParams, type RegimeFilter } from './gaussian-hmm.js';
import {
  type BlendedSignal,
  calibrationDue,
  FLAT_SIGNAL,
  MODEL_VARIANTS,
  type ModelVariant,
  type RegimeSignal,
  regimeSignalInto,
  type SignalCalibration,
  smoothInto,
  type VariantCalibration,
  type VariantSpec,
  variantSpec,
} from './regime-signal.js';
import { advanceTrend, initialTrendState, type TrendParams, type TrendState, type TrendStepOut } from './trend.js';

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

/** What `onBar` derives from an environment, once per environment object (config is replaced, never mutated). */
interface EnvPlan {
  specs: Record<ModelVariant, VariantSpec>;
  maxReturns: number;
}
const plans = new WeakMap<StrategyEnv, EnvPlan>();
function planOf(env: StrategyEnv): EnvPlan {
  let plan = plans.get(env);
  if (plan === undefined) {
    const specs = { stable_model: specOf('stable_model', env), canary_model: specOf('canary_model', env) };
    plan = { specs, maxReturns: Math.max(...MODEL_VARIANTS.map((v) => specs[v].windowBars)) };
    plans.set(env, plan);
  }
  return plan;
}

/**
 * A variant's forward filter kept alive between bars, with the snapshot it last wrote. It is used only while the
 * variant still holds that very snapshot and parameters (a calibration, a restart or a history fold replaces them,
 * and the next bar builds a fresh filter from what the state holds, exactly as before).
 */
interface LiveFilter {
  params: HmmParams;
  snapshot: FilterSnapshot;
  filter: RegimeFilter;
}
const liveFilters = new WeakMap<VariantState, LiveFilter>();

/** One bar through a variant's filter: `v.filter` refreshed, the posterior returned (valid until the next step). */
function filterStep(v: VariantState, params: HmmParams, x: number): ArrayLike<number> {
  const live = liveFilters.get(v);
  if (live !== undefined && live.params === params && live.snapshot === v.filter) {
    // Resuming from the snapshot renormalises it: the live filter does the same, bit for bit.
    live.filter.renormalise();
    const probs = live.filter.step(x).probs;
    live.filter.snapshotInto(live.snapshot);
    return probs;
  }
  const filter = createFilter(params, v.filter ?? undefined);
  const probs = filter.step(x).probs;
  const snapshot = filter.snapshot();
  v.filter = snapshot;
  liveFilters.set(v, { params, snapshot, filter });
  return probs;
}

// Scratch for one bar's raw variant signal and trend step (read at once, never kept).
const rawSignal: RegimeSignal = { ...FLAT_SIGNAL };
const trendOut: TrendStepOut = { signal: 0, fired: false, z: 0 };
/** Handed out when no variant is due (the common case): never mutated. */
const NOTHING_DUE: ModelVariant[] = Object.freeze([]) as unknown as ModelVariant[];

/** The window a variant fits on: the newest `windowBars` returns (a copy, handed to the fitter). */
export function calibrationWindow(state: StrategyState, variant: ModelVariant, env: StrategyEnv): number[] {
  const spec = specOf(variant, env);
  return state.returns.slice(-spec.windowBars);
}

/**
 * Folds one closed bar into the state. `state` is updated in place and returned (it is owned by one actor). Per bar
 * it allocates the output and its `hmm` blend only: the filters, the variant signals and the trend state are
 * updated in place, and `calibrate` is a shared empty array unless a variant fell due.
 */
export function onBar(state: StrategyState, close: number, env: StrategyEnv): StrategyOutput {
  if (!(Number.isFinite(close) && close > 0)) {
    return {
      state,
      hmm: { signal: 0, confidence: 0, quoteMultiplier: 0, cooldownScale: 1 },
      trend: 0,
      trendFired: false,
      signal: 0,
      strategy: 'hmm',
      quoteMultiplier: 0,
      cooldownScale: 1,
      calibrate: [],
    };
  }
  const plan = planOf(env);
  const x = state.lastClose === null ? Number.NaN : Math.log(close / state.lastClose);
  state.lastClose = close;
  state.bars += 1;
  if (!Number.isNaN(x)) {
    state.returns.push(x);
    const keep = plan.maxReturns;
    if (state.returns.length > keep * 1.25) state.returns.splice(0, state.returns.length - keep);
  }

  let calibrate = NOTHING_DUE;
  let live = 0;
  for (const variant of MODEL_VARIANTS) {
    const v = state.variants[variant];
    const spec = plan.specs[variant];
    if (v.params && !Number.isNaN(x)) {
      const raw = regimeSignalInto(rawSignal, filterStep(v, v.params, x), v.params, env.calibration);
      v.signal = v.signal ? smoothInto(v.signal, raw, spec.smoothing) : { ...raw };
    }
    if (v.signal) live += 1;
    if (!v.pending && calibrationDue(spec, state.bars, v.lastFitAtBar ?? undefined)) {
      v.pending = true;
      if (calibrate === NOTHING_DUE) calibrate = [];
      calibrate.push(variant);
    }
  }
  const hmm = blendVariants(state.variants, env.weights);

  advanceTrend(state.trend, close, env.trend, trendOut);

  const w = clamp(env.trendWeight, 0, 1);
  const hmmPart = (1 - w) * hmm.signal;
  const trendPart = w * trendOut.signal;
  const hmmLive = live > 0;
  return {
    state,
    hmm,
    trend: trendOut.signal,
    trendFired: trendOut.fired,
    signal: clamp(hmmPart + trendPart, -1, 1),
    strategy: Math.abs(trendPart) > Math.abs(hmmPart) ? 'trend' : 'hmm',
    // Before the HMM is calibrated the trend sizes alone with the file's multiplier.
    quoteMultiplier: hmmLive ? hmm.quoteMultiplier : env.calibration.quote_multiplier,
    cooldownScale: hmmLive ? hmm.cooldownScale : env.calibration.cooldown_scale,
    calibrate,
  };
}

/** The variant's signal when `blendSignals` would use it: finite fields and a finite positive weight; else 0. */
function usableWeight(s: RegimeSignal | null, w: number): number {
  if (s === null) return 0;
  const finite =
    Number.isFinite(s.signal) &&
    Number.isFinite(s.confidence) &&
    Number.isFinite(s.quoteMultiplier) &&
    Number.isFinite(s.cooldownScale);
  return finite && w > 0 && Number.isFinite(w) ? w : 0;
}

/**
 * `blendSignals` over the two variants in MODEL_VARIANTS order, without its intermediate arrays and records: the
 * same sums in the same order, so the same bits.
 */
function blendVariants(
  variants: Record<ModelVariant, VariantState>,
  weights: Partial<Record<ModelVariant, number>>,
): BlendedSignal {
  const a = variants.stable_model.signal;
  const b = variants.canary_model.signal;
  const wa = usableWeight(a, weights.stable_model ?? 0);
  const wb = usableWeight(b, weights.canary_model ?? 0);
  const maxW = Math.max(Math.max(0, wa), wb);
  let total = 0;
  let signal = 0;
  let confidence = 0;
  let quoteMultiplier = 0;
  let cooldownScale = 0;
  if (a !== null && wa > 0) {
    const w = wa / maxW;
    total += w;
    signal += w * clamp(a.signal, -1, 1);
    confidence += w * clamp(a.confidence, 0, 1);
    quoteMultiplier += w * a.quoteMultiplier;
    cooldownScale += w * a.cooldownScale;
  }
  if (b !== null && wb > 0) {
    const w = wb / maxW;
    total += w;
    signal += w * clamp(b.signal, -1, 1);
    confidence += w * clamp(b.confidence, 0, 1);
    quoteMultiplier += w * b.quoteMultiplier;
    cooldownScale += w * b.cooldownScale;
  }
  if (total === 0) return { signal: 0, confidence: 0, quoteMultiplier: 0, cooldownScale: 1 };
  return {
    signal: clamp(signal / total, -1, 1),
    confidence: clamp(confidence / total, 0, 1),
    quoteMultiplier: quoteMultiplier / total,
    cooldownScale: cooldownScale / total,
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
