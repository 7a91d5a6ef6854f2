import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmmCalibrationFileSchema, StrategyWeightsFileSchema } from '../config/files.schema.js';
import type { HmmParams } from './gaussian-hmm.js';
import {
  blendSignals,
  calibrationDue,
  certaintyOf,
  FLAT_SIGNAL,
  type RegimeSignal,
  regimeSignal,
  type SignalCalibration,
  smoothSignal,
  variantSpec,
} from './regime-signal.js';

/** bear, volatile, bull: the order a calibration reports (ascending mean). */
const PARAMS: HmmParams = {
  pi: [1 / 3, 1 / 3, 1 / 3],
  A: [
    [0.99, 0.005, 0.005],
    [0.01, 0.98, 0.01],
    [0.005, 0.005, 0.99],
  ],
  mu: [-8e-5, 0, 6e-5],
  sigma: [9e-4, 2e-3, 5e-4],
};
const CAL: SignalCalibration = { confidence_gain: 1, quote_multiplier: 1, cooldown_scale: 1 };

const signalOf = (signal: number, confidence = 1): RegimeSignal => ({
  signal,
  confidence,
  regime: 0,
  quoteMultiplier: confidence,
  cooldownScale: 1,
});

describe('regimeSignal', () => {
  it('goes fully long in the most decisive up regime and short in the down regime', () => {
    const bull = regimeSignal([0, 0, 1], PARAMS, CAL);
    expect(bull.signal).toBeCloseTo(1, 12);
    expect(bull.confidence).toBe(1);
    expect(bull.regime).toBe(2);
    const bear = regimeSignal([1, 0, 0], PARAMS, CAL);
    // bear's edge (8e-5 / 9e-4) is 0.74 of bull's (6e-5 / 5e-4).
    expect(bear.signal).toBeCloseTo(-(8e-5 / 9e-4) / (6e-5 / 5e-4), 12);
  });

  it('is flat in a driftless regime and when the posterior is uniform', () => {
    expect(regimeSignal([0, 1, 0], PARAMS, CAL).signal).toBe(0);
    const uniform = regimeSignal([1 / 3, 1 / 3, 1 / 3], PARAMS, CAL);
    expect(uniform.confidence).toBeCloseTo(0, 12);
    expect(uniform.signal).toBeCloseTo(0, 12);
  });

  it('does not depend on how the regimes are labelled', () => {
    const perm = [2, 0, 1];
    const permuted: HmmParams = {
      pi: perm.map((i) => PARAMS.pi[i]!),
      A: perm.map((i) => perm.map((j) => PARAMS.A[i]![j]!)),
      mu: perm.map((i) => PARAMS.mu[i]!),
      sigma: perm.map((i) => PARAMS.sigma[i]!),
    };
    const probs = [0.2, 0.1, 0.7];
    const a = regimeSignal(probs, PARAMS, CAL);
    const b = regimeSignal(
      perm.map((i) => probs[i]!),
      permuted,
      CAL,
    );
    expect(b.signal).toBeCloseTo(a.signal, 14);
    expect(b.confidence).toBeCloseTo(a.confidence, 14);
  });

  it('scales conviction by confidence_gain, size by quote_multiplier and waiting by cooldown_scale', () => {
    const probs = [0.1, 0.2, 0.7];
    const base = regimeSignal(probs, PARAMS, CAL);
    const scaled = regimeSignal(probs, PARAMS, { confidence_gain: 1.5, quote_multiplier: 2, cooldown_scale: 3 });
    expect(scaled.confidence).toBeCloseTo(Math.min(1, 1.5 * base.confidence), 12);
    expect(scaled.signal / base.signal).toBeCloseTo(scaled.confidence / base.confidence, 12);
    expect(scaled.quoteMultiplier).toBeCloseTo(2 * scaled.confidence, 12);
    expect(scaled.cooldownScale).toBeCloseTo(3 * (2 - scaled.confidence), 12);
    expect(regimeSignal(probs, PARAMS, { ...CAL, confidence_gain: 10 }).confidence).toBe(1);
  });

  it('accepts the calibration file as parsed by its schema', () => {
    const file = HmmCalibrationFileSchema.parse({ confidence_gain: 0.5 });
    expect(regimeSignal([0, 0, 1], PARAMS, file).confidence).toBe(0.5);
    expect(variantSpec('stable_model', file).states).toBe(3);
  });

  it('reports no view for a posterior of the wrong length', () => {
    expect(regimeSignal([0.5, 0.5], PARAMS, CAL)).toEqual(FLAT_SIGNAL);
  });

  it('stays in [-1, 1] with confidence in [0, 1] for any posterior and calibration', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.double({ min: 1e-6, max: 10, noNaN: true }),
        (w, gain) => {
          const s = w.reduce((a, b) => a + b, 0);
          const probs = s > 0 ? w.map((x) => x / s) : [1 / 3, 1 / 3, 1 / 3];
          const out = regimeSignal(probs, PARAMS, { ...CAL, confidence_gain: gain });
          expect(out.signal).toBeGreaterThanOrEqual(-1);
          expect(out.signal).toBeLessThanOrEqual(1);
          expect(out.confidence).toBeGreaterThanOrEqual(0);
          expect(out.confidence).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

describe('certaintyOf', () => {
  it('is 1 for a sure posterior and 0 for a uniform one', () => {
    expect(certaintyOf([0, 1, 0])).toBe(1);
    expect(certaintyOf([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(0, 12);
  });
});

describe('variants', () => {
  it('give the canary a shorter window, faster refresh and lighter smoothing than the stable model', () => {
    const stable = variantSpec('stable_model', { states: 4, refresh_bars: 2_000 });
    const canary = variantSpec('canary_model', { states: 4, refresh_bars: 2_000 });
    expect(stable).toMatchObject({ states: 4, refreshBars: 2_000 });
    expect(canary.states).toBe(4);
    expect(canary.windowBars).toBeLessThan(stable.windowBars);
    expect(canary.refreshBars).toBe(500);
    expect(canary.smoothing).toBeGreaterThan(stable.smoothing);
  });

  it('calibrate first after warm-up, then every refresh interval', () => {
    const spec = variantSpec('stable_model');
    expect(calibrationDue(spec, spec.warmupBars - 1, undefined)).toBe(false);
    expect(calibrationDue(spec, spec.warmupBars, undefined)).toBe(true);
    expect(calibrationDue(spec, 10_000 + spec.refreshBars - 1, 10_000)).toBe(false);
    expect(calibrationDue(spec, 10_000 + spec.refreshBars, 10_000)).toBe(true);
  });

  it('smooth signal and confidence exponentially', () => {
    const s = smoothSignal(signalOf(0, 0), signalOf(1, 1), 0.25);
    expect(s.signal).toBe(0.25);
    expect(s.confidence).toBe(0.25);
    expect(smoothSignal(undefined, signalOf(0.7), 0.25).signal).toBe(0.7);
  });
});

describe('blendSignals', () => {
  it('weights the variants by the normalised strategy weights file', () => {
    const { weights } = StrategyWeightsFileSchema.parse({ weights: { stable_model: 7, canary_model: 3 } });
    const b = blendSignals({ stable_model: signalOf(1), canary_model: signalOf(-1, 0.5) }, weights);
    expect(b.signal).toBeCloseTo(0.4, 12);
    expect(b.confidence).toBeCloseTo(0.85, 12);
  });

  it('hands a missing or non-finite variant’s share to the others', () => {
    const weights = { stable_model: 0.5, canary_model: 0.5 };
    expect(blendSignals({ stable_model: signalOf(0.6) }, weights).signal).toBeCloseTo(0.6, 12);
    expect(
      blendSignals({ stable_model: signalOf(0.6), canary_model: signalOf(Number.NaN) }, weights).signal,
    ).toBeCloseTo(0.6, 12);
  });

  it('is flat when no variant has weight', () => {
    expect(blendSignals({ stable_model: signalOf(1) }, { stable_model: 0, canary_model: 1 })).toEqual({
      signal: 0,
      confidence: 0,
      quoteMultiplier: 0,
      cooldownScale: 1,
    });
  });

  it('stays in [-1, 1] for any signals and weights', () => {
    const anySignal = fc.record({
      signal: fc.double(),
      confidence: fc.double(),
      regime: fc.nat(),
      quoteMultiplier: fc.double({ min: 0, max: 10, noNaN: true }),
      cooldownScale: fc.double({ min: 0, max: 10, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.option(anySignal, { nil: undefined }),
        fc.option(anySignal, { nil: undefined }),
        fc.double(),
        fc.double(),
        (stable, canary, ws, wc) => {
          const b = blendSignals(
            { stable_model: stable, canary_model: canary },
            { stable_model: ws, canary_model: wc },
          );
          expect(b.signal).toBeGreaterThanOrEqual(-1);
          expect(b.signal).toBeLessThanOrEqual(1);
          expect(b.confidence).toBeGreaterThanOrEqual(0);
          expect(b.confidence).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 500 },
    );
  });
});
