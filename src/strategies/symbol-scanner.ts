/**
 * The symbol scanner's arithmetic (DESIGN §8): a score per tradable symbol from its 24 h quote volume, its
 * volatility and its trend strength, and the shortlist drawn from the scores. Pure: the scanner actor feeds it
 * tickers and the recent prices it keeps, and does the I/O.
 *
 * Each component is mapped to [0, 1] before blending so no unit dominates: volume on a log scale against the
 * largest volume of the pass, volatility and trend strength as rank percentiles (robust to one wild symbol).
 */
export interface ScanInput {
  symbol: string;
  /** 24 h volume in quote currency (null when the venue does not say). */
  quoteVolume: number | null;
  /** 24 h price change in percent (null when unknown). */
  changePct: number | null;
  /** Recent prices, oldest first (the scanner's own samples, one per pass). */
  prices: readonly number[];
}

export interface ScanWeights {
  volume: number;
  volatility: number;
  trend: number;
}

export const SCAN_WEIGHTS: ScanWeights = { volume: 0.5, volatility: 0.25, trend: 0.25 };

export interface SymbolScore {
  symbol: string;
  score: number;
  volume: number;
  volatility: number;
  trend: number;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Standard deviation of log returns of `prices`; falls back to |24 h change| / 100 when too few samples. */
export function volatilityOf(prices: readonly number[], changePct: number | null): number {
  let n = 0;
  let sum = 0;
  let sq = 0;
  for (let i = 1; i < prices.length; i++) {
    const a = prices[i - 1] as number;
    const b = prices[i] as number;
    if (!(a > 0 && b > 0)) continue;
    const r = Math.log(b / a);
    n += 1;
    sum += r;
    sq += r * r;
  }
  if (n >= 2) {
    const mean = sum / n;
    return Math.sqrt(Math.max(0, sq / n - mean * mean));
  }
  return finite(changePct) ? Math.abs(changePct) / 100 : 0;
}

/**
 * Trend strength: the net move over the samples relative to the path travelled (1 = a straight line, 0 = noise),
 * or |24 h change| scaled into [0, 1] when there are too few samples.
 */
export function trendOf(prices: readonly number[], changePct: number | null): number {
  if (prices.length >= 3) {
    let path = 0;
    for (let i = 1; i < prices.length; i++) path += Math.abs((prices[i] as number) - (prices[i - 1] as number));
    const net = Math.abs((prices.at(-1) as number) - (prices[0] as number));
    return path > 0 ? net / path : 0;
  }
  return finite(changePct) ? Math.min(1, Math.abs(changePct) / 10) : 0;
}

/** Rank percentile in [0, 1] of each value (ties share the lower rank; one value → 1). */
function percentiles(values: readonly number[]): number[] {
  const n = values.length;
  if (n <= 1) return values.map(() => 1);
  const idx = values.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const out = new Array<number>(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[idx[j + 1] as number] === values[idx[i] as number]) j += 1;
    for (let k = i; k <= j; k++) out[idx[k] as number] = i / (n - 1);
    i = j + 1;
  }
  return out;
}

/** Scores every input; the result is sorted best first (ties by symbol, so a pass is deterministic). */
export function scoreSymbols(inputs: readonly ScanInput[], weights: ScanWeights = SCAN_WEIGHTS): SymbolScore[] {
  let maxLogVol = 0;
  const logVol = inputs.map((s) => {
    const v = finite(s.quoteVolume) && s.quoteVolume > 0 ? Math.log10(1 + s.quoteVolume) : 0;
    if (v > maxLogVol) maxLogVol = v;
    return v;
  });
  const vols = inputs.map((s) => volatilityOf(s.prices, s.changePct));
  const trends = inputs.map((s) => trendOf(s.prices, s.changePct));
  const volP = percentiles(vols);
  const trendP = percentiles(trends);
  const wSum = weights.volume + weights.volatility + weights.trend || 1;
  const out = inputs.map((s, i) => {
    const volume = maxLogVol > 0 ? (logVol[i] as number) / maxLogVol : 0;
    const volatility = volP[i] as number;
    const trend = trendP[i] as number;
    const score = (weights.volume * volume + weights.volatility * volatility + weights.trend * trend) / wSum;
    return { symbol: s.symbol, score: Math.round(score * 1e6) / 1e6, volume, volatility, trend };
  });
  out.sort((a, b) => b.score - a.score || a.symbol.localeCompare(b.symbol));
  return out;
}

/**
 * The shortlist: the best `topN` scores, plus every protected symbol (an open position or a protective order
 * must keep its symbol actor), in score order, protected ones not scored last.
 */
export function shortlist(scores: readonly SymbolScore[], topN: number, protectedSymbols: Iterable<string>): string[] {
  const keep = new Set<string>(scores.slice(0, Math.max(0, topN)).map((s) => s.symbol));
  const out = scores.filter((s) => keep.has(s.symbol)).map((s) => s.symbol);
  const scored = new Set(scores.map((s) => s.symbol));
  const extra: string[] = [];
  for (const p of protectedSymbols) {
    if (keep.has(p)) continue;
    keep.add(p);
    if (scored.has(p)) out.push(p);
    else extra.push(p);
  }
  const rank = new Map(scores.map((s, i) => [s.symbol, i]));
  out.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  return [...out, ...extra.sort()];
}

/** What changes when the live set becomes `next`. */
export function shortlistDiff(
  current: readonly string[],
  next: readonly string[],
): { add: string[]; remove: string[] } {
  const cur = new Set(current);
  const nxt = new Set(next);
  return { add: next.filter((s) => !cur.has(s)), remove: current.filter((s) => !nxt.has(s)) };
}

/** One `[SCAN]` log line (the runbook greps for the tag). */
export function formatScanLine(venue: string, scored: number, list: readonly string[], top: SymbolScore[]): string {
  const best = top
    .slice(0, 3)
    .map((s) => `${s.symbol}=${s.score.toFixed(3)}`)
    .join(' ');
  return `[SCAN] ${venue}: scored ${scored}, shortlist ${list.join(',') || '(none)'}; top ${best || '-'}`;
}
