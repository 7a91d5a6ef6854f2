/**
 * From regime posteriors to a trading signal. The signal is label-free: it is the posterior's expected return per
 * unit of expected risk, measured against the model's most decisive regime, so it means the same thing whichever
 * order a calibration put the regimes in and however many there are. `ops/hmm_calibration.json` then scales how
 * much conviction that buys (confidence gain), how big the quote is and how long to wait after a trade.
 *
 * Two variants run side by side: `stable_model` (long window, slow refresh, heavy smoothing) and
 * `canary_model` (short window, fast refresh, light smoothing); `ops/strategy_weights.json` blends them.
 */
import type { HmmParams } from './gaussian-hmm.js';

/** The model variants, as `ops/strategy_weights.json` names them. */
export const MODEL_VARIANTS = ['stable_model', 'canary_model'] as const;
export type ModelVariant = (typeof MODEL_VARIANTS)[number];

/**
 * The part of `ops/hmm_calibration.json` the signal uses (the config schema's output satisfies it; strategies/
 * may not import config/, so the shape is restated here).
 */
export interface SignalCalibration {
  confidence_gain: number;
  quote_multiplier: number;
  cooldown_scale: number;
}

/** The calibration file's defaults: no scaling. */
export const NEUTRAL_CALIBRATION: Readonly<SignalCalibration> = {
  confidence_gain: 1,
  quote_multiplier: 1,
  cooldown_scale: 1,
};

/** What a strategy hands the allocator each bar. */
export interface RegimeSignal {
  /** Direction and strength in [-1, 1]; positive means long. */
  signal: number;
  /** How sure the model is, in [0, 1] (after the confidence gain). */
  confidence: number;
  /** Most likely regime (a label of this calibration only). */
  regime: number;
  /** Multiplier on the quote size: the file's multiplier, shrunk when the model is unsure. */
  quoteMultiplier: number;
  /** Multiplier on the post-trade cooldown: the file's scale, up to doubled when the model is unsure. */
  cooldownScale: number;
}

/** No view: what a strategy reports before its first calibration or on bad input. */
export const FLAT_SIGNAL: Readonly<RegimeSignal> = {
  signal: 0,
  confidence: 0,
  regime: 0,
  quoteMultiplier: 0,
  cooldownScale: 1,
};

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** Posterior certainty in [0, 1]: 1 minus the entropy relative to a uniform posterior's. */
export function certaintyOf(probs: ArrayLike<number>): number {
  const k = probs.length;
  if (k <= 1) return 1;
  let h = 0;
  for (let j = 0; j < k; j++) {
    const p = probs[j]!;
    if (p > 0) h -= p * Math.log(p);
  }
  return clamp(1 - h / Math.log(k), 0, 1);
}

/** Turns a filter posterior into a signal for `params`, scaled by the calibration file. */
export function regimeSignal(
  probs: ArrayLike<number>,
  params: HmmParams,
  calibration: SignalCalibration = NEUTRAL_CALIBRATION,
): RegimeSignal {
  return regimeSignalInto({ ...FLAT_SIGNAL }, probs, params, calibration);
}

/** `regimeSignal` written into `out` (returned): the symbol actor's hot path reuses one object per variant. */
export function regimeSignalInto(
  out: RegimeSignal,
  probs: ArrayLike<number>,
  params: HmmParams,
  calibration: SignalCalibration = NEUTRAL_CALIBRATION,
): RegimeSignal {
  const k = params.mu.length;
  if (probs.length !== k || k === 0) return flatInto(out);
  let mean = 0;
  let second = 0;
  let edgeRef = 0;
  let regime = 0;
  for (let j = 0; j < k; j++) {
    const p = probs[j]!;
    const m = params.mu[j]!;
    const s = params.sigma[j]!;
    mean += p * m;
    second += p * (s * s + m * m);
    edgeRef = Math.max(edgeRef, Math.abs(m) / s);
    if (p > probs[regime]!) regime = j;
  }
  // Mixture variance; never below zero from cancellation.
  const sd = Math.sqrt(Math.max(second - mean * mean, 0));
  const direction = sd > 0 && edgeRef > 0 ? clamp(mean / sd / edgeRef, -1, 1) : 0;
  const confidence = clamp(calibration.confidence_gain * certaintyOf(probs), 0, 1);
  const signal = clamp(direction * confidence, -1, 1);
  if (!(Number.isFinite(signal) && Number.isFinite(confidence))) return flatInto(out);
  out.signal = signal;
  out.confidence = confidence;
  out.regime = regime;
  out.quoteMultiplier = calibration.quote_multiplier * confidence;
  out.cooldownScale = calibration.cooldown_scale * (2 - confidence);
  return out;
}

function flatInto(out: RegimeSignal): RegimeSignal {
  out.signal = FLAT_SIGNAL.signal;
  out.confidence = FLAT_SIGNAL.confidence;
  out.regime = FLAT_SIGNAL.regime;
  out.quoteMultiplier = FLAT_SIGNAL.quoteMultiplier;
  out.cooldownScale = FLAT_SIGNAL.cooldownScale;
  return out;
}

