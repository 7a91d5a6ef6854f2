/**
 * USDⓈ-M perpetual accounting as Binance does it in one-way mode (pure, JSON-only): per venue a margin wallet
 * (USDT) and one net position per symbol with its average entry; a fill that reduces the position realizes
 * `closed × (price − entry) × sign` into the wallet, a fill that crosses zero opens the rest at the fill price, and
 * the fee comes off the wallet. Funding payments move the wallet by the venue's own figure. Beside the net
 * position (the venue's truth, which the wallet arithmetic needs) each owner's signed share is kept, so the
 * strategies size and exit only what they opened and a hedge is never sold by a strategy signal.
 */

import { clean, cleanAdd, snapNearest } from './precision.js';

/** USDⓈ-M books realized PnL (and the wallet) in USDT to 8 decimals. */
const USDT_STEP = 1e-8;

/**
 * Who a perpetual fill belongs to: the strategies, the funding guard's hedge (its own position, which no strategy
 * signal sizes against or closes), a guard order that reduces the strategies' share (`guard`), or a triggered
 * protective stop (`stop`), which closes Bosun's whole share (the validator sizes it on strategies + hedge);
 * null: not Bosun's.
 */
export type PerpOwner = 'strategies' | 'hedge' | 'guard' | 'stop';

/** Who a closing fill of each kind reduces, in this order, each never past zero. */
const CLOSES: Partial<Record<PerpOwner, ReadonlyArray<'strategies' | 'hedge'>>> = {
  guard: ['strategies'],
  stop: ['strategies', 'hedge'],
};

export interface PerpPosition {
  /** Signed base quantity: > 0 long, < 0 short. */
  qty: number;
  entryPrice: number;
}

export interface PerpVenue {
  /** Margin wallet in the margin asset (USDT): baseline + realized PnL − fees + funding. */
  wallet: number;
  positions: Record<string, PerpPosition>;
  /** Signed quantity per symbol per owner (`BTCUSDT` → { strategies: 0.01 }). */
  owners: Record<string, Partial<Record<PerpOwner, number>>>;
  realizedPnl: number;
  fees: number;
  funding: number;
}

export interface PerpFill {
  symbol: string;
  side: 'buy' | 'sell';
  amount: number;
  price: number;
  /** Fee in the margin asset (USDT-M fees are charged in USDT). */
  fee: number;
}

export function emptyPerpVenue(wallet = 0): PerpVenue {
  return { wallet, positions: {}, owners: {}, realizedPnl: 0, fees: 0, funding: 0 };
}

/** Applies a fill in place; returns the realized PnL (the wallet already holds it, net of nothing: fee apart). */
export function applyPerpFillTo(v: PerpVenue, f: PerpFill, owner: PerpOwner | null): number {
  if (!(Number.isFinite(f.amount) && f.amount > 0 && Number.isFinite(f.price) && f.price > 0))
    throw new RangeError(`perp fill ${f.symbol}: amount and price must be positive numbers`);
  if (!Number.isFinite(f.fee)) throw new RangeError(`perp fill ${f.symbol}: fee must be a finite number`);
  const p = v.positions[f.symbol] ?? { qty: 0, entryPrice: 0 };
  const signed = f.side === 'buy' ? f.amount : -f.amount;
  let realized = 0;
  let next: PerpPosition;
  if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed)) {
    const size = Math.abs(p.qty) + f.amount;
    next = {
      qty: cleanAdd(p.qty, signed),
      entryPrice: clean((Math.abs(p.qty) * p.entryPrice + f.amount * f.price) / size),
    };
  } else {
    const closing = Math.min(f.amount, Math.abs(p.qty));
    realized = snapNearest(closing * (f.price - p.entryPrice) * Math.sign(p.qty), USDT_STEP);
    const left = cleanAdd(f.amount, -closing);
    if (left > 0) next = { qty: clean(Math.sign(signed) * left), entryPrice: f.price };
    else {
      const q = cleanAdd(p.qty, signed);
      next = { qty: q, entryPrice: q === 0 ? 0 : p.entryPrice };
    }
  }
  if (next.qty === 0) delete v.positions[f.symbol];
  else v.positions[f.symbol] = next;
  v.wallet = cleanAdd(cleanAdd(v.wallet, realized), -f.fee);
  v.realizedPnl = cleanAdd(v.realizedPnl, realized);
  v.fees = cleanAdd(v.fees, f.fee);
  const closes = owner === null ? undefined : CLOSES[owner];
  if (closes) {
    // A guard's order (a funding trim) reduces the strategies' share, a triggered stop the strategies' then the
    // hedge's, never past zero; what is left of it reduced someone else's position (the operator's): nobody's share.
    const o = v.owners[f.symbol];
    let left = f.amount;
    for (const who of closes) {
      const s = o?.[who] ?? 0;
      if (o === undefined || s === 0 || Math.sign(s) === Math.sign(signed) || left <= 0) continue;
      const cut = Math.min(left, Math.abs(s));
      o[who] = cleanAdd(s, Math.sign(signed) * cut);
      left = cleanAdd(left, -cut);
      if (o[who] === 0) delete o[who];
    }
  } else if (owner !== null) {
    const o = v.owners[f.symbol] ?? {};
    v.owners[f.symbol] = o;
    o[owner] = cleanAdd(o[owner] ?? 0, signed);
    if (o[owner] === 0) delete o[owner];
  }
  return realized;
}

