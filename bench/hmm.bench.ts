/**
 * The HMM regime model's costs: online filter steps per second (alone and with the signal a symbol actor derives
 * from each step), Baum–Welch and Viterbi on a 20,000-bar window, against two baselines: a plain EMA signal
 * (the cheapest strategy worth running) and a textbook fully log-space forward step (K² exps), the design the
 * filter's probability-space prediction replaces. Measures; never asserts.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { baumWelchSteps, fitBaumWelch } from '../src/strategies/baum-welch.js';
import { createFilter, type HmmParams } from '../src/strategies/gaussian-hmm.js';
import { sampleHmm } from '../src/strategies/hmm-sample.js';
import { regimeSignal } from '../src/strategies/regime-signal.js';
import { viterbi } from '../src/strategies/viterbi.js';

/** The simulator's BTC regimes on one-minute bars (bull, volatile, bear). */
const SIM_LIKE: HmmParams = {
  pi: [1 / 3, 1 / 3, 1 / 3],
  A: [
    [1 - 1 / 120, 0.6 / 120, 0.4 / 120],
    [0.5 / 45, 1 - 1 / 45, 0.5 / 45],
    [0.4 / 90, 0.6 / 90, 1 - 1 / 90],
  ],
  mu: [6.65e-5, -2.1e-6, -8.37e-5],
  sigma: [5.16e-4, 2.066e-3, 9.04e-4],
};
const WINDOW = 20_000;
const STEPS = 1_000_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round = (v: number, digits = 0) => Number(v.toFixed(digits));

/** Median steps/s of `body` over `STEPS` bars (cycling the window), after a warm-up run. */
function stepsPerSecond(xs: Float64Array, body: (x: number) => number): number {
  const rates: number[] = [];
  let sink = 0;
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) sink += body(xs[i % xs.length]!);
    const ms = performance.now() - t0;
    if (r > 0) rates.push(STEPS / (ms / 1000));
  }
  if (Number.isNaN(sink)) throw new Error('bench sink went NaN');
  return round(median(rates));
}

/** The textbook log-space forward step: log-sum-exp over K predecessors for every regime. */
function logSpaceFilter(p: HmmParams) {
  const k = p.mu.length;
  const logA = p.A.flat().map(Math.log);
  let la = p.pi.map(Math.log);
  let next = new Array<number>(k).fill(0);
  const terms = new Array<number>(k).fill(0);
  return (x: number): number => {
    let best = 0;
    for (let j = 0; j < k; j++) {
      let m = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < k; i++) {
        terms[i] = la[i]! + logA[i * k + j]!;
        if (terms[i]! > m) m = terms[i]!;
      }
      let s = 0;
      for (let i = 0; i < k; i++) s += Math.exp(terms[i]! - m);
      const z = (x - p.mu[j]!) / p.sigma[j]!;
      next[j] = m + Math.log(s) - 0.5 * z * z - Math.log(p.sigma[j]!);
      if (next[j]! > next[best]!) best = j;
    }
    const top = next[best]!;
    for (let j = 0; j < k; j++) next[j]! -= top;
    [la, next] = [next, la];
    return best;
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const { xs } = sampleHmm(SIM_LIKE, WINDOW, 1);

  const filter = createFilter(SIM_LIKE);
  const filterRate = stepsPerSecond(xs, (x) => filter.step(x).regime);
  const withSignal = createFilter(SIM_LIKE);
  const signalRate = stepsPerSecond(xs, (x) => regimeSignal(withSignal.step(x).probs, SIM_LIKE).signal);
  const logSpaceRate = stepsPerSecond(xs, logSpaceFilter(SIM_LIKE));
  let mean = 0;
  let variance = 1e-6;
  const emaRate = stepsPerSecond(xs, (x) => {
    mean += 0.05 * (x - mean);
    variance += 0.05 * ((x - mean) ** 2 - variance);
    return Math.tanh(mean / Math.sqrt(variance));
  });

  const bwMs: number[] = [];
  let fit = fitBaumWelch(xs, { seed: 1 });
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    fit = fitBaumWelch(xs, { seed: 1 });
    bwMs.push(performance.now() - t0);
  }
  // The calibrator runs a fit in slices of CALIBRATION_SLICE_MS, each ending after a whole step: the longest step is
  // the longest the event loop can be held by a fit (before: the whole fit, baum_welch_ms).
  const stepMs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const steps = baumWelchSteps(xs, { seed: 1 });
    let t0 = performance.now();
    while (!steps.next().done) {
      const t1 = performance.now();
      stepMs.push(t1 - t0);
      t0 = t1;
    }
  }
  const vitMs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    viterbi(fit.params, xs);
    vitMs.push(performance.now() - t0);
  }

  return {
    states: SIM_LIKE.mu.length,
    filter_steps_per_s: filterRate,
    filter_plus_signal_steps_per_s: signalRate,
    filter_ns_per_step: round(1e9 / filterRate, 1),
    baseline_ema_signal_steps_per_s: emaRate,
    baseline_log_space_forward_steps_per_s: logSpaceRate,
    ratio_ema_over_filter: round(emaRate / filterRate, 2),
    ratio_filter_over_log_space: round(filterRate / logSpaceRate, 2),
    baum_welch_bars: WINDOW,
    baum_welch_ms: round(median(bwMs), 1),
    baum_welch_iterations: fit.iterations,
    baum_welch_converged: fit.converged,
    baum_welch_resumable_steps: stepMs.length / 3,
    baum_welch_longest_step_ms: round(Math.max(...stepMs), 2),
    viterbi_ms: round(median(vitMs), 1),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
