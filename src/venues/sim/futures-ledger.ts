/**
 * USDⓈ-M perpetual accounting in one-way mode: positions from fills (average entry, realized PnL on reduction,
 * flips), cross-margin availability for new orders, and funding settlement. All amounts are in the margin
 * asset (USDT).
 */

import { clean } from '../../domain/precision.js';
import type { Account, Position } from './accounts.js';
import type { Side } from './order-store.js';

export const MARGIN_ASSET = 'USDT';

export function positionOf(a: Account, symbol: string): Position {
  return a.positions.get(symbol) ?? { qty: 0, entryPrice: 0, updateTime: 0 };
}

export function unrealizedPnl(p: Position, mark: number): number {
  return p.qty === 0 ? 0 : clean(p.qty * (mark - p.entryPrice));
}

/** Initial margin a position ties up at the mark price. */
export function positionMargin(p: Position, mark: number, leverage: number): number {
  return clean((Math.abs(p.qty) * mark) / leverage);
}

/** Applies a fill to the account's position; returns the realized PnL (already credited to the wallet). */
export function applyPerpFill(
  a: Account,
  symbol: string,
  side: Side,
  qty: number,
  price: number,
  time: number,
): number {
  const p = positionOf(a, symbol);
  const signed = side === 'buy' ? qty : -qty;
  let realized = 0;
  let next: Position;
  if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed)) {
    const size = Math.abs(p.qty) + qty;
    next = {
      qty: clean(p.qty + signed),
      entryPrice: clean((Math.abs(p.qty) * p.entryPrice + qty * price) / size),
      updateTime: time,
    };
  } else {
    const closing = Math.min(qty, Math.abs(p.qty));
    realized = clean(closing * (price - p.entryPrice) * Math.sign(p.qty));
    const left = clean(qty - closing);
    if (left > 0) next = { qty: clean(Math.sign(signed) * left), entryPrice: price, updateTime: time };
    else {
      const q = clean(p.qty + signed);
      next = { qty: q, entryPrice: q === 0 ? 0 : p.entryPrice, updateTime: time };
    }
  }
  if (next.qty === 0) a.positions.delete(symbol);
  else a.positions.set(symbol, next);
  if (realized !== 0) a.creditWallet(MARGIN_ASSET, realized);
  return realized;
}

/**
 * Margin available for new orders: wallet + unrealized PnL − position margin − margin held by open orders.
 * `markOf` gives the mark price of a perpetual by id.
 */
export function availableMargin(a: Account, markOf: (symbol: string) => number, openOrderMargin: number): number {
  let v = a.walletBalance(MARGIN_ASSET) - openOrderMargin;
  for (const [symbol, p] of a.positions) {
    const mark = markOf(symbol);
    v += unrealizedPnl(p, mark) - positionMargin(p, mark, a.leverageOf(symbol));
  }
  return clean(v);
}

/** Whether a fill of `side` on this position would only reduce it (never increase nor flip). */
export function reduces(p: Position, side: Side): boolean {
  return (p.qty > 0 && side === 'sell') || (p.qty < 0 && side === 'buy');
}

/**
 * Pays or charges funding on the account's position at `mark` and `rate`: longs pay shorts when the rate is
 * positive. Returns the signed wallet change.
 */
export function settleFunding(
  a: Account,
  symbol: string,
  mark: number,
  rate: number,
  time: number,
  tranId: number,
): number {
  const p = a.positions.get(symbol);
  if (p === undefined || p.qty === 0) return 0;
  const payment = Number((-p.qty * mark * rate).toFixed(8));
  a.creditWallet(MARGIN_ASSET, payment);
  a.updateTime = time;
  a.income.push({ tranId, symbol, incomeType: 'FUNDING_FEE', income: payment, asset: MARGIN_ASSET, time, rate });
  return payment;
}
