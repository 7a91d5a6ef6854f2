/**
 * A Gaussian hidden Markov model over bar log-returns: K regimes, each with its own mean and volatility, and a
 * Markov chain between them. This module owns the parameters (plain JSON, validated) and the online forward
 * filter the symbol actors run bar by bar; calibration is in `baum-welch.ts`, decoding in `viterbi.ts`.
 */
import { z } from 'zod';
import { AppError } from '../domain/errors.js';

/** Model parameters: initial distribution, row-stochastic transitions (from → to), per-regime mean and sd. */
export interface HmmParams {
  pi: number[];
  A: number[][];
  mu: number[];
  sigma: number[];
}

/** More regimes than this is a mistake, not a model (the calibration file allows 2..8). */
export const MAX_STATES = 16;
/**
 * Observations are clamped to ±this before they reach a density. A bar log-return of 1,000 is a 10^434 price
 * move, so nothing real is clipped, and with `sigma ≥ MIN_SIGMA` the squared z-score stays far from overflow
 * (≤ 4e30), which is what keeps every log-likelihood finite for any finite or infinite input.
 */
export const MAX_ABS_RETURN = 1e3;
/** Smallest volatility accepted: below it a density is a spike that no real return series supports. */
export const MIN_SIGMA = 1e-12;
/** Rows and pi may be off from 1 by this much (JSON round trips, hand edits); they are renormalised exactly. */
const SUM_TOLERANCE = 1e-6;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const probability = finite.min(0, 'expected a probability ≥ 0').max(1 + SUM_TOLERANCE, 'expected a probability ≤ 1');
const sumsToOne = (v: number[]) => Math.abs(v.reduce((a, b) => a + b, 0) - 1) <= SUM_TOLERANCE;

/** Shape and range rules for `HmmParams`; `parseHmmParams` also renormalises. */
export const HmmParamsSchema = z
  .strictObject({
    pi: z.array(probability).min(1).max(MAX_STATES).refine(sumsToOne, 'pi must sum to 1'),
    A: z.array(z.array(probability).refine(sumsToOne, 'each row of A must sum to 1')).min(1).max(MAX_STATES),
    mu: z.array(finite.min(-MAX_ABS_RETURN).max(MAX_ABS_RETURN)).min(1).max(MAX_STATES),
    sigma: z
      .array(finite.min(MIN_SIGMA, `expected sigma ≥ ${MIN_SIGMA}`).max(MAX_ABS_RETURN))
      .min(1)
      .max(MAX_STATES),
  })
  .superRefine((p, ctx) => {
    const k = p.mu.length;
    for (const key of ['pi', 'A', 'sigma'] as const)
      if (p[key].length !== k) ctx.addIssue({ code: 'custom', path: [key], message: `expected ${k} entries like mu` });
    p.A.forEach((row, i) => {
      if (row.length !== k) ctx.addIssue({ code: 'custom', path: ['A', i], message: `expected ${k} columns` });
    });
  });

const normalised = (v: readonly number[]): number[] => {
  const s = v.reduce((a, b) => a + b, 0);
  return v.map((x) => x / s);
};

/** Validates parameters and returns a copy with pi and every row of A summing to 1 exactly (up to rounding). */
export function parseHmmParams(input: unknown): HmmParams {
  const r = HmmParamsSchema.safeParse(input);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
    throw new AppError('VALIDATION_FAILED', `invalid HMM parameters: ${why}`);
  }
  const p = r.data;
  return { pi: normalised(p.pi), A: p.A.map(normalised), mu: [...p.mu], sigma: [...p.sigma] };
}

/** Number of regimes of a parameter set. */
export function statesOf(params: HmmParams): number {
  return params.mu.length;
}

/** Clamps an observation into the range every density handles without overflow (±MAX_ABS_RETURN). */
export function clampReturn(x: number): number {
  return Math.min(Math.max(x, -MAX_ABS_RETURN), MAX_ABS_RETURN);
}

/** log N(x; mu_j, sigma_j²) for each regime, written into `out` (length K). */
export function logEmissions(params: HmmParams, x: number, out: Float64Array): Float64Array {
  const xc = clampReturn(x);
  for (let j = 0; j < params.mu.length; j++) {
    const s = params.sigma[j]!;
    const z = (xc - params.mu[j]!) / s;
    out[j] = -0.5 * z * z - Math.log(s) - HALF_LOG_2PI;
  }
  return out;
}

/** What one filter step reports. The object and its `probs` are reused: read them before the next step. */
export interface FilterStep {
  /** Posterior P(regime_t = j | x_1..x_t), sums to 1. */
  readonly probs: ArrayLike<number>;
  /** The most likely regime now (argmax of `probs`). */
  readonly regime: number;
  /** log p(x_t | x_1..x_{t-1}); 0 for a missing (NaN) bar. */
  readonly logLik: number;
  /** Bars consumed so far, missing ones included. */
  readonly t: number;
}

/** A filter's state as plain JSON, so an actor's context can hold it and a restart can resume from it. */
export interface FilterSnapshot {
  probs: number[];
  t: number;
  logLikelihood: number;
}

