import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { fetchHistory } from '../venues/ohlcv-history.js';
import type { MarketInfo, Ohlcv, VenueGateway } from '../venues/venue-gateway.js';
import type { MarketRules } from './market-model.js';
import type { Tick } from './replay.js';
import type { TickSeries } from './tick-sources.js';

/**
 * Venue history for `bosun backtest --venue`: closed OHLCV bars fetched through the gateway (ccxt `fetchOHLCV`,
 * paginated within the venue's limits by `fetchHistory`, the same code the strategies warm up with) and cached
 * on disk under `<state>/backtest/ohlcv/`, keyed by venue, symbol, bar length, count and end, so a re-run reads the
 * file and makes no request. A cached file that does not parse is refetched, never half-used.
 */
const CandleSchema = z.object({
  openTime: z.number().finite(),
  open: z.number().positive(),
  high: z.number().positive(),
  low: z.number().positive(),
  close: z.number().positive(),
  volume: z.number().finite(),
});
const CacheSchema = z.object({
  venue: z.string(),
  symbol: z.string(),
  barMs: z.number().int().positive(),
  until: z.number().finite(),
  rules: z.object({
    symbol: z.string(),
    base: z.string(),
    quote: z.string(),
    stepSize: z.number().positive(),
    minQty: z.number().min(0),
    minNotional: z.number().min(0),
  }),
  bars: z.array(CandleSchema),
});
export type OhlcvCache = z.infer<typeof CacheSchema>;

/** What the history needs of a venue gateway. */
export type HistoryGateway = Pick<
  VenueGateway,
  'venue' | 'fetchOHLCV' | 'markets' | 'loadMarkets' | 'fetchFundingRateHistory'
>;

export interface OhlcvRequest {
  venue: string;
  symbol: string;
  barMs: number;
  bars: number;
  /** Epoch ms the history ends at (the last bar closed by then). */
  until: number;
  cacheDir: string;
  /** The market whose klines and rules are read (default spot; `linear`: the USDⓈ-M perpetual). */
  market?: 'spot' | 'linear';
}

export function cachePath(r: OhlcvRequest): string {
  const safe = r.symbol.replace(/[^A-Za-z0-9_-]/g, '_');
  const kind = r.market === 'linear' ? '_perp' : '';
  return join(r.cacheDir, `${r.venue}_${safe}${kind}_${r.barMs}_${r.bars}_${r.until}.json`);
}

/**
 * A history file read from the cache when it parses, or fetched (then written whole, by rename: never half a
 * file). Shared by the OHLCV and the funding history.
 */
export async function cachedHistory<T>(
  path: string,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  fetch: () => Promise<T>,
): Promise<{ data: T; source: 'cache' | 'venue'; path: string }> {
  if (existsSync(path)) {
    const parsed = schema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (parsed.success) return { data: parsed.data, source: 'cache', path };
  }
  const data = await fetch();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(data));
  renameSync(`${path}.tmp`, path);
  return { data, source: 'venue', path };
}

/** The cached history, or the gateway's (then written to the cache). `source` says which. */
export function loadOhlcv(
  r: OhlcvRequest,
  gateway: () => Promise<HistoryGateway>,
): Promise<{ data: OhlcvCache; source: 'cache' | 'venue'; path: string }> {
  return cachedHistory(cachePath(r), CacheSchema, async () => {
    const gw = await gateway();
    await gw.loadMarkets();
    const kind = r.market ?? 'spot';
    const m: MarketInfo | undefined = gw.markets(kind)[r.symbol];
    if (!m) throw new RangeError(`${r.venue} lists no ${kind === 'spot' ? 'spot' : 'perpetual'} market '${r.symbol}'`);
    const h = await fetchHistory(gw, { symbol: r.symbol, barMs: r.barMs, bars: r.bars, now: r.until, market: kind });
    if (h.bars.length < 2)
      throw new RangeError(`${r.venue} returned ${h.bars.length} bars for ${r.symbol} (${h.short ?? 'none'})`);
    return {
      venue: r.venue,
      symbol: r.symbol,
      barMs: r.barMs,
      until: r.until,
      rules: {
        symbol: m.symbol,
        base: m.base,
        quote: m.quote,
        stepSize: m.stepSize,
        minQty: m.minQty,
        minNotional: m.minNotional,
      },
      bars: h.bars,
    };
  });
}

/**
 * Ticks from candles: the open at the bar's start and the close just before its end, so every bar closes on the
 * next bar's opening tick, as a live bar does (and its signal is priced at that tick).
 */
export function ohlcvTicks(c: OhlcvCache): TickSeries {
  const ticks: Tick[] = [];
  for (const b of c.bars as Ohlcv[]) {
    ticks.push({ at: b.openTime, price: b.open });
    ticks.push({ at: b.openTime + c.barMs - 1, price: b.close });
  }
  return { label: `${c.venue} ${c.symbol} history`, ticks, regimes: [] };
}

/** The market's rules from the cached history; a perpetual (`linear`) pays its fee in USDT. */
export function ohlcvRules(c: OhlcvCache, takerFee: number, kind: 'spot' | 'linear' = 'spot'): MarketRules {
  if (kind === 'linear') return { kind, ...c.rules, takerFee, feeIn: 'quote' };
  return { kind, ...c.rules, takerFee, feeIn: c.venue === 'kraken' ? 'quote' : 'received' };
}
