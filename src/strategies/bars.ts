/**
 * Bars from ticks (pure). Called on every tick, so it mutates the state in place and allocates only when a bar
 * closes. Time buckets are floor(at / barMs); a gap of several buckets closes the current bar only (no synthetic
 * empty bars: the HMM treats a missing bar as missing, not as a zero return); a tick older than the current
 * bucket is ignored, as is a price that is not a finite positive number.
 */
export interface Bar {
  openAt: number;
  open: number;
  high: number;
  low: number;
  close: number;
  ticks: number;
}

export interface BarState {
  barMs: number;
  current: Bar | null;
  lastClose: number | null;
}

export function initialBars(barMs: number): BarState {
  return { barMs: Math.max(1, barMs), current: null, lastClose: null };
}

/** Adds a tick; returns the bar this tick closed, or null. Mutates `state`. */
export function addTick(state: BarState, price: number, at: number): Bar | null {
  if (!(Number.isFinite(price) && price > 0) || !Number.isFinite(at)) return null;
  const openAt = Math.floor(at / state.barMs) * state.barMs;
  const cur = state.current;
  if (cur === null) {
    state.current = { openAt, open: price, high: price, low: price, close: price, ticks: 1 };
    return null;
  }
  if (openAt < cur.openAt) return null;
  if (openAt === cur.openAt) {
    if (price > cur.high) cur.high = price;
    if (price < cur.low) cur.low = price;
    cur.close = price;
    cur.ticks += 1;
    return null;
  }
  state.lastClose = cur.close;
  state.current = { openAt, open: price, high: price, low: price, close: price, ticks: 1 };
  return cur;
}

/** Log return between consecutive bar closes (null for the first bar). */
export function barLogReturn(prevClose: number | null, bar: Bar): number | null {
  return prevClose !== null && prevClose > 0 ? Math.log(bar.close / prevClose) : null;
}
