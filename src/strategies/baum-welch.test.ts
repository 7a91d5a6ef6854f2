import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import { baumWelchSteps, fitBaumWelch, orderByMean, rankGroups } from './baum-welch.js';
import { type HmmParams, logLikelihood } from './gaussian-hmm.js';
import { sampleHmm } from './hmm-sample.js';
import { createRng } from './seeded-random.js';

/** Regimes far enough apart in mean (|mu| ≥ 0.5 sigma) that 10 % on every mean is a fair bar at 20,000 bars. */
const SEPARATED: HmmParams = {
  pi: [1 / 3, 1 / 3, 1 / 3],
  A: [
    [0.98, 0.015, 0.005],
    [0.01, 0.98, 0.01],
    [0.005, 0.015, 0.98],
  ],
  mu: [-0.002, 0.001, 0.003],
  sigma: [0.003, 0.002, 0.004],
};

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('fitBaumWelch', () => {
  const { xs } = sampleHmm(SEPARATED, 20_000, 42);
  const fit = fitBaumWelch(xs, { seed: 7 });

  it('recovers every mean, volatility and persistence within 10 % on 20,000 bars', () => {
    expect(fit.converged).toBe(true);
    for (let j = 0; j < 3; j++) {
      expect(relErr(fit.params.mu[j]!, SEPARATED.mu[j]!)).toBeLessThan(0.1);
      expect(relErr(fit.params.sigma[j]!, SEPARATED.sigma[j]!)).toBeLessThan(0.1);
      expect(relErr(1 - fit.params.A[j]![j]!, 1 - SEPARATED.A[j]![j]!)).toBeLessThan(0.25);
    }
  });

  it('reaches at least the likelihood of the true parameters', () => {
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(logLikelihood(SEPARATED, xs) - 1e-6 * Math.abs(fit.logLikelihood));
    expect(fit.logLikelihood).toBeCloseTo(logLikelihood(fit.params, xs), 6);
  });

  it('orders regimes by ascending mean and reports occupancy as pi', () => {
    expect(fit.params.mu).toEqual([...fit.params.mu].sort((a, b) => a - b));
    expect(fit.params.pi.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Math.min(...fit.params.pi)).toBeGreaterThan(0.2);
  });

  it('is deterministic: the same window and seed give identical parameters', () => {
    expect(fitBaumWelch(xs, { seed: 7 })).toEqual(fit);
  });

  it('resumable: yields after the set-up and every EM iteration, and ends with the very same fit', () => {
    const steps = baumWelchSteps(xs, { seed: 7 });
    let yields = 0;
    let r = steps.next();
    while (!r.done) {
      yields += 1;
      r = steps.next();
    }
    expect(r.value).toEqual(fit);
    // Every candidate's probe iterations and every main iteration is its own step, plus the set-up.
    expect(yields).toBeGreaterThan(fit.iterations);
  });

  it('labels a permuted truth the same way (ordering makes calibrations comparable)', () => {
    const shuffled = orderByMean({
      pi: [0.2, 0.3, 0.5],
      A: [
        [0.8, 0.1, 0.1],
        [0.2, 0.7, 0.1],
        [0.3, 0.3, 0.4],
      ],
      mu: [0.3, -0.1, 0.1],
      sigma: [3, 1, 2],
    });
    expect(shuffled).toEqual({
      pi: [0.3, 0.5, 0.2],
      A: [
        [0.7, 0.1, 0.2],
        [0.3, 0.4, 0.3],
        [0.1, 0.1, 0.8],
      ],
      mu: [-0.1, 0.1, 0.3],
      sigma: [1, 2, 3],
    });
  });

  it('keeps every variance above the floor when bars repeat exactly', () => {
    // A third of the bars exactly 0 (a stale feed): unfloored, one regime collapses onto them with sigma → 0.
    const rng = createRng(5);
    const stale = Float64Array.from({ length: 3_000 }, (_, t) => (t % 3 === 0 ? 0 : 0.002 * rng.gaussian()));
    const mean = stale.reduce((a, x) => a + x, 0) / stale.length;
    const variance = stale.reduce((a, x) => a + (x - mean) ** 2, 0) / stale.length;
    const f = fitBaumWelch(stale, { seed: 1 });
    for (const s of f.params.sigma) expect(s * s).toBeGreaterThanOrEqual(1e-4 * variance * (1 - 1e-9));
    // The floor is what held: the zero bars got their own regime, pinned at it.
    expect(Math.min(...f.params.sigma) ** 2).toBeCloseTo(1e-4 * variance, 15);
    expect(Number.isFinite(f.logLikelihood)).toBe(true);
  });

  it('skips missing (NaN) bars and still recovers the volatilities', () => {
    const holes = Float64Array.from(xs.subarray(0, 10_000), (x, t) => (t % 10 === 3 ? Number.NaN : x));
    const f = fitBaumWelch(holes, { seed: 7 });
    for (let j = 0; j < 3; j++) expect(relErr(f.params.sigma[j]!, SEPARATED.sigma[j]!)).toBeLessThan(0.15);
  });

  it('rejects a window too short to fit and a bad K', () => {
    expect(() => fitBaumWelch([0.1, 0.2, 0.3], { k: 3 })).toThrow(AppError);
    expect(() => fitBaumWelch(xs, { k: 0 })).toThrow(/k must be/);
  });

  it('fits K = 1 as the sample mean and standard deviation', () => {
    const f = fitBaumWelch(xs.subarray(0, 1_000), { k: 1 });
    const window = Array.from(xs.subarray(0, 1_000));
    const mean = window.reduce((a, b) => a + b, 0) / window.length;
    const sd = Math.sqrt(window.reduce((a, x) => a + (x - mean) ** 2, 0) / window.length);
    expect(f.params.mu[0]).toBeCloseTo(mean, 12);
    expect(f.params.sigma[0]).toBeCloseTo(sd, 12);
    expect(f.params.A).toEqual([[1]]);
  });
});

describe('rankGroups (the initial groupings)', () => {
  /** The definition: observed bars sorted by (key, index), cut into k equal runs of ranks. */
  function reference(x: Float64Array, k: number, key: Float64Array): Int32Array {
    const ix = Array.from({ length: x.length }, (_, t) => t).filter((t) => !Number.isNaN(x[t]!));
    ix.sort((a, b) => key[a]! - key[b]! || a - b);
    const g = new Int32Array(x.length).fill(-1);
    for (let j = 0; j < k; j++)
      for (const t of ix.slice(Math.floor((j * ix.length) / k), Math.floor(((j + 1) * ix.length) / k))) g[t] = j;
    return g;
  }

  it('matches the sort-by-(key, index) definition, with ties, missing bars and every k', () => {
    const rng = createRng(11);
    for (let round = 0; round < 60; round++) {
      const n = 1 + Math.floor(rng.next() * 400);
      // Few distinct keys in some rounds, so ties straddle the cuts.
      const levels = round % 3 === 0 ? 3 : 1_000;
      const x = Float64Array.from({ length: n }, () => (rng.next() < 0.1 ? Number.NaN : rng.gaussian()));
      const key = Float64Array.from({ length: n }, () => Math.floor(rng.next() * levels) / levels);
      for (const k of [1, 2, 3, 5]) expect(rankGroups(x, k, key)).toEqual(reference(x, k, key));
    }
  });
});
