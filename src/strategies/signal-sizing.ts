import {
  type AllocationInput,
  type IntentDecision,
  intentFor,
  symbolBudgetUsdt,
  targetPositionUsdt,
} from './allocator.js';
import { perpIntentFor } from './perp-intent.js';

/**
 * A symbol actor's signal sized into an order decision: the allocator's budget for (venue, symbol), the target
 * position it asks for, and the order that moves the strategies' position toward it. One pure function shared by
 * the engine's order entry (live) and `bosun backtest`, so the two cannot size the same signal differently.
 */
export interface SignalSizingInput {
  venue: string;
  symbol: string;
  /** Combined strategy signal in [-1, 1] and the HMM's quote multiplier (`StrategyOutput`). */
  signal: number;
  quoteMultiplier: number;
  /** Price the signal was decided at (the tick that closed the bar). */
  price: number;
  /** The strategies' position in base units (the ledger's `strategyPosition`). */
  positionBase: number;
  equityUsd: number;
  allocations: AllocationInput;
  venues: readonly string[];
  symbols: readonly string[];
  riskWeights?: Readonly<Record<string, number>> | undefined;
  /** Auto-cutback's multiplier (1 when off); a non-finite one sizes to nothing. */
  sizeScale: number;
  minTradeUsdt: number;
  maxNotionalUsdt: number;
  /** Spot is long-only; a market that can be short (perpetuals) passes false and is sized by `perpIntentFor`. */
  longOnly: boolean;
  /**
   * USDT an order that adds exposure may still take under the exposure caps (settled + reserved, symbol, venue and
   * asset); undefined: not limited here. An entry is clipped to it, and skipped under `minTradeUsdt`, instead of
   * being sized past a full cap and refused by the rails every bar (a default paper run stopped trading so).
   */
  headroomUsdt?: number | undefined;
}

export interface SizedSignal extends IntentDecision {
  /** The strategies' position in quote units at `price`. */
  currentUsdt: number;
  targetUsdt: number;
}

export function sizeSignal(i: SignalSizingInput): SizedSignal | null {
  const current = i.positionBase * i.price;
  const budget = symbolBudgetUsdt(i.allocations, i.equityUsd, i.venue, i.venues, i.symbol, i.symbols, i.riskWeights);
  const target = targetPositionUsdt(i.signal, budget * (Number.isFinite(i.sizeScale) ? i.sizeScale : 0), {
    quoteMultiplier: i.quoteMultiplier,
    longOnly: i.longOnly,
  });
  const sizing = { minTradeUsdt: i.minTradeUsdt, maxNotionalUsdt: i.maxNotionalUsdt };
  const d = i.longOnly ? intentFor(current, target, sizing) : perpIntentFor(current, target, sizing);
  if (!d) return null;
  if (!d.reduceOnly && i.headroomUsdt !== undefined && d.quoteUsdt > i.headroomUsdt) {
    const room = Math.max(0, i.headroomUsdt);
    if (room < i.minTradeUsdt || room <= 0) return null;
    return {
      ...d,
      quoteUsdt: room,
      reason: `${d.reason} (clipped to ${room.toFixed(2)} left under the exposure caps)`,
      currentUsdt: current,
      targetUsdt: target,
    };
  }
  // A long-only sell never exceeds what is held (intentFor already caps it; kept explicit, as the engine did).
  const quoteUsdt = d.side === 'sell' && i.longOnly ? Math.min(d.quoteUsdt, current) : d.quoteUsdt;
  return { ...d, quoteUsdt, currentUsdt: current, targetUsdt: target };
}
