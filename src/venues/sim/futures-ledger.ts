/**
 * USDⓈ-M perpetual accounting in one-way mode: positions from fills (average entry, realized PnL on reduction,
 * flips), cross-margin availability for new orders, and funding settlement. All amounts are in the margin
 * asset (USDT).
 */

import { clean, snapNearest } from '../../domain/precision.js';
import type { Account, Position } from './accounts.js';
import type { Side } from './order-store.js';

export const MARGIN_ASSET = 'USDT';
/** Maintenance margin rate and amount of the first (only) leverage bracket the simulator lists. */
export const MAINT_MARGIN_RATE = 0.004;
export const MAINT_AMOUNT = 0;

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
    // Binance books realized PnL in USDT to 8 decimals (the trade's `realizedPnl`, the wallet).
    realized = snapNearest(closing * (price - p.entryPrice) * Math.sign(p.qty), 1e-8);
    const left = clean(qty - closing);
    if (left > 0) next = { qty: clean(Math.sign(signed) * left), entryPrice: price, updateTime: time };
    else {
      const q = clean(p.qty + signed);
      next = { qty: q, entryPrice: q === 0 ? 0 : p.entryPrice, updateTime: time };
    }
  }
  if (a.marginTypeOf(symbol) === 'ISOLATED' && next.qty !== 0)
    next.isolatedMargin = isolatedAfter(p, next, qty, price, a.leverageOf(symbol));
  if (next.qty === 0) a.positions.delete(symbol);
  else a.positions.set(symbol, next);
  if (realized !== 0) a.creditWallet(MARGIN_ASSET, realized);
  return realized;
}

/**
 * An isolated position's margin after a fill: an increase adds its initial margin (notional / leverage), a
 * reduction releases the closed share, a flip starts again from the new side's initial margin.
 */
function isolatedAfter(p: Position, next: Position, qty: number, price: number, leverage: number): number {
  const held = p.isolatedMargin ?? 0;
  if (p.qty === 0 || Math.sign(p.qty) === Math.sign(next.qty)) {
    if (Math.abs(next.qty) >= Math.abs(p.qty)) return clean(held + (qty * price) / leverage);
    return clean((held * Math.abs(next.qty)) / Math.abs(p.qty));
  }
  return clean((Math.abs(next.qty) * price) / leverage);
}

/**
 * Binance's liquidation price of a one-way position (USDⓈ-M "liquidation price" formula, one symbol, position side
 * BOTH): LP = (WB − TMM₁ + UPNL₁ + cum − side·|q|·EP) / (|q|·MMR − side·|q|), side +1 long, −1 short. Isolated: WB is
 * the position's isolated wallet and the other positions do not count (TMM₁ = UPNL₁ = 0); cross: WB is the wallet
 * and TMM₁, UPNL₁ are the other cross positions' maintenance margin and unrealized PnL. 0 when it cannot be
 * liquidated (a long backed by more than its notional), as Binance shows it.
 */
export function liquidationPriceOf(a: Account, symbol: string, markOf: (symbol: string) => number): number {
  const p = a.positions.get(symbol);
  if (p === undefined || p.qty === 0) return 0;
  const side = Math.sign(p.qty);
  const q = Math.abs(p.qty);
  let wb: number;
  if (a.marginTypeOf(symbol) === 'ISOLATED') wb = p.isolatedMargin ?? 0;
  else {
    wb = a.walletBalance(MARGIN_ASSET);
    for (const [s, o] of a.positions) {
      if (s === symbol || a.marginTypeOf(s) === 'ISOLATED') continue;
      const mark = markOf(s);
      wb += unrealizedPnl(o, mark) - Math.abs(o.qty) * mark * MAINT_MARGIN_RATE;
    }
  }
  const lp = (wb + MAINT_AMOUNT - side * q * p.entryPrice) / (q * MAINT_MARGIN_RATE - side * q);
  return Number.isFinite(lp) && lp > 0 ? clean(lp) : 0;
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
