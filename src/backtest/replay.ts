import pino from 'pino';
import { createActor } from 'xstate';
import { createCalibrator } from '../actors/symbol.actors.js';
import { createTickRouter } from '../actors/tick-router.js';
import type { RiskLimits } from '../config/risk-limits.js';
import { actorId } from '../domain/ids.js';
import { checkRails, type RailReason } from '../domain/rails.js';
import { type SignalEffect, symbolMachine } from '../machines/symbol.machine.js';
import { createMetrics } from '../metrics/metrics.js';
import type { AllocationInput } from '../strategies/allocator.js';
import { addTick, initialBars } from '../strategies/bars.js';
import { sizeSignal } from '../strategies/signal-sizing.js';
import type { StrategyEnv } from '../strategies/symbol-strategy.js';
import { BacktestAccount, type BacktestFill, type MarketRules } from './market-model.js';
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
}

export interface BarPoint {
  at: number;
  close: number;
  equity: number;
  positionUsd: number;
}

export interface ReplayResult {
  mode: RunMode;
  bars: BarPoint[];
  fills: BacktestFill[];
  rejections: Partial<Record<RailReason, number>>;
  calibrations: number;
  signals: number;
  feesUsd: number;
  slippageUsd: number;
  fundingUsd: number;
}

const silent = pino({ level: 'silent' });

/** The strategy env a mode runs: the blend as configured, or one strategy alone (its weight 1, the other's 0). */
export function envFor(mode: RunMode, env: StrategyEnv): StrategyEnv {
  if (mode === 'hmm') return { ...env, trendWeight: 0 };
  if (mode === 'trend') return { ...env, trendWeight: 1 };
  return env;
}

export function replay(ticks: Iterable<Tick>, o: ReplayOptions): ReplayResult {
  const acct = new BacktestAccount(o.rules, o.slippage, o.capitalUsd);
  const bars: BarPoint[] = [];
  const barState = initialBars(o.barMs);
  const rejections: Partial<Record<RailReason, number>> = {};
  if (o.mode === 'buy_and_hold') return buyAndHold(ticks, o, acct, bars);

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
    const d = sizeSignal({
      venue: o.venue,
      symbol: o.rules.symbol,
      signal: s.output.signal,
      quoteMultiplier: s.output.quoteMultiplier,
      price: s.price,
      positionBase: acct.position,
      equityUsd: acct.equity(s.price),
      allocations: o.allocations,
      venues: [o.venue],
      symbols: o.symbols,
      sizeScale: 1,
      minTradeUsdt: o.minTradeUsdt,
      maxNotionalUsdt: o.limits.maxNotionalUsdt,
      longOnly: o.rules.kind === 'spot',
    });
    if (!d) return;
    const amount = acct.amountFor(d.quoteUsdt, s.price);
    const notional = amount * s.price;
    const reduces = d.reduceOnly || (d.side === 'sell' && amount <= acct.held);
    const exposure = Math.abs(acct.held) * s.price;
    const verdict = checkRails(
      {
        venue: o.venue,
        symbol: o.rules.symbol,
        base: o.rules.base,
        quote: o.rules.quote,
        side: d.side,
        notionalUsdt: notional > 0 ? notional : d.quoteUsdt,
        reduceOnly: reduces,
        price: s.price,
      },
      {
        trading: { global: 'ACTIVE', venue: 'ACTIVE', symbol: 'ACTIVE' },
        limits: o.limits,
        policyAllowed: true,
        minNotionalUsdt: Math.max(o.rules.minNotional, o.rules.minQty * s.price),
        exposure: { symbolUsdt: exposure, venueUsdt: exposure, assetUsdt: exposure },
        equityBreaker: { tripped: false, reason: '' },
        venueBreaker: { tripped: false, reason: '' },
        guards: { depegActive: false, fundingSpike: false },
        inFlight: false,
        // As in the engine: the cooldown is the symbol actor's (it stays quiet while one runs).
        cooldownUntil: 0,
        now: s.at,
        ratePressure: 0,
      },
    );
    if (!verdict.ok) {
      rejections[verdict.reason] = (rejections[verdict.reason] ?? 0) + 1;
      return;
    }
    if (!(amount > 0)) {
      rejections.min_notional = (rejections.min_notional ?? 0) + 1;
      return;
    }
    const cid = `bt-${++seq}`;
    actor?.send({ type: 'order.placed', side: d.side, clientOrderId: cid });
    const f = acct.fill({
      at: s.at,
      bar: bars.length,
      side: d.side,
      amount,
      price: s.price,
      strategy: s.output.strategy,
    });
    actor?.send({ type: 'order.settled', side: d.side, clientOrderId: cid, filled: f !== null, at: s.at });
  };

  for (const t of ticks) {
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
    if (closed) bars.push(point(closed.openAt, t.price, acct));
  }
  actor.stop();
  return {
    mode: o.mode,
    bars,
    fills: acct.fills,
    rejections,
    calibrations: calibrator.stats().fits,
    signals: nSignals,
    feesUsd: acct.feesUsd,
    slippageUsd: acct.slippageUsd,
    fundingUsd: acct.fundingUsd,
  };
}

function point(at: number, price: number, acct: BacktestAccount): BarPoint {
  return { at, close: price, equity: acct.equity(price), positionUsd: acct.held * price };
}

/** The benchmark: the whole capital into the asset at the first bar close (fee and slippage paid), then held. */
function buyAndHold(ticks: Iterable<Tick>, o: ReplayOptions, acct: BacktestAccount, bars: BarPoint[]): ReplayResult {
  const barState = initialBars(o.barMs);
  for (const t of ticks) {
    const closed = addTick(barState, t.price, t.at);
    if (!closed) continue;
    if (acct.fills.length === 0) {
      // Leave room for the fee and the slippage of the one buy.
      const budget = o.capitalUsd / (1 + o.rules.takerFee + 0.01);
      acct.fill({
        at: t.at,
        bar: 0,
        side: 'buy',
        amount: acct.amountFor(budget, t.price),
        price: t.price,
        strategy: 'buy_and_hold',
      });
    }
    bars.push(point(closed.openAt, t.price, acct));
  }
  return {
    mode: 'buy_and_hold',
    bars,
    fills: acct.fills,
    rejections: {},
    calibrations: 0,
    signals: 0,
    feesUsd: acct.feesUsd,
    slippageUsd: acct.slippageUsd,
    fundingUsd: acct.fundingUsd,
  };
}
