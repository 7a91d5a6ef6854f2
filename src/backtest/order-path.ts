import type { PerpSettings } from '../actors/engine/perp-settlement.js';
import type { RiskLimits } from '../config/risk-limits.js';
import { liquidationPrice, positionAfter } from '../domain/perp-ledger.js';
import { snapDown } from '../domain/precision.js';
import { checkRails, type RailContext, type RailReason } from '../domain/rails.js';
import type { SignalEffect } from '../machines/symbol.machine.js';
import type { AllocationInput } from '../strategies/allocator.js';
import { perpClose } from '../strategies/perp-intent.js';
import { type SizedSignal, sizeSignal } from '../strategies/signal-sizing.js';
import type { BacktestAccount, MarketRules } from './market-model.js';
import type { PerpBacktestAccount } from './perp-account.js';

/**
 * The engine's order path for one backtest signal, as `order-entry.ts` and `order-submit.ts` take it: the signal
 * sized by `sizeSignal` (long-only on spot, `perpIntentFor` on a perpetual), an exit made reduce-only only when the
 * one-way net position can take it (`exitReducesNet`), the amount snapped to the market's step, then the rails
 * (`checkRails`) with the exposure the engine counts (spot holdings, or the perp book's notional) and, for a
 * perpetual entry, the liquidation price of the position it leads to (`positionAfter` + `liquidationPrice` at the
 * configured leverage and maintenance rate). What passes is filled by the account (the venue model).
 */
export type Rejection = RailReason | 'insufficient_margin' | 'reduce_only_rejected';

export interface OrderPathOptions {
  venue: string;
  rules: MarketRules;
  allocations: AllocationInput;
  symbols: readonly string[];
  limits: RiskLimits;
  minTradeUsdt: number;
}

/** PERP_* settings the backtest's perpetual path uses (PERP_STRATEGIES_ENABLED is implied by passing them). */
export type BacktestPerpSettings = Omit<PerpSettings, 'strategies'>;

export interface SignalOrder {
  side: 'buy' | 'sell';
  amount: number;
  reduceOnly: boolean;
  strategy: string;
}

/** What a signal came to: an order to fill, a rejection (counted by reason), or nothing to do. */
export type SignalOutcome = { order: SignalOrder } | { rejected: Rejection } | null;

/** Room under the exposure caps, as the engine's `headroom` (one venue, one symbol: every cap sees the same exposure). */
function headroom(o: OrderPathOptions, exposureUsd: number): number {
  const l = o.limits;
  return Math.max(0, Math.min(l.maxSymbolExposureUsdt, l.maxVenueExposureUsdt, l.maxAssetExposureUsdt) - exposureUsd);
}

function size(
  o: OrderPathOptions,
  s: SignalEffect,
  positionBase: number,
  equityUsd: number,
  longOnly: boolean,
  exposureUsd: number,
) {
  return sizeSignal({
    venue: o.venue,
    symbol: o.rules.symbol,
    signal: s.output.signal,
    quoteMultiplier: s.output.quoteMultiplier,
    price: s.price,
    positionBase,
    equityUsd,
    allocations: o.allocations,
    venues: [o.venue],
    symbols: o.symbols,
    sizeScale: 1,
    minTradeUsdt: o.minTradeUsdt,
    maxNotionalUsdt: o.limits.maxNotionalUsdt,
    longOnly,
    headroomUsdt: headroom(o, exposureUsd),
  });
}

