/**
 * The allocator's arithmetic: how much capital one (venue, symbol) may use, how strategy signals blend, what
 * position that asks for and which order moves the book toward it. Pure and allocation-light: it runs on every
 * bar of every symbol actor, so no sorting, no intermediate arrays beyond the inputs' own keys.
 */

/**
 * The part of `ops/capital_allocations.json` the budget uses (the config schema's output satisfies it;
 * strategies/ may not import config/, so the shape is restated here). `reserve_pct` is a percentage (0..100).
 */
export interface AllocationInput {
  reserve_pct: number;
  venues?: Partial<Record<string, number>>;
  symbols?: Record<string, number>;
  max_usdt?: { venues?: Partial<Record<string, number>>; symbols?: Record<string, number> };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
/** A non-negative finite number, or 0: bad inputs size to nothing rather than to NaN. */
const nonNeg = (v: number | undefined) => (v !== undefined && Number.isFinite(v) && v > 0 ? v : 0);

/** A venue's fraction of deployable capital: the file's entry, or an equal split when the file names none. */
function venueShare(a: AllocationInput, venue: string, venues: readonly string[]): number {
  if (a.venues !== undefined) return clamp(nonNeg(a.venues[venue]), 0, 1);
  const n = venues.includes(venue) ? venues.length : venues.length + 1;
  return 1 / n;
}

/**
 * A symbol's fraction of its venue's capital. Listed symbols get their fraction; unlisted ones share what the
 * listed fractions leave. The remainder is computed from every listed fraction, active or not, so an operator
 * who reserves 50% for BTCUSDT never sees other symbols take it while BTCUSDT is not trading.
 */
const NO_SYMBOLS: Readonly<Record<string, number>> = Object.freeze({});

/**
 * The symbols of `symbols` that `listed` does not name, memoised per (symbols list, allocations object): both are
 * stable between config reloads, and recounting them made every signal O(symbols) (a burst of 1,000 signals over
 * 1,000 symbols spent ~0.8 s here). Pure: the memo only caches what the inputs determine.
 */
const unlistedMemo = new WeakMap<readonly string[], WeakMap<object, ReadonlySet<string>>>();
function unlistedOf(listed: Readonly<Record<string, number>>, symbols: readonly string[]): ReadonlySet<string> {
  let bySymbols = unlistedMemo.get(symbols);
  if (!bySymbols) {
    bySymbols = new WeakMap();
    unlistedMemo.set(symbols, bySymbols);
  }
  let set = bySymbols.get(listed);
  if (!set) {
    set = new Set(symbols.filter((s) => !Object.hasOwn(listed, s)));
    bySymbols.set(listed, set);
  }
  return set;
}

function symbolShare(a: AllocationInput, symbol: string, symbols: readonly string[]): number {
  const listed = a.symbols ?? NO_SYMBOLS;
  if (Object.hasOwn(listed, symbol)) return clamp(nonNeg(listed[symbol]), 0, 1);
  let taken = 0;
  for (const k in listed) taken += nonNeg(listed[k]);
  const unlisted = unlistedOf(listed, symbols);
  return Math.max(0, 1 - taken) / (unlisted.size + (unlisted.has(symbol) ? 0 : 1));
}

/** An absolute ceiling from `max_usdt`, or +∞ when none is set (or it is not a usable number). */
function ceiling(caps: Partial<Record<string, number>> | undefined, key: string): number {
  const c = caps?.[key];
  return c !== undefined && Number.isFinite(c) && c >= 0 ? c : Number.POSITIVE_INFINITY;
}

/**
 * Capital budget in USDT for one (venue, symbol): equity × (1 − reserve) × venue share × symbol share. The venue
 * ceiling caps the venue's capital before it is split; the symbol ceiling caps the result. Semantics as documented
 * on `CapitalAllocationsFileSchema` (src/config/files.schema.ts).
 */
export function symbolBudgetUsdt(
  a: AllocationInput,
  equityUsdt: number,
  venue: string,
  venues: readonly string[],
  symbol: string,
  symbols: readonly string[],
  /**
   * Risk parity (risk-parity.ts): weights summing to 1 over some symbols. Those symbols' combined allocation
   * share is split by the weights instead of by their own shares; a symbol not weighted keeps its share.
   */
  riskWeights?: Readonly<Record<string, number>>,
): number {
  const equity = nonNeg(equityUsdt);
  if (equity === 0) return 0;
  const deployable = equity * (1 - clamp(Number.isFinite(a.reserve_pct) ? a.reserve_pct : 100, 0, 100) / 100);
  const venueCapital = Math.min(deployable * venueShare(a, venue, venues), ceiling(a.max_usdt?.venues, venue));
  let share = symbolShare(a, symbol, symbols);
  if (riskWeights !== undefined && Object.hasOwn(riskWeights, symbol)) {
    let group = 0;
    for (const k in riskWeights) group += symbolShare(a, k, symbols);
    share = clamp(group, 0, 1) * clamp(nonNeg(riskWeights[symbol]), 0, 1);
  }
  return Math.min(venueCapital * share, ceiling(a.max_usdt?.symbols, symbol));
}

/**
 * Weighted blend of strategy signals, in [-1, 1]. Weights are renormalised over the strategies that have a finite
 * signal and a positive weight (an unknown or missing weight counts as 0), so a strategy with no view hands its
 * share to the others instead of diluting them — the same rule as `blendSignals` in regime-signal.ts.
 */
export function blend(signals: Record<string, number>, weights: Record<string, number>): number {
  // Weights relative to the largest, so absurd weights (1e308) cannot overflow the sums.
  let maxW = 0;
  for (const k in signals) {
    const w = weights[k];
    if (Number.isFinite(signals[k]) && w !== undefined && Number.isFinite(w) && w > maxW) maxW = w;
  }
  if (maxW === 0) return 0;
  let total = 0;
  let acc = 0;
  for (const k in signals) {
    const s = signals[k]!;
    const w = weights[k];
    if (!Number.isFinite(s) || w === undefined || !Number.isFinite(w) || w <= 0) continue;
    total += w / maxW;
    acc += (w / maxW) * clamp(s, -1, 1);
  }
  return clamp(acc / total, -1, 1);
}

/**
 * Target position in quote units: clamp(signal, −1, 1) × budget × quoteMultiplier. Spot cannot be short, so a
 * negative target becomes 0 when `longOnly`. Non-finite or negative inputs size to 0.
 */
export function targetPositionUsdt(
  signal: number,
  budgetUsdt: number,
  opts: { quoteMultiplier: number; longOnly: boolean },
): number {
  if (!Number.isFinite(signal)) return 0;
  const t = clamp(signal, -1, 1) * nonNeg(budgetUsdt) * nonNeg(opts.quoteMultiplier);
  if (opts.longOnly && t <= 0) return 0;
  // `+ 0` turns −0 into 0 so a flat target serialises and compares as plain zero.
  return t + 0;
}

export interface IntentDecision {
  side: 'buy' | 'sell';
  /** Quote amount in USDT, in (0, maxNotionalUsdt] (a perpetual's whole close: the position's value, unclipped). */
  quoteUsdt: number;
  /** True when the order can only shrink the position (every sell, since a sell never exceeds the position). */
  reduceOnly: boolean;
  reason: string;
  /** A perpetual's close of the whole position (perp-intent.ts): sent as the position's base amount. */
  closesAll?: boolean;
}

const usd = (v: number) => v.toFixed(2);

/**
 * The order that moves the position from `currentUsdt` toward `targetUsdt`, or null for none.
 * - Hysteresis: no order when |target − current| < minTradeUsdt, nor when the executable quote (after the clips
 *   below) is under minTradeUsdt — such an order would churn fees or fail the venue's minimum notional.
 * - The quote is clipped to maxNotionalUsdt, never exceeded; a partial step is taken and the rest follows on
 *   later bars.
 * - A sell never exceeds the position (nothing held, nothing sold), so it can never open a short; every sell is
 *   therefore reduce-only.
 */
export function intentFor(
  currentUsdt: number,
  targetUsdt: number,
  opts: { minTradeUsdt: number; maxNotionalUsdt: number },
): IntentDecision | null {
  if (!Number.isFinite(currentUsdt) || !Number.isFinite(targetUsdt)) return null;
  const maxNotional = nonNeg(opts.maxNotionalUsdt);
  if (maxNotional === 0) return null;
  const minTrade = nonNeg(opts.minTradeUsdt);
  const delta = targetUsdt - currentUsdt;
  if (delta === 0 || Math.abs(delta) < minTrade) return null;
  if (delta > 0) {
    const quote = Math.min(delta, maxNotional);
    if (quote < minTrade) return null;
    return {
      side: 'buy',
      quoteUsdt: quote,
      // Buying back a (non-spot) short without crossing zero only reduces it.
      reduceOnly: currentUsdt < 0 && targetUsdt <= 0,
      reason: `buy ${usd(quote)} toward target ${usd(targetUsdt)} from ${usd(currentUsdt)}${quote < delta ? ' (clipped to max notional)' : ''}`,
    };
  }
  const held = Math.max(0, currentUsdt);
  const quote = Math.min(-delta, maxNotional, held);
  if (quote <= 0 || quote < minTrade) return null;
  const why = quote < -delta ? (quote === held ? ' (capped at position)' : ' (clipped to max notional)') : '';
  return {
    side: 'sell',
    quoteUsdt: quote,
    reduceOnly: true,
    reason: `sell ${usd(quote)} toward target ${usd(targetUsdt)} from ${usd(currentUsdt)}${why}`,
  };
}

/**
 * Inverse-volatility weights (risk parity, RISK_PARITY_ENABLED): w ∝ 1/vol, summing to 1. A symbol whose vol is
 * zero, negative or not finite has unknown risk and gets weight 0; when no symbol has a usable vol, the weights
 * fall back to an equal split so the allocator still sums to 1.
 */
export function inverseVolWeights(vols: Record<string, number>): Record<string, number> {
  const keys = Object.keys(vols).sort();
  const usable = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;
  let minVol = Number.POSITIVE_INFINITY;
  for (const k of keys) {
    const v = vols[k];
    if (usable(v) && v < minVol) minVol = v;
  }
  const out: Record<string, number> = {};
  if (minVol === Number.POSITIVE_INFINITY) {
    for (const k of keys) out[k] = 1 / keys.length;
    return out;
  }
  // minVol / vol is in (0, 1], so even a subnormal vol cannot overflow to Infinity.
  let total = 0;
  for (const k of keys) {
    const v = vols[k];
    total += usable(v) ? minVol / v : 0;
  }
  for (const k of keys) {
    const v = vols[k];
    out[k] = usable(v) ? minVol / v / total : 0;
  }
  return out;
}
