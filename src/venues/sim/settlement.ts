/**
 * What a fill does to an account: spot balances (with the venue's fee convention and the order's held funds)
 * or the perpetual position and wallet. Also the funds an order must hold while it works.
 */
import { clean, cleanAdd, snapNearest } from '../../domain/precision.js';
import { applyPerpFill, MARGIN_ASSET } from './futures-ledger.js';
import type { MarketDef } from './instruments.js';
import type { SimOrder } from './order-store.js';

/**
 * Commissions are booked (and printed) with 8 decimals, as the venues do: a fee of finer precision (0.1 % of a
 * 7-decimal quote amount has 10) would leave the account's balances off the precision its API prints them at.
 */
const FEE_INCREMENT = 1e-8;

/** Binance spot charges the fee in the asset received; Kraken in the quote currency; futures in USDT. */
export function feeAssetFor(m: MarketDef, side: 'buy' | 'sell'): string {
  if (m.kind === 'perp') return MARGIN_ASSET;
  if (m.venue === 'kraken') return m.quote;
  return side === 'buy' ? m.base : m.quote;
}

/** Quote held per unit of a resting buy: the limit price, plus the fee where the fee is paid in quote. */
function quoteHoldPerUnit(m: MarketDef, price: number): number {
  return feeAssetFor(m, 'buy') === m.quote ? price * (1 + Math.max(m.makerFee, m.takerFee)) : price;
}

/** The asset and amount a spot order must hold for `qty` at `price` (buy) or `qty` of base (sell). */
export function holdFor(
  m: MarketDef,
  side: 'buy' | 'sell',
  qty: number,
  price: number,
): { asset: string; amount: number } {
  return side === 'buy'
    ? { asset: m.quote, amount: clean(qty * quoteHoldPerUnit(m, price)) }
    : { asset: m.base, amount: clean(qty) };
}

/** Quote (plus fee in quote, where charged so) a spot buy of these fills costs. */
export function spotBuyCost(m: MarketDef, fills: readonly { price: number; qty: number }[], maker: boolean): number {
  const rate = maker ? m.makerFee : m.takerFee;
  const quote = fills.reduce((s, f) => s + f.price * f.qty, 0);
  return clean(feeAssetFor(m, 'buy') === m.quote ? quote * (1 + rate) : quote);
}

export interface FillEffect {
  fee: number;
  feeAsset: string;
  realizedPnl: number;
}

/**
 * Books one fill of `o` (`qty` at `price`) on its account. Held funds are released pro rata to the filled
 * share of the rest of the order, then the fill is paid from free balance.
 */
export function settleFill(o: SimOrder, price: number, qty: number, maker: boolean, time: number): FillEffect {
  const m = o.market;
  const a = o.account;
  const rate = maker ? m.makerFee : m.takerFee;
  const quote = clean(price * qty);
  const fee = snapNearest(quote * rate, FEE_INCREMENT);
  if (m.kind === 'perp') {
    const realizedPnl = applyPerpFill(a, m.id, o.side, qty, price, time);
    a.creditWallet(MARGIN_ASSET, -fee);
    return { fee, feeAsset: MARGIN_ASSET, realizedPnl };
  }
  releaseHold(o, qty);
  const feeAsset = feeAssetFor(m, o.side);
  if (o.side === 'buy') {
    const baseFee = feeAsset === m.base ? snapNearest(qty * rate, FEE_INCREMENT) : 0;
    a.credit(m.quote, -(feeAsset === m.quote ? quote + fee : quote));
    a.credit(m.base, qty - baseFee);
    return { fee: baseFee > 0 ? baseFee : fee, feeAsset, realizedPnl: 0 };
  }
  a.credit(m.base, -qty);
  a.credit(m.quote, quote - fee);
  return { fee, feeAsset, realizedPnl: 0 };
}

/** Releases the share of the order's hold that covers `qty` of its remaining quantity. */
export function releaseHold(o: SimOrder, qty: number): void {
  if (o.lockedAsset === undefined || o.lockedAmount <= 0) return;
  const rest = o.qty === undefined ? 0 : o.qty - o.executedQty;
  const share = rest <= 0 ? o.lockedAmount : Math.min(o.lockedAmount, clean((o.lockedAmount * qty) / rest));
  o.account.unlock(o.lockedAsset, share);
  o.lockedAmount = cleanAdd(o.lockedAmount, -share);
}

/** Releases everything the order still holds (cancel, expiry, completion). */
export function releaseAll(o: SimOrder): void {
  if (o.lockedAsset !== undefined && o.lockedAmount > 0) o.account.unlock(o.lockedAsset, o.lockedAmount);
  o.lockedAmount = 0;
}
