/**
 * Seeded draws from a Gaussian HMM: synthetic bar returns with a known regime path, for calibration tests,
 * benchmarks and backtests that need ground truth without running the simulator.
 */
import { type HmmParams, parseHmmParams } from './gaussian-hmm.js';
import { createRng } from './seeded-random.js';

/** A sampled sequence: returns and the regime behind each. */
export interface HmmSample {
  xs: Float64Array;
  states: Uint8Array;
}

/** Draws `n` bars from `params`; the same seed gives the same sequence. */
export function sampleHmm(params: HmmParams, n: number, seed: number): HmmSample {
  const p = parseHmmParams(params);
  const rng = createRng(seed);
  const xs = new Float64Array(n);
  const states = new Uint8Array(n);
  let s = draw(p.pi, rng.next());
  for (let t = 0; t < n; t++) {
    if (t > 0) s = draw(p.A[s]!, rng.next());
    states[t] = s;
    xs[t] = p.mu[s]! + p.sigma[s]! * rng.gaussian();
  }
  return { xs, states };
}

/** Inverse-CDF draw from a discrete distribution (the last index absorbs rounding). */
function draw(dist: readonly number[], u: number): number {
  let acc = 0;
  for (let j = 0; j < dist.length - 1; j++) {
    acc += dist[j]!;
    if (u < acc) return j;
  }
  return dist.length - 1;
}