/** How a variant calibrates and smooths. Windows and intervals are in bars. */
export interface VariantSpec {
  /** Regimes of the model. */
  states: number;
  /** Bars needed before the first calibration. */
  warmupBars: number;
  /** Bars of history a calibration uses (the most recent ones). */
  windowBars: number;
  /** Bars between recalibrations. */
  refreshBars: number;
  /** Weight of the newest signal in the exponential smoothing (1 = none). */
  smoothing: number;
}

/** The part of the calibration file that shapes the variants. */
export interface VariantCalibration {
  states?: number;
  refresh_bars?: number | undefined;
}

/** Default bars between stable recalibrations when the file sets none (about 3.5 days of minute bars). */
const STABLE_REFRESH_BARS = 5_000;

/**
 * The two variants. Both use the file's `states`. The canary sees a quarter of the history, refreshes four times
 * as often and smooths less, so it adapts first; if it keeps up it earns weight, if it is noise the stable model
 * carries the blend.
 */
export function variantSpec(variant: ModelVariant, calibration: VariantCalibration = {}): VariantSpec {
  const states = calibration.states ?? 3;
  const refresh = calibration.refresh_bars ?? STABLE_REFRESH_BARS;
  if (variant === 'stable_model')
    return { states, warmupBars: 2_000, windowBars: 20_000, refreshBars: refresh, smoothing: 0.2 };
  return {
    states,
    warmupBars: 500,
    windowBars: 5_000,
    refreshBars: Math.max(50, Math.round(refresh / 4)),
    smoothing: 0.5,
  };
}

/** Whether a variant should (re)calibrate now, given bars seen and the bar count at its last fit. */
export function calibrationDue(spec: VariantSpec, barsSeen: number, lastFitAtBar: number | undefined): boolean {
  if (lastFitAtBar === undefined) return barsSeen >= spec.warmupBars;
  return barsSeen - lastFitAtBar >= spec.refreshBars;
}

/** Exponential smoothing of signal and confidence; the rest comes from the newest signal. */
export function smoothSignal(prev: RegimeSignal | undefined, next: RegimeSignal, smoothing: number): RegimeSignal {
  if (prev === undefined) return next;
  return smoothInto({ ...prev }, next, smoothing);
}

/** `smoothSignal` with `prev` updated in place (returned); `next` may be a scratch object. */
export function smoothInto(prev: RegimeSignal, next: RegimeSignal, smoothing: number): RegimeSignal {
  const w = clamp(smoothing, 0, 1);
  const signal = clamp(prev.signal + w * (next.signal - prev.signal), -1, 1);
  const confidence = clamp(prev.confidence + w * (next.confidence - prev.confidence), 0, 1);
  prev.signal = signal;
  prev.confidence = confidence;
  prev.regime = next.regime;
  prev.quoteMultiplier = next.quoteMultiplier;
  prev.cooldownScale = next.cooldownScale;
  return prev;
}

/** The blend the allocator sizes from. */
export interface BlendedSignal {
  signal: number;
  confidence: number;
  quoteMultiplier: number;
  cooldownScale: number;
}

/**
 * Blends variant signals by weight. Weights are renormalised over the variants that have a finite signal and a
 * positive weight, so a canary not yet calibrated hands its share to the stable model instead of diluting it.
 */
export function blendSignals<K extends string>(
  signals: Partial<Record<K, RegimeSignal | undefined>>,
  weights: Partial<Record<K, number>>,
): BlendedSignal {
  const usable = (Object.keys(signals) as K[]).flatMap((key) => {
    const s = signals[key];
    const w = weights[key] ?? 0;
    const finite =
      s !== undefined && [s.signal, s.confidence, s.quoteMultiplier, s.cooldownScale].every(Number.isFinite);
    return finite && w > 0 && Number.isFinite(w) ? [{ s, w }] : [];
  });
  // Weights relative to the largest, so even absurd weights (1e308) cannot overflow the sums.
  const maxW = usable.reduce((m, u) => Math.max(m, u.w), 0);
  let total = 0;
  const acc = { signal: 0, confidence: 0, quoteMultiplier: 0, cooldownScale: 0 };
  for (const { s, w: raw } of usable) {
    const w = raw / maxW;
    total += w;
    acc.signal += w * clamp(s.signal, -1, 1);
    acc.confidence += w * clamp(s.confidence, 0, 1);
    acc.quoteMultiplier += w * s.quoteMultiplier;
    acc.cooldownScale += w * s.cooldownScale;
  }
  if (total === 0) return { signal: 0, confidence: 0, quoteMultiplier: 0, cooldownScale: 1 };
  return {
    signal: clamp(acc.signal / total, -1, 1),
    confidence: clamp(acc.confidence / total, 0, 1),
    quoteMultiplier: acc.quoteMultiplier / total,
    cooldownScale: acc.cooldownScale / total,
  };
}
