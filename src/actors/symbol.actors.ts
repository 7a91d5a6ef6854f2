import type { AnyActorRef } from 'xstate';
import { errorMessage } from '../domain/errors.js';
import { actorId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import type { TradingState } from '../machines/governance.machine.js';
import { type SignalEffect, type SymbolContext, symbolMachine } from '../machines/symbol.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import { type BaumWelchFit, baumWelchSteps } from '../strategies/baum-welch.js';
import type { HmmParams } from '../strategies/gaussian-hmm.js';
import type { ModelVariant } from '../strategies/regime-signal.js';
import { calibrationWindow, type StrategyEnv } from '../strategies/symbol-strategy.js';
import type { ChildSpec } from '../supervisor/policy.js';
import { createSupervisor, type SupervisorHooks } from '../supervisor/supervisor.js';

/** Symbol actors per supervisor shard: a supervisor's spawn copies its children record (reference note). */
export const SYMBOLS_PER_SHARD = 100;

export interface SymbolsDeps {
  venue: string;
  symbols: readonly string[];
  barMs: number;
  baseCooldownMs: number;
  env: () => StrategyEnv;
  trading: (venue: string, symbol: string) => TradingState;
  onSignal: (e: SignalEffect) => void;
  calibrator: Calibrator;
  metrics: Metrics;
  hooks: SupervisorHooks;
  now?: () => number;
  restartIntensity?: number;
  restartPeriodMs?: number;
}

/** Most time the calibrator computes in one event-loop turn before it yields (ms). */
export const CALIBRATION_SLICE_MS = 2;

interface CalibrationJob {
  id: string;
  variant: ModelVariant;
  atBar: number;
}

/**
 * The HMM calibrator: Baum–Welch fits run one at a time, off the tick path, in slices of at most
 * CALIBRATION_SLICE_MS per macrotask (plus one EM iteration: ~6 ms on the stable model's 20,000-bar window). A
 * whole fit in one macrotask held the event loop for ~230 ms on that window, and with it ticks, commits, the
 * ops API and a kill; 1,000 symbols refit two models each. The window is read from the actor's snapshot when
 * its fit starts (the newest history), and the result goes back as `hmm.calibrated` to that same actor if it is
 * still running (a restarted actor has a fresh strategy state and asks again when its own fit is due).
 */
export function createCalibrator(opts: {
  lookup: (systemId: string) => AnyActorRef | undefined;
  log: Logger;
  env: () => StrategyEnv;
  schedule?: (fn: () => void) => void;
  sliceMs?: number;
  clock?: () => number;
}) {
  const queue: CalibrationJob[] = [];
  const schedule = opts.schedule ?? setImmediate;
  const sliceMs = opts.sliceMs ?? CALIBRATION_SLICE_MS;
  const clock = opts.clock ?? (() => performance.now());
  let current: { job: CalibrationJob; ref: AnyActorRef; steps: Generator<void, BaumWelchFit, void> } | undefined;
  let running = false;
  let fits = 0;
  let failures = 0;

  function begin(job: CalibrationJob): typeof current {
    const ref = opts.lookup(job.id);
    if (ref?.getSnapshot().status !== 'active') return undefined;
    const ctx = ref.getSnapshot().context as SymbolContext;
    const env = opts.env();
    const window = calibrationWindow(ctx.strat, job.variant, env);
    return { job, ref, steps: baumWelchSteps(window, { k: env.calibration.states ?? 3, maxIter: 200, seed: 1 }) };
  }

  /** Advances the current fit by one step; returns the outcome once it is over (params, or null on failure). */
  function step(c: NonNullable<typeof current>): { params: HmmParams | null } | undefined {
    try {
      const r = c.steps.next();
      if (!r.done) return undefined;
      fits += 1;
      return { params: r.value.params };
    } catch (e) {
      failures += 1;
      opts.log.warn({ actor: c.job.id, variant: c.job.variant, err: errorMessage(e) }, 'HMM calibration failed');
      return { params: null };
    }
  }

  const run = () => {
    const deadline = clock() + sliceMs;
    do {
      if (!current) {
        const job = queue.shift();
        if (!job) {
          running = false;
          return;
        }
        current = begin(job);
        continue;
      }
      const outcome = step(current);
      if (!outcome) continue;
      const { ref, job } = current;
      current = undefined;
      if (ref.getSnapshot().status === 'active')
        ref.send({ type: 'hmm.calibrated', variant: job.variant, params: outcome.params, atBar: job.atBar });
    } while (clock() < deadline);
    schedule(run);
  };
  return {
    request(id: string, variant: ModelVariant, atBar: number): void {
      queue.push({ id, variant, atBar });
      if (!running) {
        running = true;
        schedule(run);
      }
    },
    stats: () => ({ fits, failures, queued: queue.length, running: current !== undefined }),
  };
}
export type Calibrator = ReturnType<typeof createCalibrator>;

/** symbols:<venue>: one_for_one over the venue's symbol actors (sharded by SYMBOLS_PER_SHARD). */
export function buildSymbolsSupervisor(deps: SymbolsDeps): {
  spec: ChildSpec;
  logics: Record<string, unknown>;
  /** The child spec of one symbol actor: the scanner adds symbols with it (`sup.addChild`). */
  child: (symbol: string) => ChildSpec;
} {
  const { venue, metrics } = deps;
  const trendSignals = metrics.trendSignals;
  const logic = symbolMachine.provide({
    actions: {
      'sym.signal': (_, params) => deps.onSignal(params),
      'sym.calibrate': (_, p) => deps.calibrator.request(actorId.symbol(p.venue, p.symbol), p.variant, p.atBar),
      'sym.trendFired': () => trendSignals.inc(),
    },
  });
  const child = (symbol: string): ChildSpec => ({
    id: actorId.symbol(venue, symbol),
    src: 'symbol',
    input: {
      venue,
      symbol,
      barMs: deps.barMs,
      baseCooldownMs: deps.baseCooldownMs,
      env: deps.env(),
      trading: deps.trading(venue, symbol),
    },
    critical: false,
    shutdownMs: 500,
  });
  const opts = {
    strategy: 'one_for_one' as const,
    intensity: deps.restartIntensity ?? 10,
    periodMs: deps.restartPeriodMs ?? 60_000,
    backoff: { minMs: 250, maxMs: 8_000, factor: 2, jitter: 0.2, resetAfterMs: 30_000, immediateFirst: true },
    now: deps.now,
    hooks: deps.hooks,
  };
  const symbols = [...deps.symbols];
  if (symbols.length <= SYMBOLS_PER_SHARD) {
    const sup = createSupervisor({ ...opts, logics: { symbol: logic }, children: symbols.map(child) });
    return {
      spec: { id: actorId.symbols(venue), src: `symbols:${venue}`, critical: false, shutdownMs: 2_000 },
      logics: { [`symbols:${venue}`]: sup },
      child,
    };
  }
  const shards: ChildSpec[] = [];
  const shardLogics: Record<string, unknown> = {};
  for (let i = 0; i * SYMBOLS_PER_SHARD < symbols.length; i++) {
    const part = symbols.slice(i * SYMBOLS_PER_SHARD, (i + 1) * SYMBOLS_PER_SHARD);
    const src = `symbols:${venue}:${i}`;
    shardLogics[src] = createSupervisor({ ...opts, logics: { symbol: logic }, children: part.map(child) });
    shards.push({ id: `${actorId.symbols(venue)}:${i}`, src, critical: false, shutdownMs: 2_000 });
  }
  const sup = createSupervisor({ ...opts, logics: shardLogics as never, children: shards });
  return {
    spec: { id: actorId.symbols(venue), src: `symbols:${venue}`, critical: false, shutdownMs: 3_000 },
    logics: { [`symbols:${venue}`]: sup },
    child,
  };
}
