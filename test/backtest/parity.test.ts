import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { buildSymbolsSupervisor, createCalibrator } from '../../src/actors/symbol.actors.js';
import { createTickRouter } from '../../src/actors/tick-router.js';
import { replay } from '../../src/backtest/replay.js';
import { SIM_BOOK_SLIPPAGE } from '../../src/backtest/slippage-model.js';
import { simPathTicks, simSpotRules } from '../../src/backtest/tick-sources.js';
import { actorId } from '../../src/domain/ids.js';
import { createLogger } from '../../src/logging/logger.js';
import type { SymbolContext } from '../../src/machines/symbol.machine.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { addTick, initialBars } from '../../src/strategies/bars.js';
import type { StrategyEnv } from '../../src/strategies/symbol-strategy.js';
import { createRuntime, type Runtime } from '../../src/supervisor/runtime.js';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { boot, type EngineRig, engineRig, OPEN_LIMITS } from '../trading/engine-harness.js';
import { until } from '../trading/support.js';

/**
 * Parity (issue 16 item 7): the backtest on a seeded path makes the same trades as the runtime's pipeline fed the
 * same ticks. The live side is the runtime's own parts wired as `trading.actors.ts` wires them — the tick router,
 * the `symbols:binance` supervisor and its symbol actor, the calibrator, and the real engine (LMDB store, ledger,
 * rails) sending market orders through the real ccxt gateway to the simulator — driven tick by tick and left to
 * settle (bar delivered, fits done, order filled and settled) before the next tick. The backtest replays the same
 * ticks through `replay`. The trades compared: time, side, strategy and amount of every filled strategy order.
 */
const SEED = Number(process.env.PARITY_SEED ?? 7);
const BARS = 700;
const VENUE = 'binance';
const SYMBOL = 'BTCUSDT';
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const CAPITAL = 100_000;
const COOLDOWN_MS = 90_000;
const LIMITS = { ...OPEN_LIMITS, maxNotionalUsdt: 400 };
const env: StrategyEnv = {
  weights: { stable_model: 0.7, canary_model: 0.3 },
  // A cooldown scale away from 1, so the parity covers `base × cooldown_scale`.
  calibration: { confidence_gain: 1, quote_multiplier: 1, cooldown_scale: 1.5, states: 3 },
  trend: { fastBars: 8, slowBars: 34, entryZ: 0.5 },
  warmupBars: 150,
  trendWeight: 0.5,
};

interface TradeRow {
  at: number;
  side: string;
  strategy: string;
  amount: number;
}

let sim: Simulator;
let rig: EngineRig;
let runtime: Runtime;

beforeAll(async () => {
  // A frozen simulator moved to each tick's price: the live side fills where the backtest's book model fills (a
  // simulator walking on its own clock fills elsewhere, and cash, equity and the next sizes drift by a step).
  sim = await startSimulator({ host: '127.0.0.1', port: 0, seed: SEED, clock: createManualClock(Date.now()) });
});

afterAll(async () => {
  await runtime?.shutdown();
  await rig?.close();
  await sim?.close();
});

describe('backtest parity with the live pipeline', () => {
  it(`makes the same trades as the runtime fed the same ticks (seed ${SEED})`, async () => {
    console.log(`parity seed ${SEED} (replay: PARITY_SEED=${SEED})`);
    const series = simPathTicks({ asset: 'BTC', seed: SEED, bars: BARS, tickMs: 5_000 });
    let clock = series.ticks[0]?.at ?? 0;
    const log = createLogger({ level: 'silent', stdout: false }).log;
    const metrics = createMetrics({ defaultMetrics: false });
    let rootRef: AnyActorRef | undefined;
    const lookup = (id: string) => rootRef?.system.get(id) as AnyActorRef | undefined;
    rig = await engineRig(sim, {
      spot: { USDT: CAPITAL },
      limits: LIMITS,
      symbols: SYMBOLS,
      now: () => clock,
      notify: (venue, symbol, e) => lookup(actorId.symbol(venue, symbol))?.send(e as never),
    });
    await boot(rig);
    const calibrator = createCalibrator({ lookup, log, env: () => env });
    runtime = createRuntime({
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
      kv: rig.store.kv,
      onFatal: () => {},
      subtrees: (hooks) => [
        buildSymbolsSupervisor({
          venue: VENUE,
          symbols: [SYMBOL],
          barMs: 60_000,
          baseCooldownMs: COOLDOWN_MS,
          env: () => env,
          trading: () => 'ACTIVE',
          onSignal: (e) => rig.engine.onSignal(e),
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
      onPrice: (v, s, p) => rig.engine.notePrice(v, s, p),
    });
    const sid = actorId.symbol(VENUE, SYMBOL);
    const bars = initialBars(60_000);
    const atRest = () => {
      const ctx = lookup(sid)?.getSnapshot().context as SymbolContext | undefined;
      const c = calibrator.stats();
      return (
        router.stats().pending === 0 &&
        c.queued === 0 &&
        !c.running &&
        rig.engine.inflightCount() === 0 &&
        ctx !== undefined &&
        ctx.inflight.buy === null &&
        ctx.inflight.sell === null
      );
    };
    for (const t of series.ticks) {
      clock = t.at;
      sim.setPrice({ venue: VENUE, market: 'spot', symbol: SYMBOL, price: t.price });
      router.push({
        venue: VENUE,
        symbol: SYMBOL,
        bid: null,
        ask: null,
        last: t.price,
        receivedAt: t.at,
        t0: performance.now(),
      });
      if (addTick(bars, t.price, t.at) !== null)
        await until(
          `the pipeline at rest after the bar closed at ${t.at}`,
          () => (atRest() ? true : undefined),
          20_000,
        );
    }
    const live: TradeRow[] = [...rig.store.orders.list()]
      .filter((r) => r.status === 'filled' && (r.strategy === 'hmm' || r.strategy === 'trend'))
      .map((r) => ({
        at: Number(r.createdAt),
        side: String(r.side),
        strategy: String(r.strategy),
        amount: Number(r.amount),
      }))
      .sort((a, b) => a.at - b.at);

    const bt = replay(series.ticks, {
      mode: 'blend',
      venue: VENUE,
      rules: simSpotRules('BTC'),
      slippage: SIM_BOOK_SLIPPAGE,
      capitalUsd: CAPITAL,
      barMs: 60_000,
      baseCooldownMs: COOLDOWN_MS,
      env,
      allocations: { reserve_pct: 0 },
      symbols: SYMBOLS,
      limits: LIMITS,
      minTradeUsdt: 10,
    });
    const backtest: TradeRow[] = bt.fills.map((f) => ({
      at: f.at,
      side: f.side,
      strategy: f.strategy,
      amount: f.amount,
    }));
    console.log(`parity: ${live.length} live trades, ${backtest.length} backtest trades, ${bt.calibrations} fits`);
    // Something to compare: both strategies, both sides, and the cooldown in play.
    expect(backtest.length).toBeGreaterThan(10);
    expect(new Set(backtest.map((t) => t.side)).size).toBe(2);
    expect(backtest).toEqual(live);
  }, 600_000);
});
