/**
 * Baum–Welch (EM) calibration of a Gaussian HMM on a window of bar log-returns. Deterministic: the same window
 * and seed give the same parameters, which backtests and the live refresh rely on. Regimes come out ordered by
 * mean (most bearish first) so two calibrations of the same market label their regimes alike.
 */
import { AppError } from '../domain/errors.js';
import { clampReturn, type HmmParams, logLikelihood, MAX_STATES, MIN_SIGMA, parseHmmParams } from './gaussian-hmm.js';
import { createRng } from './seeded-random.js';

/** Options as given; every one has a default. */
export interface BaumWelchOptions {
  /** Regimes (default 3). */
  k?: number;
  /** EM iterations at most, after the initialisation probes (default 500). */
  maxIter?: number;
  /** Stop when the log-likelihood per bar improves by less than this (default 1e-9). */
  tol?: number;
  /** Seed of the random restarts (default 1). */
  seed?: number;
  /** Seeded random initialisations tried besides the three quantile-based ones (default 1). */
  restarts?: number;
  /** Smallest variance a regime may take; default 1e-4 × the window's variance, so no regime collapses on a spike. */
  varianceFloor?: number;
}

/** A calibration: parameters plus how EM got there. */
export interface BaumWelchFit {
  params: HmmParams;
  /** log p(window | params). */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
}

/** Iterations each candidate initialisation gets before the best one is run to convergence. */
const PROBE_ITERATIONS = 8;
/** Transition floor: keeps every forward scale c_t ≥ this (the best-fitting regime is always reachable). */
const TRANSITION_FLOOR = 1e-10;
/** Initial self-transition: regimes in bar data persist for tens of bars, and EM finds that faster from here. */
const INITIAL_STAY = 0.95;
/** Half-width of the centred window for the local-volatility and local-trend initialisations. */
const LOCAL_HALF_WIDTH = 10;

interface Model {
  A: Float64Array;
  mu: Float64Array;
  v: Float64Array;
}

/** Fits a K-regime Gaussian HMM to `xs` (NaN = missing bar) by EM with scaled forward–backward. */
export function fitBaumWelch(xs: ArrayLike<number>, options: BaumWelchOptions = {}): BaumWelchFit {
  const steps = baumWelchSteps(xs, options);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/**
 * The same fit, resumable: it yields after the set-up, after each initial grouping and after every EM iteration (one forward–backward pass
 * over the window, ~6 ms on 20,000 bars here), so a caller can spread one fit over several event-loop turns
 * instead of holding the loop for the whole of it (~230 ms on 20,000 bars). Run to completion it is
 * `fitBaumWelch`, bit for bit: yielding changes nothing in the arithmetic.
 */
export function* baumWelchSteps(
  xs: ArrayLike<number>,
  options: BaumWelchOptions = {},
): Generator<void, BaumWelchFit, void> {
  const k = options.k ?? 3;
  const maxIter = options.maxIter ?? 500;
  const tol = options.tol ?? 1e-9;
  const x = Float64Array.from({ length: xs.length }, (_, t) => {
    const v = xs[t]!;
    return Number.isNaN(v) ? v : clampReturn(v);
  });
  const observed = x.filter((v) => !Number.isNaN(v));
  if (!(Number.isInteger(k) && k >= 1 && k <= MAX_STATES))
    throw new AppError('VALIDATION_FAILED', `k must be an integer in 1..${MAX_STATES}, got ${k}`);
  if (observed.length < 10 * k)
    throw new AppError(
      'VALIDATION_FAILED',
      `Baum–Welch needs at least ${10 * k} observed bars, got ${observed.length}`,
    );
  const mean = observed.reduce((a, b) => a + b, 0) / observed.length;
  const variance = observed.reduce((a, b) => a + (b - mean) ** 2, 0) / observed.length;
  const floor = Math.max(options.varianceFloor ?? 1e-4 * variance, (2 * MIN_SIGMA) ** 2);

  yield;
  const em = createEm(x, k, floor);
  const candidates = yield* initialModels(x, k, floor, options.seed ?? 1, options.restarts ?? 1);
  let best: { model: Model; ll: number } | undefined;
  for (const model of candidates) {
    let ll = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < PROBE_ITERATIONS; i++) {
      ll = em.eStep(model);
      em.mStep(model);
      yield;
    }
    if (best === undefined || ll > best.ll) best = { model, ll };
  }
  const model = best!.model;
  let ll = best!.ll;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter && !converged) {
    // eStep scores the parameters it is given, i.e. those of the previous M-step.
    const next = em.eStep(model);
    iterations++;
    converged = Math.abs(next - ll) / observed.length < tol;
    ll = next;
    if (!converged) em.mStep(model);
    yield;
  }
  if (!converged) em.eStep(model);
  const params = orderByMean({
    pi: em.occupancy(),
    A: Array.from({ length: k }, (_, i) => Array.from(model.A.subarray(i * k, i * k + k))),
    mu: Array.from(model.mu),
    sigma: Array.from(model.v, Math.sqrt),
  });
  const fitted = parseHmmParams(params);
  // Scored again because EM ran with a uniform pi and the fit reports the occupancy as pi.
  return {
    params: fitted,
    logLikelihood: logLikelihood(fitted, x),
    iterations: iterations + PROBE_ITERATIONS,
    converged,
  };
}

