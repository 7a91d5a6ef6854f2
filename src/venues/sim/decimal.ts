/**
 * Increment arithmetic for prices and quantities. The simulator keeps JS doubles (fine for a test venue, not
 * for accounting — the runtime keeps ccxt's strings); these helpers snap to ticks/steps with a tolerance so
 * that 0.1 + 0.2 style noise never fails a LOT_SIZE check or prints as 0.30000000000000004.
 */

const EPS = 1e-9;

/** Largest multiple of `inc` ≤ x (within tolerance). */
export function snapDown(x: number, inc: number): number {
  return clean(Math.floor(x / inc + EPS) * inc);
}

/** Smallest multiple of `inc` ≥ x (within tolerance). */
export function snapUp(x: number, inc: number): number {
  return clean(Math.ceil(x / inc - EPS) * inc);
}

/** Nearest multiple of `inc`. */
export function snapNearest(x: number, inc: number): number {
  return clean(Math.round(x / inc) * inc);
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
