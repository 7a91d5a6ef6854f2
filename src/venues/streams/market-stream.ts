/**
 * Public tickers by stream through ccxt.pro (one market kind of one venue): Binance `<symbol>@ticker` (the full
 * 24hrTicker, with bid/ask; ccxt's default `miniTicker` has none), USDⓈ-M `<symbol>@ticker`, Kraken v2 `ticker`.
 * Symbols are subscribed in batches (ccxt allows 200 subscriptions per Binance connection). A session ends on
 * any watch error or when nothing arrived for `silenceMs`; the shared loop (symbol-stream.ts) then backs off and
 * starts a fresh one, and the consumer polls REST meanwhile (actors/feed-source.ts).
 */
import type { Exchange } from 'ccxt';
import type { CcxtGateway } from '../ccxt-gateway.js';
import { toTicker } from '../ccxt-mappers.js';
import type { MarketKind, Ticker } from '../venue-gateway.js';
import { type SessionContext, SessionRestart, type StreamStatus, silenceWatch } from './stream-runner.js';
import { type PayloadSession, SymbolStream, type SymbolStreamOptions } from './symbol-stream.js';

export interface MarketStreamHandlers {
  /** Tickers as they arrive (Bosun symbols; `receivedAt` from the stream's clock). */
  onTickers(tickers: Ticker[]): void;
  onStatus(s: StreamStatus): void;
}

/** Streamed tickers of one venue and market kind. */
export interface MarketStream {
  readonly venue: string;
  readonly market: MarketKind;
  start(symbols: readonly string[], h: MarketStreamHandlers): void;
  /** A new symbol set (the scanner's shortlist): the stream resubscribes, which is not a failure. */
  setSymbols(symbols: readonly string[]): void;
  status(): StreamStatus;
  stop(): Promise<void>;
}

export interface CcxtMarketStreamOptions extends SymbolStreamOptions {
  /** Symbols per watchTickers subscription (default 100). */
  batch?: number;
}

/** Streamed tickers of one venue and market kind through the gateway's ccxt.pro class. */
export function createMarketStream(gw: CcxtGateway, market: MarketKind, opts: CcxtMarketStreamOptions): MarketStream {
  const now = opts.now ?? Date.now;
  return new SymbolStream<MarketStreamHandlers>(gw, market, opts, async (s) => {
    let lastAt = now();
    const watch = silenceWatch(opts.timing.silenceMs, () => now() - lastAt);
    const heard = () => {
      lastAt = now();
    };
    try {
      const ids = s.wanted.map((w) => w.venue);
      const batch = opts.batch ?? 100;
      const loops: Promise<never>[] = [];
      for (let i = 0; i < ids.length; i += batch) loops.push(watchLoop(gw, s, ids.slice(i, i + batch), now, heard));
      // Kraken sends `{"channel":"heartbeat"}` about once a second on a subscribed connection: a quiet pair is
      // not a silent stream. (Binance has no data heartbeat; its server pings are answered by ccxt's socket.)
      if (gw.venue === 'kraken') loops.push(heartbeats(s.ex, s.ctx, heard));
      await Promise.race([...loops, watch.tripped, s.restarted, s.ctx.stopped]);
    } finally {
      watch.cancel();
    }
  });
}

async function heartbeats(ex: Exchange, ctx: SessionContext, heard: () => void): Promise<never> {
  const pro = ex as unknown as { watchHeartbeat(): Promise<unknown> };
  for (;;) {
    await pro.watchHeartbeat();
    if (!ctx.alive()) throw new SessionRestart();
    heard();
  }
}

/**
 * One batch's loop. ccxt resolves `watchTickers` with the ticker that woke it only, and updates that arrive in the
 * same read (Binance pushes every subscribed symbol at once) land in `ex.tickers` without waking anyone: so each
 * wake-up reads the cache and takes every ticker object that changed since the last one (ccxt replaces it on
 * each update).
 */
async function watchLoop(
  gw: CcxtGateway,
  s: PayloadSession<MarketStreamHandlers>,
  symbols: string[],
  now: () => number,
  heard: () => void,
): Promise<never> {
  const { ex, ctx } = s;
  const params = gw.venue === 'binance' ? { name: 'ticker' } : {};
  const map = gw.symbols();
  const seen = new Map<string, unknown>();
  for (;;) {
    await ex.watchTickers(symbols, params);
    if (!ctx.alive()) throw new SessionRestart();
    heard();
    ctx.live();
    const at = now();
    const out: Ticker[] = [];
    for (const sym of symbols) {
      const t = ex.tickers[sym];
      if (t === undefined || seen.get(sym) === t) continue;
      seen.set(sym, t);
      try {
        out.push(toTicker(t, map, at));
      } catch {
        // One unparseable ticker is skipped; the next one for that symbol replaces it.
      }
    }
    if (out.length > 0) s.handlers.onTickers(out);
  }
}
