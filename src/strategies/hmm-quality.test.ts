/**
 * The quality bar, scored against the exchange simulator's own regime path (its `PricePath`, the
 * generator behind `GET /__sim/truth`): minute bars of BTC, whose hidden chain switches once per sim minute.
 */
import { describe, expect, it } from 'vitest';
import { PricePath, REGIMES, TRANSITIONS, volScaleOf } from '../venues/sim/price-path.js';
import { fitBaumWelch } from './baum-welch.js';
import { createFilter, type HmmParams } from './gaussian-hmm.js';

const STEPS_PER_MINUTE = 60;
const BTC = { code: 'BTC', startUsd: 60_000, stable: false };

/** `n` one-minute bar log-returns of the simulator's BTC path and the true regime (index into REGIMES) of each. */
function simulatorBars(seed: number, n: number) {
  const path = new PricePath(BTC, seed);
  const xs = new Float64Array(n);
  const truth = new Uint8Array(n);
  const names = REGIMES.map((r) => r.name as string);
  let prev: number | undefined;
  let m = 0;
  // Step 60m switches the regime before moving, so the bar closing at step 60m+59 lies wholly in one regime.
  path.advanceTo((n + 1) * STEPS_PER_MINUTE, (k, price) => {
    if (k % STEPS_PER_MINUTE !== STEPS_PER_MINUTE - 1 || m >= n) return;
    if (prev !== undefined) {
      xs[m] = Math.log(price / prev);
      truth[m] = names.indexOf(path.regimeAt(k));
      m++;
    }
    prev = price;
  });
  return { xs, truth };
}

/** The simulator's generating parameters, per minute bar: GBM drift less the Itô term, volatility over √60. */
function trueParams(): HmmParams {
  const s = volScaleOf('BTC');
  return {
    pi: REGIMES.map(() => 1 / REGIMES.length),
    A: TRANSITIONS.map((row) => [...row]),
    mu: REGIMES.map((r) => (r.driftPerHour * s - 0.5 * (r.volPerHour * s) ** 2) / 60),
    sigma: REGIMES.map((r) => (r.volPerHour * s) / Math.sqrt(60)),
  };
}

const PERMUTATIONS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/** Filter accuracy after the best matching of model labels to true regimes, and that matching (label → truth). */
function filterAccuracy(params: HmmParams, xs: Float64Array, truth: Uint8Array) {
  const f = createFilter(params);
  const confusion = [0, 1, 2].map(() => [0, 0, 0]);
  for (let t = 0; t < xs.length; t++) confusion[f.step(xs[t]!).regime]![truth[t]!]!++;
  let best = { accuracy: -1, map: PERMUTATIONS[0]! };
  for (const map of PERMUTATIONS) {
    const hits = map.reduce((a, to, from) => a + confusion[from]![to]!, 0);
    if (hits / xs.length > best.accuracy) best = { accuracy: hits / xs.length, map };
  }
  return best;
}

describe.each([1, 2])('HMM against the simulator (seed %i)', (seed) => {
  const { xs, truth } = simulatorBars(seed, 40_000);
  const train = { xs: xs.subarray(0, 20_000), truth: truth.subarray(0, 20_000) };
  const test = { xs: xs.subarray(20_000), truth: truth.subarray(20_000) };
  const truthParams = trueParams();
  const fit = fitBaumWelch(train.xs, { seed: 1 });

  it('calibrated on 20,000 bars, filters unseen bars at ≥ 95 % of the accuracy the true parameters give', () => {
    const oracle = filterAccuracy(truthParams, test.xs, test.truth);
    const calibrated = filterAccuracy(fit.params, test.xs, test.truth);
    expect(oracle.map).toEqual([0, 1, 2]);
    expect(oracle.accuracy).toBeGreaterThan(0.85);
    expect(calibrated.accuracy / oracle.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('does the same on the calibration window itself', () => {
    const oracle = filterAccuracy(truthParams, train.xs, train.truth);
    const calibrated = filterAccuracy(fit.params, train.xs, train.truth);
    expect(calibrated.accuracy / oracle.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('recovers every volatility within 10 %, and every mean within 10 % of its regime volatility', () => {
    const { map } = filterAccuracy(fit.params, train.xs, train.truth);
    // Regimes come out ordered by mean: bear, volatile, bull.
    expect(map).toEqual([2, 1, 0]);
    map.forEach((j, label) => {
      const sigma = truthParams.sigma[j]!;
      expect(Math.abs(fit.params.sigma[label]! - sigma) / sigma).toBeLessThan(0.1);
      expect(Math.abs(fit.params.mu[label]! - truthParams.mu[j]!) / sigma).toBeLessThan(0.1);
    });
  });

  it('recovers the trending regimes’ means within 10 % of what the bars actually drifted', () => {
    // The generating drift itself is only known to ±1 standard error ≈ ±9 % from 20,000 bars (even with the
    // true labels), so the sharp test is against the realised mean of each regime's bars.
    const { map } = filterAccuracy(fit.params, train.xs, train.truth);
    for (const name of ['bull', 'bear'] as const) {
      const j = REGIMES.findIndex((r) => r.name === name);
      let sum = 0;
      let count = 0;
      train.truth.forEach((r, t) => {
        if (r === j) {
          sum += train.xs[t]!;
          count++;
        }
      });
      const realised = sum / count;
      const fitted = fit.params.mu[map.indexOf(j)]!;
      expect(Math.abs(fitted - realised) / Math.abs(realised)).toBeLessThan(0.1);
    }
  });

  it('learns how long the regimes last (self-transitions within 1 % of the truth)', () => {
    const { map } = filterAccuracy(fit.params, train.xs, train.truth);
    map.forEach((j, label) => {
      expect(Math.abs(fit.params.A[label]![label]! - truthParams.A[j]![j]!)).toBeLessThan(0.01);
    });
  });
});