/** Relabels regimes by ascending mean (A permuted on both axes), so calibrations are comparable. */
export function orderByMean(params: HmmParams): HmmParams {
  const order = params.mu.map((m, i) => [m, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const ix = order.map(([, i]) => i);
  return {
    pi: ix.map((i) => params.pi[i]!),
    A: ix.map((i) => ix.map((j) => params.A[i]![j]!)),
    mu: ix.map((i) => params.mu[i]!),
    sigma: ix.map((i) => params.sigma[i]!),
  };
}

/**
 * One EM engine with its buffers allocated once for the window. `eStep` scores the model and fills the
 * posteriors; `mStep` re-estimates in place. The initial distribution is held uniform during EM (a generalised
 * EM step, still monotone): on one window pi would converge to the first bar's regime, which says nothing about
 * where the next sequence starts. The fit reports the window's regime occupancy as pi instead.
 */
function createEm(x: Float64Array, k: number, varFloor: number) {
  const n = x.length;
  const b = new Float64Array(n * k);
  const shift = new Float64Array(n);
  const alpha = new Float64Array(n * k);
  const beta = new Float64Array(n * k);
  const c = new Float64Array(n);
  const xi = new Float64Array(k * k);
  const tmp = new Float64Array(k);

  /** Scaled forward–backward: alpha_t normalised with scale c_t, beta scaled by the same c, so alpha·beta = gamma. */
  function eStep(m: Model): number {
    const logNorm = Array.from(m.v, (v) => -0.5 * Math.log(2 * Math.PI * v));
    // Emissions are scaled per bar by their max: the scaled recursions only need ratios within a bar.
    for (let t = 0; t < n; t++) {
      const xt = x[t]!;
      const o = t * k;
      if (Number.isNaN(xt)) {
        b.fill(1, o, o + k);
        shift[t] = 0;
        continue;
      }
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < k; j++) {
        const d = xt - m.mu[j]!;
        const l = logNorm[j]! - (d * d) / (2 * m.v[j]!);
        b[o + j] = l;
        if (l > max) max = l;
      }
      for (let j = 0; j < k; j++) b[o + j] = Math.exp(b[o + j]! - max);
      shift[t] = max;
    }
    let ll = 0;
    for (let t = 0; t < n; t++) {
      const o = t * k;
      let s = 0;
      for (let j = 0; j < k; j++) {
        let pred = 1 / k;
        if (t > 0) {
          pred = 0;
          for (let i = 0; i < k; i++) pred += alpha[o - k + i]! * m.A[i * k + j]!;
        }
        const v = pred * b[o + j]!;
        alpha[o + j] = v;
        s += v;
      }
      for (let j = 0; j < k; j++) alpha[o + j]! /= s;
      c[t] = s;
      ll += Math.log(s) + shift[t]!;
    }
    beta.fill(1, (n - 1) * k, n * k);
    xi.fill(0);
    for (let t = n - 2; t >= 0; t--) {
      const o = t * k;
      const inv = 1 / c[t + 1]!;
      for (let j = 0; j < k; j++) tmp[j] = b[o + k + j]! * beta[o + k + j]! * inv;
      for (let i = 0; i < k; i++) {
        const ai = alpha[o + i]!;
        let s = 0;
        for (let j = 0; j < k; j++) {
          const w = m.A[i * k + j]! * tmp[j]!;
          s += w;
          xi[i * k + j]! += ai * w;
        }
        beta[o + i] = s;
      }
    }
    return ll;
  }

  /** Re-estimates A, mu and variances from the last E-step's posteriors. */
  function mStep(m: Model): void {
    const w = new Float64Array(k);
    const wx = new Float64Array(k);
    const wxx = new Float64Array(k);
    for (let t = 0; t < n; t++) {
      const xt = x[t]!;
      if (Number.isNaN(xt)) continue;
      for (let j = 0; j < k; j++) {
        const g = alpha[t * k + j]! * beta[t * k + j]!;
        w[j]! += g;
        wx[j]! += g * xt;
      }
    }
    // A regime no bar supports keeps its old mean and variance rather than dividing by zero.
    for (let j = 0; j < k; j++) if (w[j]! > 0) m.mu[j] = wx[j]! / w[j]!;
    for (let t = 0; t < n; t++) {
      const xt = x[t]!;
      if (Number.isNaN(xt)) continue;
      for (let j = 0; j < k; j++) {
        const d = xt - m.mu[j]!;
        wxx[j]! += alpha[t * k + j]! * beta[t * k + j]! * d * d;
      }
    }
    for (let j = 0; j < k; j++) if (w[j]! > 0) m.v[j] = Math.max(wxx[j]! / w[j]!, varFloor);
    for (let i = 0; i < k; i++) setRow(m.A, k, i, xi.subarray(i * k, i * k + k));
  }

  /** Mean posterior occupancy of each regime over the window (after an E-step). */
  function occupancy(): number[] {
    const occ = new Array<number>(k).fill(0);
    for (let t = 0; t < n; t++) for (let j = 0; j < k; j++) occ[j]! += alpha[t * k + j]! * beta[t * k + j]!;
    return occ.map((g) => g / n);
  }

  return { eStep, mStep, occupancy };
}

/** Writes a normalised, floored row `i` of A from unnormalised weights (a row with no weight is left alone). */
function setRow(A: Float64Array, k: number, i: number, weights: ArrayLike<number>): void {
  let s = 0;
  for (let j = 0; j < k; j++) s += weights[j]!;
  if (!(s > 0)) return;
  let s2 = 0;
  for (let j = 0; j < k; j++) {
    const v = Math.max(weights[j]! / s, TRANSITION_FLOOR);
    A[i * k + j] = v;
    s2 += v;
  }
  for (let j = 0; j < k; j++) A[i * k + j]! /= s2;
}

/** A model whose regimes are the K equal-count groups of bars sorted by `key` (mean and variance per group). */
/**
 * Each observed bar's group when bars are ranked by (key, index) and cut into k equal parts: group j holds ranks
 * [floor(j·n/k), floor((j+1)·n/k)); a missing bar is -1. Ranks come from a native numeric sort of the keys and a
 * binary search per bar (ties ranked by index), not from sorting bar indices with a comparator: ~10× faster on
 * 20,000 bars, and the same groups.
 */
export function rankGroups(x: Float64Array, k: number, key: Float64Array): Int32Array {
  let observed = 0;
  for (let t = 0; t < x.length; t++) if (!Number.isNaN(x[t]!)) observed++;
  const sorted = new Float64Array(observed);
  for (let t = 0, i = 0; t < x.length; t++) if (!Number.isNaN(x[t]!)) sorted[i++] = key[t]!;
  sorted.sort();
  const ties = new Map<number, number>();
  const group = new Int32Array(x.length).fill(-1);
  for (let t = 0; t < x.length; t++) {
    if (Number.isNaN(x[t]!)) continue;
    const kt = key[t]!;
    let lo = 0;
    let hi = observed;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < kt) lo = mid + 1;
      else hi = mid;
    }
    const seen = ties.get(kt) ?? 0;
    ties.set(kt, seen + 1);
    const rank = lo + seen;
    let j = Math.min(k - 1, Math.floor((rank * k) / observed));
    while (j > 0 && rank < Math.floor((j * observed) / k)) j--;
    while (j < k - 1 && rank >= Math.floor(((j + 1) * observed) / k)) j++;
    group[t] = j;
  }
  return group;
}

