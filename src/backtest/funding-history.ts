import { join } from 'node:path';
import { z } from 'zod';
import type { FundingSource } from './backtest-venue.js';
import { cachedHistory, type HistoryGateway } from './ohlcv-cache.js';
import { FUNDING_INTERVAL_MS } from './tick-sources.js';

/**
 * A perpetual's published funding rates for `bosun backtest --perp --venue` (Binance `GET /fapi/v1/fundingRate`
 * through ccxt `fetchFundingRateHistory`), fetched page by page over the history's span and cached on disk beside
 * the OHLCV, keyed by venue, symbol and span, so a re-run makes no request. A cached file that does not parse is
 * refetched, never half-used.
 */
const CacheSchema = z.object({
  venue: z.string(),
  symbol: z.string(),
  from: z.number().finite(),
  until: z.number().finite(),
  rates: z.array(z.object({ fundingTime: z.number().finite(), rate: z.number().finite() })),
});
export type FundingCache = z.infer<typeof CacheSchema>;

export interface FundingRequest {
  venue: string;
  symbol: string;
  from: number;
  until: number;
  cacheDir: string;
}

/** Binance serves at most 1,000 rates a request (333 days at 8 h); the loop is bounded anyway. */
const PAGE = 1_000;
const MAX_PAGES = 20;

export function fundingCachePath(r: FundingRequest): string {
  const safe = r.symbol.replace(/[^A-Za-z0-9_-]/g, '_');
  return join(r.cacheDir, `${r.venue}_${safe}_funding_${r.from}_${r.until}.json`);
}

export function loadFundingHistory(
  r: FundingRequest,
  gateway: () => Promise<HistoryGateway>,
): Promise<{ data: FundingCache; source: 'cache' | 'venue'; path: string }> {
  return cachedHistory(fundingCachePath(r), CacheSchema, async () => {
    const gw = await gateway();
    await gw.loadMarkets();
    if (gw.fetchFundingRateHistory === undefined) throw new RangeError(`${r.venue} publishes no funding history`);
    const rates: FundingCache['rates'] = [];
    let since = r.from;
    for (let page = 0; page < MAX_PAGES && since <= r.until; page++) {
      const got = await gw.fetchFundingRateHistory(r.symbol, since, PAGE);
      for (const x of got)
        if (x.fundingTime >= since && x.fundingTime <= r.until)
          rates.push({ fundingTime: x.fundingTime, rate: x.rate });
      const last = got.at(-1);
      if (last === undefined || got.length < PAGE || last.fundingTime >= r.until) break;
      since = last.fundingTime + 1;
    }
    return { venue: r.venue, symbol: r.symbol, from: r.from, until: r.until, rates };
  });
}

/**
 * The venue's rates as a funding source: the rate published for a settlement time (Binance stamps a settlement a
 * few ms after the hour, so a rate counts for the settlement within a minute of it); none published, none charged.
 */
export function fundingFromHistory(c: FundingCache): FundingSource {
  const byMinute = new Map<number, number>();
  for (const x of c.rates) byMinute.set(Math.round(x.fundingTime / 60_000), x.rate);
  return { intervalMs: FUNDING_INTERVAL_MS, rateAt: (t) => byMinute.get(Math.round(t / 60_000)) };
}
