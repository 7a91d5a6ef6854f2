/**
 * The one precision module (issue 13 item 9): increment arithmetic for prices and quantities, used by the order
 * path (amounts floored to the market's step, limit prices snapped to its tick, journaled exactly as sent), the
 * ledger (balances cleaned of binary noise), the stop validator and the simulator. Money is kept in doubles; these
 * helpers snap to ticks/steps with a tolerance so that 0.1 + 0.2 style noise never fails a LOT_SIZE check, never
 * leaks into an order, and never prints as 0.30000000000000004 (the ledger showed `49974.932570000004`).
 */

const EPS = 1e-9;

/** Largest multiple of `inc` ≤ x (within tolerance); x itself (cleaned) when `inc` is not a positive number. */
export function snapDown(x: number, inc: number): number {
  if (!(inc > 0)) return clean(x);
  return clean(Math.floor(x / inc + EPS) * inc);
}

/** Smallest multiple of `inc` ≥ x (within tolerance). */
export function snapUp(x: number, inc: number): number {
  if (!(inc > 0)) return clean(x);
  return clean(Math.ceil(x / inc - EPS) * inc);
}

/** Nearest multiple of `inc`. */
export function snapNearest(x: number, inc: number): number {
  if (!(inc > 0)) return clean(x);
  return clean(Math.round(x / inc) * inc);
}

/**
 * A limit price snapped to the market's tick on the side that never makes the order more aggressive than asked:
 * a buy rounds down, a sell rounds up (what is journaled is exactly what is sent).
 */
export function limitPriceToTick(price: number, tick: number, side: 'buy' | 'sell'): number {
  return side === 'buy' ? snapDown(price, tick) : snapUp(price, tick);
}

/** Whether x is a multiple of `inc` (relative tolerance 1e-9 of one increment). */
export function isMultiple(x: number, inc: number): boolean {
  const units = x / inc;
  return Math.abs(units - Math.round(units)) < 1e-6;
}

/** Removes binary noise: rounds to 15 significant digits. */
export function clean(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x === 0 ? 0 : x;
  return Number.parseFloat(x.toPrecision(15));
}

/**
 * a + b without binary noise: rounded to 15 significant digits of the larger of the terms, not of the sum. A
 * difference of close values keeps its terms' noise at their magnitude, which 15 digits of the small result
 * would keep too: `clean(0.302697 - 0.302)` is 0.000697000000000003 (a ledger's balance after selling most of a
 * position), `cleanAdd` gives 0.000697. What it rounds away lies below 1e-14 of the terms, under any venue's
 * precision for them.
 */
export function cleanAdd(a: number, b: number): number {
  const x = a + b;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  if (x === 0 || !Number.isFinite(x) || scale === 0) return clean(x);
  const decimals = 14 - Math.floor(Math.log10(scale));
  if (decimals <= 0 || decimals > 100) return clean(x);
  return Number.parseFloat(x.toFixed(decimals)) || 0;
}

/** Fixed-decimals string, never `-0.00` nor exponent notation. */
export function fmt(x: number, decimals = 8): string {
  const s = (Math.abs(x) < 0.5 * 10 ** -decimals ? 0 : x).toFixed(decimals);
  return s === `-${(0).toFixed(decimals)}` ? (0).toFixed(decimals) : s;
}

/** Shortest plain decimal string (`0.01`, `60000.5`), for venues that print minimal numbers. */
export function plain(x: number): string {
  const c = clean(x);
  if (Math.abs(c) >= 1e-6 || c === 0) return String(c);
  return c.toFixed(12).replace(/0+$/, '').replace(/\.$/, '');
}

/** Parses a decimal parameter strictly: digits with an optional fraction (and sign when allowed). */
export function parseDecimal(s: string | undefined, allowNegative = false): number | undefined {
  if (s === undefined) return undefined;
  const re = allowNegative ? /^-?\d+(\.\d+)?$|^-?\.\d+$/ : /^\d+(\.\d+)?$|^\.\d+$/;
  if (!re.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}
