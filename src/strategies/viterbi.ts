/**
 * Viterbi decoding: the single most likely regime path for a whole sequence. It looks at the future, so it is
 * for diagnostics (how a calibration labels history, what a backtest's regimes were), never for trading.
 */
import { type HmmParams, logEmissions, parseHmmParams } from './gaussian-hmm.js';

/** The decoded path and its joint log-probability log p(x, path). */
export interface ViterbiResult {
  path: number[];
  logProb: number;
}

/** Most likely regime path for `xs` under `params` (log space, O(T·K²)); NaN bars are missing observations. */
export function viterbi(params: HmmParams, xs: ArrayLike<number>): ViterbiResult {
  const p = parseHmmParams(params);
  const k = p.mu.length;
  const n = xs.length;
  if (n === 0) return { path: [], logProb: 0 };
  const logA = Float64Array.from(p.A.flat(), Math.log);
  const e = new Float64Array(k);
  // A missing (NaN) bar is uninformative: the same log-density 0 for every regime.
  const emissions = (x: number) => (Number.isNaN(x) ? e.fill(0) : logEmissions(p, x, e));
  // Uint8 back-pointers: MAX_STATES is 16, and T·K bytes is the only memory that grows with T.
  const back = new Uint8Array(n * k);
  emissions(xs[0]!);
  let delta = Float64Array.from(p.pi, (v, j) => Math.log(v) + e[j]!);
  let next = new Float64Array(k);
  for (let t = 1; t < n; t++) {
    emissions(xs[t]!);
    for (let j = 0; j < k; j++) {
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < k; i++) {
        const s = delta[i]! + logA[i * k + j]!;
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
      back[t * k + j] = best;
      next[j] = bestScore + e[j]!;
    }
    [delta, next] = [next, delta];
  }
  let last = 0;
  for (let j = 1; j < k; j++) if (delta[j]! > delta[last]!) last = j;
  const path = new Array<number>(n);
  path[n - 1] = last;
  for (let t = n - 1; t > 0; t--) path[t - 1] = back[t * k + path[t]!]!;
  return { path, logProb: delta[last]! };
}
