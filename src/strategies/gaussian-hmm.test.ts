import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import {
  createFilter,
  type HmmParams,
  logLikelihood,
  MAX_ABS_RETURN,
  parseHmmParams,
  stationaryDistribution,
} from './gaussian-hmm.js';
import { createRng } from './seeded-random.js';

const PARAMS: HmmParams = {
  pi: [0.2, 0.5, 0.3],
  A: [
    [0.9, 0.07, 0.03],
    [0.1, 0.8, 0.1],
    [0.02, 0.08, 0.9],
  ],
  mu: [-0.002, 0, 0.0015],
  sigma: [0.001, 0.004, 0.0008],
};

const density = (x: number, m: number, s: number) => Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));

/** Filtering posteriors and likelihood by summing over every regime path: exact, exponential, tiny T only. */
function bruteForce(p: HmmParams, xs: number[]) {
  const k = p.mu.length;
  const posts: number[][] = [];
  let likelihood = 0;
  for (let T = 1; T <= xs.length; T++) {
    const marginal = new Array<number>(k).fill(0);
    likelihood = 0;
    for (let code = 0; code < k ** T; code++) {
      const path = Array.from({ length: T }, (_, t) => Math.floor(code / k ** t) % k);
      let w = p.pi[path[0]!]! * density(xs[0]!, p.mu[path[0]!]!, p.sigma[path[0]!]!);
      for (let t = 1; t < T; t++)
        w *= p.A[path[t - 1]!]![path[t]!]! * density(xs[t]!, p.mu[path[t]!]!, p.sigma[path[t]!]!);
      marginal[path[T - 1]!]! += w;
      likelihood += w;
    }
    posts.push(marginal.map((m) => m / likelihood));
  }
  return { posts, logLik: Math.log(likelihood) };
}

