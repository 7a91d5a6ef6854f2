/**
 * Risk parity (RISK_PARITY_ENABLED, DESIGN §8): inverse-volatility weights across a venue's symbols, inside the
 * capital allocations. σ is the standard deviation of recent bar log-returns; weights ∝ 1/σ, normalised
 * (`inverseVolWeights`); the allocator then splits the symbols' combined allocation share by these weights
 * (`symbolBudgetUsdt`'s `riskWeights`). Degenerate σ (too little history, a flat or broken price) gives weight 0 —
 * unknown risk gets no capital — and when no symbol has a usable σ the split is equal. Pure.
 */
import { inverseVolWeights } from './allocator.js';

/** Bars kept per symbol, and the fewest returns a σ is computed from. */
export const RISK_PARITY_DEFAULTS = { maxBars: 100, minReturns: 10 } as const;

export interface BarCloses {
  /** Start of the bar being built (epoch ms), or null before the first price. */
  barStart: number | null;
  /** Last price seen in the current bar. */
  last: number | null;
  /** Closed bars' last prices, oldest first. */
  closes: number[];
}

export function emptyBarCloses(): BarCloses {
  return { barStart: null, last: null, closes: [] };
}

/** Records a price at `at`; closes the current bar when `at` has moved past it. Mutates and returns `s`. */
export function noteBarPrice(s: BarCloses, price: number, at: number, barMs: number, maxBars: number): BarCloses {
  if (!(price > 0) || !Number.isFinite(price) || !(barMs > 0)) return s;
  const start = Math.floor(at / barMs) * barMs;
  if (s.barStart === null) {
    s.barStart = start;
  } else if (start > s.barStart) {
    if (s.last !== null) s.closes.push(s.last);
    if (s.closes.length > maxBars) s.closes.splice(0, s.closes.length - maxBars);
    s.barStart = start;
  }
  s.last = price;
  return s;
}

/** σ of the log-returns between consecutive closes; NaN with fewer than `minReturns` returns or a bad close. */
export function barReturnVol(closes: readonly number[], minReturns: number = RISK_PARITY_DEFAULTS.minReturns): number {
  const n = closes.length - 1;
  if (n < Math.max(2, minReturns)) return Number.NaN;
  let sum = 0;
  let sumSq = 0;
  for (let i = 1; i < closes.length; i++) {
    const a = closes[i - 1] as number;
    const b = closes[i] as number;
    if (!(a > 0) || !(b > 0)) return Number.NaN;
    const r = Math.log(b / a);
    sum += r;
    sumSq += r * r;
  }
  const mean = sum / n;
  const variance = Math.max(0, sumSq / n - mean * mean);
  return Math.sqrt(variance);
}

/** Inverse-volatility weights from each symbol's closes (sums to 1 over the given symbols). */
export function riskParityWeights(
  closesBySymbol: Readonly<Record<string, readonly number[]>>,
  minReturns: number = RISK_PARITY_DEFAULTS.minReturns,
): Record<string, number> {
  const vols: Record<string, number> = {};
  for (const k of Object.keys(closesBySymbol)) vols[k] = barReturnVol(closesBySymbol[k] ?? [], minReturns);
  return inverseVolWeights(vols);
}
