import type { AnyActorRef } from 'xstate';
import type { EngineLimits } from '../../src/actors/engine/engine-types.js';
import type { PerpSettings } from '../../src/actors/engine/perp-settlement.js';
import { buildSymbolsSupervisor, createCalibrator } from '../../src/actors/symbol.actors.js';
import { createTickRouter } from '../../src/actors/tick-router.js';
import type { Tick } from '../../src/backtest/replay.js';
import { actorId } from '../../src/domain/ids.js';
import { createLogger } from '../../src/logging/logger.js';
import type { SymbolContext } from '../../src/machines/symbol.machine.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { addTick, initialBars } from '../../src/strategies/bars.js';
import type { StrategyEnv } from '../../src/strategies/symbol-strategy.js';
import { createRuntime, type Runtime } from '../../src/supervisor/runtime.js';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { boot, type EngineRig, engineRig } from '../trading/engine-harness.js';

/**
 * The runtime's pipeline for one symbol, wired as `trading.actors.ts` wires it — the tick router, the
 * `symbols:binance` supervisor and its symbol actor, the calibrator, and the real engine (LMDB store, ledger, perp
 * book, rails) sending market orders through the real ccxt gateway to a frozen simulator moved to each tick's
 * price — for the backtest parity tests.
 *
 * After a bar-closing tick the feed waits until the pipeline is at rest, a condition re-checked on the events that
 * can change it, never on a timer: every deferred run of the tick router and the calibrator is counted (their
 * `schedule` seam), and the engine tells the symbol actor when an order settles (`notify`). The engine takes an
 * order's slot in the same turn its signal arrives, so "no deferred run, no engine slot, no order in the actor's
 * books" holds only once the bar, its signal, its order and the fits it asked for are all done.
 */
export interface LivePipeline {
  /** Feeds the ticks, waiting for rest after each bar close. */
  feed(ticks: readonly Tick[]): Promise<void>;
  rig: EngineRig;
  close(): Promise<void>;
}

export interface LivePipelineOptions {
  seed: number;
  venue: string;
  symbol: string;
  symbols: readonly string[];
  capitalUsd: number;
  limits: Partial<EngineLimits>;
  cooldownMs: number;
  env: StrategyEnv;
  /** The engine's clock at boot: the first tick's time (the ledger's baseline and trade cursor follow it). */
  startAt: number;
  /** Perpetual settings: the strategies trade the symbol's perpetual (a futures wallet of `capitalUsd`). */
  perp?: PerpSettings;
}

/** A rest condition re-evaluated when a counted deferred run ends or `check` is called (an order settled). */
function restWatch(isIdle: () => boolean) {
  let scheduled = 0;
  let waiter: { resolve(): void } | undefined;
  const check = () => {
    if (waiter !== undefined && scheduled === 0 && isIdle()) {
      const w = waiter;
      waiter = undefined;
      w.resolve();
    }
  };
  return {
    schedule(fn: () => void): void {
      scheduled += 1;
      setImmediate(() => {
        try {
          fn();
        } finally {
          scheduled -= 1;
          check();
        }
      });
    },
    check,
    /** Resolves at rest; a pipeline that never comes to rest fails the test with what was still busy. */
    atRest(what: string, busy: () => string): Promise<void> {
      return new Promise((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error(`never at rest after ${what}: ${busy()}`)), 30_000);
        waiter = {
          resolve: () => {
            clearTimeout(guard);
            resolve();
          },
        };
        check();
      });
    },
    pending: () => scheduled,
  };
}

export async function livePipeline(o: LivePipelineOptions): Promise<LivePipeline> {
  // A simulator on the ticks' clock, moved to each tick's price: the live side fills where the backtest's book
  // model fills, and the venue's order and trade times are the engine's (its trade cursor reads by time).
  const simClock = createManualClock(o.startAt);
  const sim: Simulator = await startSimulator({ host: '127.0.0.1', port: 0, seed: o.seed, clock: simClock });
  let clock = o.startAt;
  const log = createLogger({ level: 'silent', stdout: false }).log;
  const metrics = createMetrics({ defaultMetrics: false });
  let rootRef: AnyActorRef | undefined;
  const lookup = (id: string) => rootRef?.system.get(id) as AnyActorRef | undefined;
  const sid = actorId.symbol(o.venue, o.symbol);
  const actorCtx = () => lookup(sid)?.getSnapshot().context as SymbolContext | undefined;
  let rig: EngineRig | undefined;
  const rest = restWatch(() => {
    const ctx = actorCtx();
    return (
      rig?.engine.inflightCount() === 0 && ctx !== undefined && ctx.inflight.buy === null && ctx.inflight.sell === null
    );
  });
  rig = await engineRig(sim, {
    spot: { USDT: o.capitalUsd },
    ...(o.perp ? { perp: o.perp, futures: { USDT: o.capitalUsd } } : {}),
    limits: o.limits,
    symbols: o.symbols,
    now: () => clock,
    // The venue's request budget on the ticks' time too: live, a bar is a minute of wall time, not a few ms.
    budgetClock: { now: () => clock, sleep: (ms) => new Promise((go) => setTimeout(go, ms)) },
    notify: (venue, symbol, e) => {
      lookup(actorId.symbol(venue, symbol))?.send(e as never);
      rest.check();
    },
  });
  const r = rig;
  await boot(r);
  const calibrator = createCalibrator({ lookup, log, env: () => o.env, schedule: rest.schedule });
  const runtime: Runtime = createRuntime({
    options: {
      tradingEnabled: true,
      heartbeatMs: 60_000,
      maxLoopDelayMs: 60_000,
      restartIntensity: 10,
      restartPeriodMs: 60_000,
      shutdownTimeoutMs: 2_000,
    },
    log,
    metrics,
    kv: r.store.kv,
    onFatal: () => {},
    subtrees: (hooks) => [
      buildSymbolsSupervisor({
        venue: o.venue,
        symbols: [o.symbol],
        barMs: 60_000,
        baseCooldownMs: o.cooldownMs,
        env: () => o.env,
        trading: () => 'ACTIVE',
        onSignal: (e) => r.engine.onSignal(e),
        calibrator,
        metrics,
        hooks,
      }) as never,
    ],
  });
  await runtime.start();
  runtime.markReady();
  rootRef = runtime.root();
  const router = createTickRouter({
    lookup,
    metrics,
    barMs: 60_000,
    schedule: rest.schedule,
    onPrice: (v, s, p) => r.engine.notePrice(v, s, p),
  });
  const busy = () => {
    const c = calibrator.stats();
    return `deferred runs ${rest.pending()}, calibrations queued ${c.queued}, engine slots ${r.engine.inflightCount()}, actor inflight ${JSON.stringify(actorCtx()?.inflight)}`;
  };
  return {
    rig: r,
    async feed(ticks) {
      const bars = initialBars(60_000);
      for (const t of ticks) {
        clock = t.at;
        if (t.at > simClock.now()) simClock.set(t.at);
        sim.setPrice({ venue: 'binance', market: 'spot', symbol: o.symbol, price: t.price });
        if (o.perp) sim.setPrice({ venue: 'binance', market: 'perp', symbol: o.symbol, price: t.price });
        router.push({
          venue: o.venue,
          symbol: o.symbol,
          bid: null,
          ask: null,
          last: t.price,
          receivedAt: t.at,
          t0: performance.now(),
        });
        if (addTick(bars, t.price, t.at) !== null) await rest.atRest(`the bar closed at ${t.at}`, busy);
      }
    },
    async close() {
      await runtime.shutdown();
      await r.close();
      await sim.close();
    },
  };
}