function groupedModel(x: Float64Array, k: number, varFloor: number, key: Float64Array): Model {
  const group = rankGroups(x, k, key);
  const w = new Float64Array(k);
  const sum = new Float64Array(k);
  for (let t = 0; t < x.length; t++) {
    const j = group[t]!;
    if (j < 0) continue;
    w[j]! += 1;
    sum[j]! += x[t]!;
  }
  const mu = new Float64Array(k);
  for (let j = 0; j < k; j++) mu[j] = sum[j]! / w[j]!;
  const sq = new Float64Array(k);
  for (let t = 0; t < x.length; t++) {
    const j = group[t]!;
    if (j >= 0) sq[j]! += (x[t]! - mu[j]!) ** 2;
  }
  const v = new Float64Array(k);
  for (let j = 0; j < k; j++) v[j] = Math.max(sq[j]! / w[j]!, varFloor);
  const A = new Float64Array(k * k).fill(k === 1 ? 1 : (1 - INITIAL_STAY) / (k - 1));
  for (let j = 0; j < k; j++) A[j * k + j] = k === 1 ? 1 : INITIAL_STAY;
  return { A, mu, v };
}

/** Centred moving average of `f(x_t)` over observed bars (prefix sums, O(T)). */
function localMean(x: Float64Array, f: (v: number) => number): Float64Array {
  const n = x.length;
  const sum = new Float64Array(n + 1);
  const cnt = new Float64Array(n + 1);
  for (let t = 0; t < n; t++) {
    const obs = !Number.isNaN(x[t]!);
    sum[t + 1] = sum[t]! + (obs ? f(x[t]!) : 0);
    cnt[t + 1] = cnt[t]! + (obs ? 1 : 0);
  }
  return Float64Array.from({ length: n }, (_, t) => {
    const lo = Math.max(0, t - LOCAL_HALF_WIDTH);
    const hi = Math.min(n, t + LOCAL_HALF_WIDTH + 1);
    const c = cnt[hi]! - cnt[lo]!;
    return c > 0 ? (sum[hi]! - sum[lo]!) / c : 0;
  });
}

