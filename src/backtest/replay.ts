import pino from 'pino';
import { createActor } from 'xstate';
import { createCalibrator } from '../actors/symbol.actors.js';
import { createTickRouter } from '../actors/tick-router.js';
import type { RiskLimits } from '../config/risk-limits.js';
import { actorId } from '../domain/ids.js';
import { type SignalEffect, symbolMachine } from '../machines/symbol.machine.js';
import { createMetrics } from '../metrics/metrics.js';
import type { AllocationInput } from '../strategies/allocator.js';
import { addTick, initialBars } from '../strategies/bars.js';
import type { StrategyEnv } from '../strategies/symbol-strategy.js';
import { buyAndHold, createVenue, type FundingSource, type PerpTotals } from './backtest-venue.js';
import type { BacktestFill, MarketRules } from './market-model.js';
import type { BacktestPerpSettings, Rejection } from './order-path.js';
import type { SlippageModel } from './slippage-model.js';

/**
 * One backtest run over a tick stream, through the live pipeline's own parts: the tick router folds ticks into bars
 * (`createTickRouter`), the real symbol actor (`symbolMachine`, as `buildSymbolsSupervisor` provides it) runs the
 * strategies and its cooldown (base × the HMM's `cooldown_scale`), the live calibrator fits the HMM off the tick
 * path, the engine's sizing (`sizeSignal`) and the rails (`checkRails`) decide each order, and the market model
 * fills it with fee and slippage. Only the venue is modelled; the decisions are the live code's.
 *
 * Everything the live path does asynchronously (bar delivery, calibration, the fill and its settlement) runs here
 * to completion before the next tick: the live path at rest between ticks, which is what the parity test feeds
 * the runtime's pipeline (test/backtest/parity.test.ts).
 */
export type RunMode = 'blend' | 'hmm' | 'trend' | 'buy_and_hold';
export const RUN_MODES: readonly RunMode[] = ['blend', 'hmm', 'trend', 'buy_and_hold'];

export interface Tick {
  /** Epoch ms the tick was received (bar buckets and cooldowns follow it). */
  at: number;
  /** Mid price. */
  price: number;
}

export interface ReplayOptions {
  mode: RunMode;
  venue: string;
  rules: MarketRules;
  slippage: SlippageModel;
  capitalUsd: number;
  barMs: number;
  baseCooldownMs: number;
  env: StrategyEnv;
  allocations: AllocationInput;
  /** The venue's traded symbols (the allocator splits the venue's capital over them). */
  symbols: readonly string[];
  limits: RiskLimits;
  minTradeUsdt: number;
  /**
   * PERP_STRATEGIES_ENABLED: the signals trade the symbol's USDⓈ-M perpetual (`rules` are the perpetual's), long
   * and short, at these PERP_* settings; absent: spot, long only.
   */
  perp?: BacktestPerpSettings;
  /** Funding rates settled on a perpetual position (a seeded path or the venue's history); none: no funding. */
  funding?: FundingSource;
}

export interface BarPoint {
  at: number;
  close: number;
  equity: number;
  /** Position value at the close (signed: a perpetual short is negative). */
  positionUsd: number;
}

export interface ReplayResult {
  mode: RunMode;
  bars: BarPoint[];
  fills: BacktestFill[];
  rejections: Partial<Record<Rejection, number>>;
  calibrations: number;
  signals: number;
  feesUsd: number;
  slippageUsd: number;
  /** Net funding (received − paid; 0 on spot). */
  fundingUsd: number;
  /** Perpetual runs only. */
  perp?: PerpTotals;
}

const silent = pino({ level: 'silent' });

/** The strategy env a mode runs: the blend as configured, or one strategy alone (its weight 1, the other's 0). */
export function envFor(mode: RunMode, env: StrategyEnv): StrategyEnv {
  if (mode === 'hmm') return { ...env, trendWeight: 0 };
  if (mode === 'trend') return { ...env, trendWeight: 1 };
  return env;
}

export function replay(ticks: Iterable<Tick>, o: ReplayOptions): ReplayResult {
  if (o.mode === 'buy_and_hold') return buyAndHold(ticks, o);
  const venue = createVenue(o);
  const bars: BarPoint[] = [];
  const barState = initialBars(o.barMs);
  const rejections: ReplayResult['rejections'] = {};
  const env = envFor(o.mode, o.env);
  const sid = actorId.symbol(o.venue, o.rules.symbol);
  const deferred: Array<() => void> = [];
  const schedule = (fn: () => void) => {
    deferred.push(fn);
  };
  const signals: SignalEffect[] = [];
  let actor: ReturnType<typeof createActor<typeof symbolMachine>> | undefined;
  const lookup = (id: string) => (id === sid ? actor : undefined);
  // A clock that never passes the slice deadline: each scheduled run finishes its work (nothing else waits here).
  const calibrator = createCalibrator({ lookup, log: silent, env: () => env, schedule, clock: () => 0 });
  const logic = symbolMachine.provide({
    actions: {
      'sym.signal': (_, params) => {
        signals.push(params);
      },
      'sym.calibrate': (_, p) => calibrator.request(actorId.symbol(p.venue, p.symbol), p.variant, p.atBar),
    },
  });
  actor = createActor(logic, {
    input: {
      venue: o.venue,
      symbol: o.rules.symbol,
      barMs: o.barMs,
      baseCooldownMs: o.baseCooldownMs,
      env,
      trading: 'ACTIVE',
    },
  }).start();
  const router = createTickRouter({
    lookup,
    metrics: createMetrics({ defaultMetrics: false }),
    barMs: o.barMs,
    schedule,
  });
  let seq = 0;
  let nSignals = 0;

  const onSignal = (s: SignalEffect) => {
    nSignals += 1;
    const r = venue.decide(s);
    if (r === null) return;
    if ('rejected' in r) {
      rejections[r.rejected] = (rejections[r.rejected] ?? 0) + 1;
      return;
    }
    const cid = `bt-${++seq}`;
    actor?.send({ type: 'order.placed', side: r.order.side, clientOrderId: cid });
    const f = venue.fill({ ...r.order, at: s.at, bar: bars.length, price: s.price });
    if (typeof f === 'string') rejections[f] = (rejections[f] ?? 0) + 1;
    const filled = typeof f === 'object' && f !== null;
    actor?.send({ type: 'order.settled', side: r.order.side, clientOrderId: cid, filled, at: s.at });
  };

  for (const t of ticks) {
    venue.onTick(t, bars.length);
    const closed = addTick(barState, t.price, t.at);
    router.push({
      venue: o.venue,
      symbol: o.rules.symbol,
      bid: null,
      ask: null,
      last: t.price,
      receivedAt: t.at,
      t0: 0,
    });
    // The bar event, then its signal (the engine sizes it in the same turn), then the calibrations it asked for.
    while (deferred.length > 0 || signals.length > 0) {
      const fn = deferred.shift();
      fn?.();
      for (let s = signals.shift(); s !== undefined; s = signals.shift()) onSignal(s);
    }
    if (closed) bars.push(venue.point(closed.openAt, t.price));
  }
  actor.stop();
  return {
    ...venue.totals(),
    mode: o.mode,
    bars,
    rejections,
    calibrations: calibrator.stats().fits,
    signals: nSignals,
  };
}
