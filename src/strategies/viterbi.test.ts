import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HmmParams } from './gaussian-hmm.js';
import { sampleHmm } from './hmm-sample.js';
import { viterbi } from './viterbi.js';

const CLEAN: HmmParams = {
  pi: [0.4, 0.3, 0.3],
  A: [
    [0.95, 0.03, 0.02],
    [0.04, 0.92, 0.04],
    [0.02, 0.03, 0.95],
  ],
  mu: [-0.01, 0, 0.01],
  sigma: [0.001, 0.0015, 0.001],
};

const logDensity = (x: number, m: number, s: number) =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s * Math.sqrt(2 * Math.PI));

/** The best path by trying all K^T of them: exact, tiny T only. */
function bestPathByEnumeration(p: HmmParams, xs: number[]) {
  const k = p.mu.length;
  let best = { path: [] as number[], logProb: Number.NEGATIVE_INFINITY };
  for (let code = 0; code < k ** xs.length; code++) {
    const path = xs.map((_, t) => Math.floor(code / k ** t) % k);
    let lp = Math.log(p.pi[path[0]!]!) + logDensity(xs[0]!, p.mu[path[0]!]!, p.sigma[path[0]!]!);
    for (let t = 1; t < xs.length; t++)
      lp += Math.log(p.A[path[t - 1]!]![path[t]!]!) + logDensity(xs[t]!, p.mu[path[t]!]!, p.sigma[path[t]!]!);
    if (lp > best.logProb) best = { path, logProb: lp };
  }
  return best;
}

describe('viterbi', () => {
  it('recovers the regime path of a clean synthetic sequence', () => {
    const { xs, states } = sampleHmm(CLEAN, 5_000, 3);
    const { path } = viterbi(CLEAN, xs);
    expect(path).toEqual(Array.from(states));
  });

  it('finds the same path and log-probability as exhaustive search', () => {
    const noisy: HmmParams = { ...CLEAN, sigma: [0.008, 0.01, 0.008] };
    fc.assert(
      fc.property(fc.array(fc.double({ min: -0.03, max: 0.03, noNaN: true }), { minLength: 1, maxLength: 6 }), (xs) => {
        const got = viterbi(noisy, xs);
        const want = bestPathByEnumeration(noisy, xs);
        expect(got.logProb).toBeCloseTo(want.logProb, 8);
        expect(got.path).toEqual(want.path);
      }),
      { numRuns: 100 },
    );
  });

  it('bridges a missing bar from its neighbours', () => {
    const xs = [0.01, 0.011, Number.NaN, 0.009, 0.01];
    expect(viterbi(CLEAN, xs).path).toEqual([2, 2, 2, 2, 2]);
  });

  it('returns an empty path for an empty sequence', () => {
    expect(viterbi(CLEAN, [])).toEqual({ path: [], logProb: 0 });
  });
});