/** A funding payment as the venue reports it (signed: negative is paid). */
export function applyFundingTo(v: PerpVenue, amount: number): void {
  if (!Number.isFinite(amount)) throw new RangeError('funding payment must be a finite number');
  v.wallet = cleanAdd(v.wallet, amount);
  v.funding = cleanAdd(v.funding, amount);
}

/**
 * The liquidation price of a one-way position of `side` entered at `entry` with leverage `L` and maintenance
 * margin rate `mmr`, with only its own initial margin behind it (isolated):
 *
 *   long:  margin + PnL = maintenance ⇔ q·E/L + q·(P − E) = mmr·q·P ⇔ P = E·(1 − 1/L) / (1 − mmr)
 *   short: q·E/L + q·(E − P) = mmr·q·P                              ⇔ P = E·(1 + 1/L) / (1 + mmr)
 *
 * In cross mode the whole wallet backs the position, so the venue's liquidation is further away: the rail uses
 * this (nearer) price in both modes, which can only refuse more (fail closed). Binance's own formula adds the
 * bracket's maintenance amount `cum` (0 in the first bracket, the only one the rails size into).
 */
export function liquidationPrice(side: 'long' | 'short', entry: number, leverage: number, mmr: number): number {
  return side === 'long' ? (entry * (1 - 1 / leverage)) / (1 - mmr) : (entry * (1 + 1 / leverage)) / (1 + mmr);
}

/**
 * The one-way position a fill of `amount` on `side` at `price` leads to from `held`: adding keeps a
 * quantity-weighted entry, reducing keeps the entry, crossing zero (or opening) enters at `price`. What the
 * liquidation rail prices an entry by (the engine's order path and `bosun backtest` alike).
 */
export function positionAfter(held: PerpPosition, side: 'buy' | 'sell', amount: number, price: number): PerpPosition {
  const signed = side === 'buy' ? amount : -amount;
  const qty = held.qty + signed;
  const entryPrice =
    Math.sign(held.qty) === Math.sign(qty) && held.qty !== 0
      ? Math.sign(held.qty) === Math.sign(signed)
        ? (Math.abs(held.qty) * held.entryPrice + amount * price) / Math.abs(qty)
        : held.entryPrice
      : price;
  return { qty, entryPrice };
}

/** Distance from `price` to the liquidation price, in % of `price`. */
export function liquidationDistancePct(side: 'long' | 'short', price: number, leverage: number, mmr: number): number {
  const liq = liquidationPrice(side, price, leverage, mmr);
  return (Math.abs(price - liq) / price) * 100;
}