/**
 * Candidate starting points. Regimes in returns differ by level, by volatility or by persistent trend, so the
 * deterministic candidates group bars by raw value (quantile means), by local volatility and by local trend;
 * `restarts` seeded perturbations of the volatility grouping guard against a bad basin.
 */
function* initialModels(
  x: Float64Array,
  k: number,
  varFloor: number,
  seed: number,
  restarts: number,
): Generator<void, Model[], void> {
  // A step each: every grouping sorts the window (~10 ms on 20,000 bars).
  const models = [groupedModel(x, k, varFloor, x)];
  yield;
  models.push(
    groupedModel(
      x,
      k,
      varFloor,
      localMean(x, (v) => v * v),
    ),
  );
  yield;
  models.push(
    groupedModel(
      x,
      k,
      varFloor,
      localMean(x, (v) => v),
    ),
  );
  yield;
  const rng = createRng(seed);
  const base = models[1]!;
  for (let r = 0; r < restarts; r++) {
    const mu = base.mu.map((m, j) => m + 0.5 * Math.sqrt(base.v[j]!) * rng.gaussian());
    const v = base.v.map((v) => Math.max(v * Math.exp(rng.next() - 0.5), varFloor));
    const A = new Float64Array(k * k);
    for (let i = 0; i < k; i++)
      setRow(
        A,
        k,
        i,
        Array.from({ length: k }, (_, j) => (i === j ? 20 : 0) + rng.next()),
      );
    models.push({ A, mu, v });
  }
  return models;
}