describe('parseHmmParams', () => {
  it('renormalises pi and rows of A that are off by rounding', () => {
    const p = parseHmmParams({ ...PARAMS, pi: [0.2, 0.5, 0.3 + 5e-7] });
    expect(p.pi.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
  });

  it.each([
    ['a row of A that does not sum to 1', { A: [[0.5, 0.4, 0], PARAMS.A[1], PARAMS.A[2]] }, /A\.0/],
    ['a non-positive sigma', { sigma: [0.001, 0, 0.001] }, /sigma\.1/],
    ['mismatched lengths', { pi: [0.5, 0.5] }, /pi/],
    ['a NaN mean', { mu: [Number.NaN, 0, 0] }, /mu\.0/],
    ['a non-square A', { A: [PARAMS.A[0], PARAMS.A[1], [0.5, 0.5]] }, /A\.2/],
  ])('rejects %s, naming the field', (_name, patch, field) => {
    const attempt = () => parseHmmParams({ ...PARAMS, ...patch });
    expect(attempt).toThrow(AppError);
    expect(attempt).toThrow(field);
  });

  it('rejects unknown keys (a typo is an error, not ignored)', () => {
    expect(() => parseHmmParams({ ...PARAMS, sigmas: [1] })).toThrow(/invalid HMM parameters/);
  });
});

describe('createFilter', () => {
  it('matches the exact posteriors and likelihood of brute-force enumeration', () => {
    const xs = [0.0012, -0.003, 0.0001, 0.006, -0.0004, 0.0019];
    const exact = bruteForce(PARAMS, xs);
    const f = createFilter(PARAMS);
    xs.forEach((x, t) => {
      const out = f.step(x);
      for (let j = 0; j < 3; j++) expect(out.probs[j]).toBeCloseTo(exact.posts[t]![j]!, 12);
    });
    expect(f.logLikelihood).toBeCloseTo(exact.logLik, 9);
    expect(logLikelihood(PARAMS, xs)).toBeCloseTo(exact.logLik, 9);
  });

  it('reports the argmax regime and the bar count', () => {
    const f = createFilter(PARAMS);
    let out = f.step(0.03);
    expect(out.regime).toBe(1);
    for (let i = 0; i < 20; i++) out = f.step(-0.002);
    expect(out.regime).toBe(0);
    expect(out.t).toBe(21);
  });

  it('treats a NaN bar as missing: prediction only, no likelihood', () => {
    const f = createFilter(PARAMS);
    f.step(0.001);
    const before = Array.from(f.snapshot().probs);
    const ll = f.logLikelihood;
    const out = f.step(Number.NaN);
    const predicted = [0, 1, 2].map((j) => before.reduce((a, p, i) => a + p * PARAMS.A[i]![j]!, 0));
    for (let j = 0; j < 3; j++) expect(out.probs[j]).toBeCloseTo(predicted[j]!, 15);
    expect(f.logLikelihood).toBe(ll);
  });

  it('resumes from a JSON snapshot exactly where it left off', () => {
    const rng = createRng(3);
    const xs = Array.from({ length: 400 }, () => 0.002 * rng.gaussian());
    const straight = createFilter(PARAMS);
    for (const x of xs) straight.step(x);
    const first = createFilter(PARAMS);
    for (const x of xs.slice(0, 150)) first.step(x);
    const resumed = createFilter(PARAMS, JSON.parse(JSON.stringify(first.snapshot())));
    for (const x of xs.slice(150)) resumed.step(x);
    expect(resumed.snapshot().probs).toEqual(straight.snapshot().probs);
    expect(resumed.logLikelihood).toBeCloseTo(straight.logLikelihood, 8);
  });

  it('rejects a snapshot that is not a distribution over its regimes', () => {
    expect(() => createFilter(PARAMS, { probs: [0.5, 0.5], t: 1, logLikelihood: 0 })).toThrow(AppError);
    expect(() => createFilter(PARAMS, { probs: [0.5, Number.NaN, 0.5], t: 1, logLikelihood: 0 })).toThrow(AppError);
  });

  it('stays finite and normalised over 1e6 steps of extreme returns', () => {
    // Near-deterministic transitions and a very narrow regime make underflow as likely as it gets.
    const harsh: HmmParams = {
      pi: [1, 0, 0],
      A: [
        [1 - 1e-12, 1e-12, 0],
        [0, 1 - 1e-12, 1e-12],
        [1e-12, 0, 1 - 1e-12],
      ],
      mu: [-0.5, 0, 1e-6],
      sigma: [1e-9, 1e-4, 10],
    };
    const rng = createRng(11);
    const extremes = [Number.MAX_VALUE, -Number.MAX_VALUE, 1e300, -1e-300, Number.POSITIVE_INFINITY, 0, 5e-324];
    const f = createFilter(harsh);
    let worst = 0;
    let bad = 0;
    for (let t = 0; t < 1_000_000; t++) {
      const u = rng.next();
      const x = u < 0.3 ? extremes[t % extremes.length]! : u < 0.6 ? 1e3 * rng.gaussian() : 1e-6 * rng.gaussian();
      const out = f.step(x);
      let s = 0;
      for (let j = 0; j < 3; j++) {
        const p = out.probs[j]!;
        if (!(p >= 0 && p <= 1)) bad++;
        s += p;
      }
      worst = Math.max(worst, Math.abs(s - 1));
      if (!Number.isFinite(out.logLik)) bad++;
    }
    expect(bad).toBe(0);
    expect(worst).toBeLessThan(1e-9);
    expect(Number.isFinite(f.logLikelihood)).toBe(true);
  });

  it('yields a probability distribution for any input and any valid model', () => {
    const dist = (k: number) =>
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: k, maxLength: k }).map((w) => {
        const v = w.map((x) => x + 1e-6);
        const s = v.reduce((a, b) => a + b, 0);
        return v.map((x) => x / s);
      });
    const model = fc.integer({ min: 1, max: 5 }).chain((k) =>
      fc.record({
        pi: dist(k),
        A: fc.array(dist(k), { minLength: k, maxLength: k }),
        mu: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: k, maxLength: k }),
        sigma: fc.array(fc.double({ min: 1e-12, max: 10, noNaN: true }), { minLength: k, maxLength: k }),
      }),
    );
    fc.assert(
      fc.property(model, fc.array(fc.double(), { minLength: 1, maxLength: 50 }), (params, xs) => {
        const f = createFilter(params);
        for (const x of xs) {
          const out = f.step(x);
          const probs = Array.from(out.probs);
          expect(probs.every((p) => p >= 0 && p <= 1)).toBe(true);
          expect(Math.abs(probs.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
          expect(out.regime).toBe(probs.indexOf(Math.max(...probs)));
          expect(Number.isFinite(out.logLik)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('clamps returns beyond ±MAX_ABS_RETURN rather than overflowing', () => {
    const a = createFilter(PARAMS).step(Number.POSITIVE_INFINITY);
    const b = createFilter(PARAMS).step(MAX_ABS_RETURN);
    expect(Array.from(a.probs)).toEqual(Array.from(b.probs));
  });
});

describe('stationaryDistribution', () => {
  it('is left-invariant under A', () => {
    const s = stationaryDistribution(PARAMS.A);
    for (let j = 0; j < 3; j++) expect(s.reduce((a, p, i) => a + p * PARAMS.A[i]![j]!, 0)).toBeCloseTo(s[j]!, 12);
  });
});