/** The rails as the engine runs them for a bar's signal: trading ACTIVE, no breaker or guard tripped. */
function rails(
  o: OrderPathOptions,
  s: SignalEffect,
  d: SizedSignal,
  order: { notional: number; reduces: boolean; minNotionalUsdt: number; exposureUsd: number; closesPosition?: boolean },
  perp?: RailContext['perp'],
) {
  const e = order.exposureUsd;
  return checkRails(
    {
      venue: o.venue,
      symbol: o.rules.symbol,
      base: o.rules.base,
      quote: o.rules.quote,
      side: d.side,
      notionalUsdt: order.notional > 0 ? order.notional : d.quoteUsdt,
      reduceOnly: order.reduces,
      price: s.price,
      closesPosition: order.closesPosition === true,
    },
    {
      trading: { global: 'ACTIVE', venue: 'ACTIVE', symbol: 'ACTIVE' },
      limits: o.limits,
      policyAllowed: true,
      minNotionalUsdt: order.minNotionalUsdt,
      exposure: { symbolUsdt: e, venueUsdt: e, assetUsdt: e },
      equityBreaker: { tripped: false, reason: '' },
      venueBreaker: { tripped: false, reason: '' },
      guards: { depegActive: false, fundingSpike: false },
      inFlight: false,
      // As in the engine: the cooldown is the symbol actor's (it stays quiet while one runs).
      cooldownUntil: 0,
      now: s.at,
      ratePressure: 0,
      ...(perp ? { perp } : {}),
    },
  );
}

function decided(
  d: SizedSignal,
  amount: number,
  reduceOnly: boolean,
  s: SignalEffect,
  v: ReturnType<typeof checkRails>,
): SignalOutcome {
  if (!v.ok) return { rejected: v.reason };
  if (!(amount > 0)) return { rejected: 'min_notional' };
  return { order: { side: d.side, amount, reduceOnly, strategy: s.output.strategy } };
}

/** A spot signal: long only, a sell of what is held lowers exposure (the engine's `reducesExposure`). */
export function spotOrder(o: OrderPathOptions, acct: BacktestAccount, s: SignalEffect): SignalOutcome {
  const d = size(o, s, acct.position, acct.equity(s.price), true, Math.abs(acct.held) * s.price);
  if (!d) return null;
  const amount = acct.amountFor(d.quoteUsdt, s.price);
  const reduces = d.reduceOnly || (d.side === 'sell' && amount <= acct.held);
  const v = rails(o, s, d, {
    notional: amount * s.price,
    reduces,
    minNotionalUsdt: Math.max(o.rules.minNotional, o.rules.minQty * s.price),
    exposureUsd: Math.abs(acct.held) * s.price,
  });
  return decided(d, amount, reduces, s, v);
}

/** A perpetual signal: long and short in one-way mode, reduce-only exits, the liquidation rail on entries. */
export function perpOrder(
  o: OrderPathOptions,
  p: BacktestPerpSettings,
  acct: PerpBacktestAccount,
  s: SignalEffect,
): SignalOutcome {
  const d = size(o, s, acct.strategyPosition(), acct.sizingEquity(), false, acct.notionalUsd(s.price));
  if (!d) return null;
  const net = acct.net();
  const shape = perpClose(d, {
    price: s.price,
    positionBase: acct.strategyPosition(),
    netQty: net.qty,
    maxNotionalUsdt: o.limits.maxNotionalUsdt,
  });
  const reduceOnly = shape.reduceOnly;
  const amount = snapDown(shape.amountBase ?? shape.quoteUsdt / s.price, o.rules.stepSize);
  let liq: RailContext['perp'];
  if (!reduceOnly) {
    const after = positionAfter(net, d.side, amount, s.price);
    const side = after.qty >= 0 ? 'long' : 'short';
    liq = {
      liquidationPrice: liquidationPrice(side, after.entryPrice, p.leverage, p.maintMarginRate),
      minDistancePct: p.minLiqDistancePct,
    };
  }
  const v = rails(
    o,
    s,
    d,
    {
      notional: amount * s.price,
      reduces: reduceOnly,
      closesPosition: reduceOnly && shape.amountBase !== undefined,
      // Binance USDⓈ-M exempts reduce-only orders from MIN_NOTIONAL (the engine's rule too).
      minNotionalUsdt: reduceOnly ? o.rules.minQty * s.price : Math.max(o.rules.minNotional, o.rules.minQty * s.price),
      exposureUsd: acct.notionalUsd(s.price),
    },
    liq,
  );
  return decided(d, amount, reduceOnly, s, v);
}
