import type { IntentDecision } from './allocator.js';

/**
 * The order that moves a perpetual position (signed USDT: > 0 long, < 0 short) toward `targetUsdt`, in one-way
 * mode, or null for none. The same hysteresis and notional clip as spot's `intentFor`, and three shapes:
 * - growing (same side, or from flat): an entry, never reduce-only;
 * - shrinking on the same side: reduce-only;
 * - flat or the other side: first a reduce-only close of the whole position (clipped to max notional); the
 *   entry on the other side follows on a later signal, so an exit can never open a position by itself.
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
    const quote = Math.min(Math.abs(currentUsdt), maxNotional);
    return {
      side: currentUsdt > 0 ? 'sell' : 'buy',
      quoteUsdt: quote,
      reduceOnly: true,
      reason: `close ${usd(quote)} of ${usd(currentUsdt)} toward target ${usd(targetUsdt)}`,
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
