import type { AnyActorRef } from 'xstate';
import { errorMessage } from '../domain/errors.js';
import { actorId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import type { TradingState } from '../machines/governance.machine.js';
import { type SignalEffect, type SymbolContext, symbolMachine } from '../machines/symbol.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import { fitBaumWelch } from '../strategies/baum-welch.js';
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

/**
 * The HMM calibrator: Baum–Welch fits run one at a time, each in its own macrotask, off the tick path, so a fit
 * never stalls a tick batch behind a queue of fits. The window is read from the actor's snapshot when the fit
 * runs (the newest history), and the result goes back as `hmm.calibrated`.
 */
export function createCalibrator(opts: {
  lookup: (systemId: string) => AnyActorRef | undefined;
  log: Logger;
  env: () => StrategyEnv;
  schedule?: (fn: () => void) => void;
}) {
  const queue: Array<{ id: string; variant: ModelVariant; atBar: number }> = [];
  const schedule = opts.schedule ?? setImmediate;
  let running = false;
  let fits = 0;
  let failures = 0;
  const run = () => {
    const job = queue.shift();
    if (!job) {
      running = false;
      return;
    }
    const ref = opts.lookup(job.id);
    if (ref && ref.getSnapshot().status === 'active') {
      const ctx = ref.getSnapshot().context as SymbolContext;
      const env = opts.env();
      let params = null;
      try {
        const window = calibrationWindow(ctx.strat, job.variant, env);
        params = fitBaumWelch(window, { k: env.calibration.states ?? 3, maxIter: 200, seed: 1 }).params;
        fits += 1;
      } catch (e) {
        failures += 1;
        opts.log.warn({ actor: job.id, variant: job.variant, err: errorMessage(e) }, 'HMM calibration failed');
      }
      ref.send({ type: 'hmm.calibrated', variant: job.variant, params, atBar: job.atBar });
    }
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
    stats: () => ({ fits, failures, queued: queue.length }),
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
