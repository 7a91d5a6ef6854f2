/**
 * Bar history from a venue's OHLCV, within the venue's limits: Binance klines give at most 1,000 per request
 * (spot; 1,500 USDⓈ-M) from any start, so a deep window is paginated forward from its start; Kraken OHLC keeps
 * only the 720 most recent entries of an interval, so asking further back costs requests and returns nothing
 * older. Only closed candles are kept (both venues return the one in progress last), and every candle must sit
 * on a `barMs` boundary, strictly increasing: the strategies' bars are built on `floor(t / barMs)` buckets, so a
 * misaligned history would fold two different bars into one.
 */
import type { MarketKind, Ohlcv, VenueGateway } from './venue-gateway.js';
import { ohlcvLimits } from './venue-limits.js';

const TIMEFRAME_MS: Record<string, number> = {
  '1s': 1_000,
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
};

/** The venue's timeframe whose candles are exactly `barMs` long, if it serves one. */
export function timeframeOf(barMs: number, timeframes: readonly string[]): string | undefined {
  return timeframes.find((tf) => TIMEFRAME_MS[tf] === barMs);
}

export interface HistoryRequest {
  symbol: string;
  barMs: number;
  /** Closed bars wanted, ending with the last bar closed at `now`. */
  bars: number;
  /** Local epoch ms: the bar in progress at `now` is never part of the history. */
  now: number;
  market?: MarketKind;
}

export interface HistoryResult {
  /** Closed bars, oldest first, on `barMs` boundaries. */
  bars: Ohlcv[];
  requests: number;
  timeframe: string | undefined;
  /** Why fewer bars than wanted came back: the venue keeps no more, serves no such interval, or has none. */
  short?: 'venue_depth' | 'no_timeframe' | 'no_ohlcv' | 'venue_ended';
}

/** The most requests one history fetch may make (Binance 2,000 bars = 2; the loop is bounded by the window anyway). */
const MAX_PAGES = 50;

/**
 * Fetches the `bars` most recent closed bars. Throws the gateway's VenueError on a failed request (the caller
 * decides to go on without history) and BadHistory on misaligned candles.
 */
export async function fetchHistory(
  gw: Pick<VenueGateway, 'venue' | 'fetchOHLCV'>,
  req: HistoryRequest,
): Promise<HistoryResult> {
  const limits = ohlcvLimits(gw.venue, req.market);
  const timeframe = timeframeOf(req.barMs, limits.timeframes);
  if (gw.fetchOHLCV === undefined) return { bars: [], requests: 0, timeframe, short: 'no_ohlcv' };
  if (timeframe === undefined || req.bars <= 0)
    return { bars: [], requests: 0, timeframe, ...(req.bars > 0 ? { short: 'no_timeframe' as const } : {}) };
  const lastClosed = Math.floor(req.now / req.barMs) * req.barMs - req.barMs;
  // Kraken: the newest entry is the frame in progress, so `depth - 1` closed ones at most.
  const reachable = limits.depth === undefined ? req.bars : Math.min(req.bars, limits.depth - 1);
  let since = lastClosed - (reachable - 1) * req.barMs;
  const out: Ohlcv[] = [];
  let requests = 0;
  while (since <= lastClosed && requests < MAX_PAGES) {
    const limit = Math.min(limits.perRequest, Math.round((lastClosed - since) / req.barMs) + 1);
    const page = await gw.fetchOHLCV(req.symbol, timeframe, since, limit, req.market);
    requests += 1;
    let progressed = false;
    for (const c of page) {
      if (c.openTime % req.barMs !== 0)
        throw new BadHistory(`${req.symbol}: candle at ${c.openTime} is off the ${timeframe} grid`);
      if (c.openTime < since || c.openTime > lastClosed) continue;
      const prev = out.at(-1);
      if (prev !== undefined && c.openTime <= prev.openTime)
        throw new BadHistory(`${req.symbol}: candles out of order at ${c.openTime}`);
      out.push(c);
      progressed = true;
    }
    // An empty window is a range the venue has no candles for (before the listing): the next one may have.
    since = progressed ? (out.at(-1)?.openTime ?? lastClosed) + req.barMs : since + limit * req.barMs;
  }
  const short =
    out.length >= req.bars ? undefined : reachable < req.bars ? ('venue_depth' as const) : ('venue_ended' as const);
  return { bars: out, requests, timeframe, ...(short === undefined ? {} : { short }) };
}

/** The venue's candles do not line up with Bosun's bars (or go backwards): not used. */
export class BadHistory extends Error {
  override readonly name = 'BadHistory';
}
