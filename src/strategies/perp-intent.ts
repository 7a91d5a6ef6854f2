import type { IntentDecision } from './allocator.js';

/**
 * The order that moves a perpetual position (signed USDT: > 0 long, < 0 short) toward `targetUsdt`, in one-way
 * mode, or null for none. The same hysteresis and notional clip as spot's `intentFor`, and three shapes:
 * - growing (same side, or from flat): an entry, never reduce-only;
 * - shrinking on the same side: reduce-only;
 * - flat or the other side: first a reduce-only close of the whole position (`closesAll`, its whole value, not
 *   clipped to max notional: `perpClose` sends the position's base amount); the entry on the other side follows
 *   on a later signal, so an exit can never open a position by itself.
 * A close is taken even under minTradeUsdt (a dust position must be closable); everything else respects it.
 */
export function perpIntentFor(
  currentUsdt: number,
  targetUsdt: number,
  opts: { minTradeUsdt: number; maxNotionalUsdt: number },
): IntentDecision | null {
  if (!Number.isFinite(currentUsdt) || !Number.isFinite(targetUsdt)) return null;
  const maxNotional = Math.max(0, opts.maxNotionalUsdt);
  if (maxNotional === 0) return null;
  const minTrade = Math.max(0, opts.minTradeUsdt);
  const delta = targetUsdt - currentUsdt;
  const usd = (v: number) => v.toFixed(2);
  const crosses = currentUsdt !== 0 && (targetUsdt === 0 || Math.sign(targetUsdt) !== Math.sign(currentUsdt));
  if (crosses) {
    return {
      side: currentUsdt > 0 ? 'sell' : 'buy',
      quoteUsdt: Math.abs(currentUsdt),
      reduceOnly: true,
      closesAll: true,
      reason: `close all ${usd(currentUsdt)} toward target ${usd(targetUsdt)}`,
    };
  }
  if (delta === 0 || Math.abs(delta) < minTrade) return null;
  const quote = Math.min(Math.abs(delta), maxNotional);
  if (quote < minTrade) return null;
  const growing = Math.abs(targetUsdt) > Math.abs(currentUsdt);
  const side = delta > 0 ? 'buy' : 'sell';
  return {
    side,
    quoteUsdt: quote,
    reduceOnly: !growing,
    reason: `${side} ${usd(quote)} toward target ${usd(targetUsdt)} from ${usd(currentUsdt)}${quote < Math.abs(delta) ? ' (clipped to max notional)' : ''}`,
  };
}

/**
 * One-way mode nets every owner at the venue (a funding hedge short beside the strategies' long): an exit of the
 * strategies' share may go reduce-only only if the venue's net position `netQty` can take its `amount` whole;
 * otherwise a reduce-only order would be clamped to the net and leave the strategies' share wrong, so it passes
 * the entry rails instead (fail closed). Shared by the engine's order entry and `bosun backtest`.
 */
export function exitReducesNet(side: 'buy' | 'sell', amount: number, netQty: number): boolean {
  const shrinks = side === 'sell' ? netQty > 0 : netQty < 0;
  return shrinks && amount <= Math.abs(netQty) * (1 + 1e-9);
}

/** How a sized perpetual decision goes out (`perpClose`). */
export interface PerpOrderShape {
  /** Reduce-only at the venue (`exitReducesNet`). */
  reduceOnly: boolean;
  /** The order's value in USDT at the decision price. */
  quoteUsdt: number;
  /** Set for a whole close sent reduce-only: exactly this base amount (the strategies' position), not quote / price. */
  amountBase?: number;
}

/**
 * A perpetual decision made into an order. A whole close (`closesAll`) that the venue's net position can take
 * reduce-only is sent as the strategies' position in base units: quote / price floored to the step would leave a
 * step open whenever the price moved up since the entry (0.005 BTC bought for 300 USDT, then `close 300.00 of
 * 300.05` sent 0.004), and a reduce-only order cannot add risk, so MAX_NOTIONAL_USDT does not clip it (the rails
 * exempt it, `closesPosition`). A close that cannot go reduce-only (a netted funding hedge) is an ordinary order
 * under the entry rails: clipped to max notional as before. Shared by the engine's order entry and `bosun backtest`.
 */
export function perpClose(
  d: IntentDecision,
  opts: { price: number; positionBase: number; netQty: number; maxNotionalUsdt: number },
): PerpOrderShape {
  const base = d.closesAll === true ? Math.abs(opts.positionBase) : d.quoteUsdt / opts.price;
  const reduceOnly = d.reduceOnly ? exitReducesNet(d.side, base, opts.netQty) : false;
  if (d.closesAll !== true) return { reduceOnly, quoteUsdt: d.quoteUsdt };
  if (reduceOnly) return { reduceOnly, quoteUsdt: base * opts.price, amountBase: base };
  return { reduceOnly, quoteUsdt: Math.min(d.quoteUsdt, Math.max(0, opts.maxNotionalUsdt)) };
}