/** An online forward filter: O(K²) time per bar, fixed memory. */
export interface RegimeFilter {
  readonly k: number;
  /** Folds in one bar log-return. NaN counts as a missing bar (prediction only); ±Infinity is clamped. */
  step(x: number): FilterStep;
  /** Sum of `logLik` over all steps: the log-likelihood of the sequence seen so far. */
  readonly logLikelihood: number;
  snapshot(): FilterSnapshot;
  /**
   * Writes the snapshot into `into` (its `probs` resized in place): a live filter kept across bars refreshes the
   * same snapshot object instead of allocating one per bar.
   */
  snapshotInto(into: FilterSnapshot): void;
  /**
   * Renormalises the posterior exactly as resuming from this filter's own snapshot would (`createFilter(params,
   * snapshot)` divides the probabilities by their sum), so a filter kept alive gives bit-identical steps to one
   * recreated from its snapshot every bar.
   */
  renormalise(): void;
}

/**
 * Creates the online forward filter for `params`, optionally resuming from a snapshot.
 *
 * The posterior is renormalised every bar, so the prediction step (a convex combination of it through A) cannot
 * underflow as a whole and stays in probability space; only the update, where Gaussian densities span hundreds of
 * orders of magnitude, runs in log space with the max subtracted. That is K logs and K exps per bar instead of
 * the K² exps of a fully log-space prediction, with the same stability (1.15× its speed at K = 3, more at larger
 * K; bench/hmm.bench.ts).
 */
export function createFilter(params: HmmParams, from?: FilterSnapshot): RegimeFilter {
  const p = parseHmmParams(params);
  const k = p.mu.length;
  const a = Float64Array.from(p.A.flat());
  const mu = Float64Array.from(p.mu);
  const halfPrecision = Float64Array.from(p.sigma, (s) => 0.5 / (s * s));
  const logNorm = Float64Array.from(p.sigma, (s) => -Math.log(s) - HALF_LOG_2PI);
  const post = Float64Array.from(p.pi);
  const pred = new Float64Array(k);
  const lp = new Float64Array(k);
  let t = 0;
  let total = 0;
  if (from !== undefined) {
    if (from.probs.length !== k || !sumsToOne(from.probs) || from.probs.some((v) => !(v >= 0)))
      throw new AppError('VALIDATION_FAILED', `filter snapshot must hold a distribution over ${k} regimes`);
    post.set(normalised(from.probs));
    t = from.t;
    total = from.logLikelihood;
  }
  const out = { probs: post as ArrayLike<number>, regime: argmax(post), logLik: 0, t };

  const step = (x: number): FilterStep => {
    // pi is the distribution of the first bar's regime: the first step has no transition before it.
    if (t === 0) pred.set(post);
    else {
      pred.fill(0);
      for (let i = 0; i < k; i++) {
        const pi = post[i]!;
        if (pi === 0) continue;
        const row = i * k;
        for (let j = 0; j < k; j++) pred[j]! += pi * a[row + j]!;
      }
    }
    t++;
    out.t = t;
    if (Number.isNaN(x)) {
      post.set(pred);
      out.logLik = 0;
      out.regime = argmax(post);
      return out;
    }
    const xc = clampReturn(x);
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      const d = xc - mu[j]!;
      const v = Math.log(pred[j]!) + logNorm[j]! - d * d * halfPrecision[j]!;
      lp[j] = v;
      if (v > max) max = v;
    }
    // pred sums to 1, so some pred_j > 0 and max is finite (emissions are finite by the clamp and MIN_SIGMA).
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(lp[j]! - max);
      post[j] = e;
      sum += e;
    }
    let best = 0;
    for (let j = 0; j < k; j++) {
      post[j]! /= sum;
      if (post[j]! > post[best]!) best = j;
    }
    out.regime = best;
    out.logLik = max + Math.log(sum);
    total += out.logLik;
    return out;
  };

  return {
    k,
    step,
    get logLikelihood() {
      return total;
    },
    snapshot: () => ({ probs: Array.from(post), t, logLikelihood: total }),
    snapshotInto(into) {
      into.probs.length = k;
      for (let j = 0; j < k; j++) into.probs[j] = post[j]!;
      into.t = t;
      into.logLikelihood = total;
    },
    renormalise() {
      // The same sum, in the same order, as `normalised` (reduce from 0).
      let sum = 0;
      for (let j = 0; j < k; j++) sum += post[j]!;
      for (let j = 0; j < k; j++) post[j] = post[j]! / sum;
    },
  };
}

/** Index of the largest entry (the first on ties). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (v[j]! > v[best]!) best = j;
  return best;
}

/** log p(x_1..x_T | params) by the forward filter; NaN bars count as missing. */
export function logLikelihood(params: HmmParams, xs: ArrayLike<number>): number {
  const f = createFilter(params);
  for (let t = 0; t < xs.length; t++) f.step(xs[t]!);
  return f.logLikelihood;
}

/** The stationary distribution of A (power iteration; A is assumed ergodic, as any fitted A with a floor is). */
export function stationaryDistribution(A: readonly (readonly number[])[], iterations = 10_000): number[] {
  const k = A.length;
  let v = new Array<number>(k).fill(1 / k);
  for (let n = 0; n < iterations; n++) {
    const next = new Array<number>(k).fill(0);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) next[j]! += v[i]! * (A[i]?.[j] ?? 0);
    const delta = next.reduce((d, x, j) => d + Math.abs(x - v[j]!), 0);
    v = next;
    if (delta < 1e-15) break;
  }
  return normalised(v);
}
