/**
 * Public trades by stream through ccxt.pro (one market kind of one venue): Binance `<symbol>@trade` on spot and
 * USDⓈ-M (ccxt's `watchTradesForSymbols`, default channel `trade`). A quiet symbol prints nothing for minutes, so
 * there is no silence limit here (ccxt's keepalive pings find a dead connection); the session ends on any watch
 * error, the shared loop (symbol-stream.ts) backs off and starts a fresh one, and the consumer reads REST
 * (`fetchTrades`) meanwhile.
 */
import type { CcxtGateway } from '../ccxt-gateway.js';
import { toPublicTrade } from '../ccxt-mappers.js';
import type { MarketKind, PublicTrade } from '../venue-gateway.js';
import { SessionRestart, type StreamStatus } from './stream-runner.js';
import { type PayloadSession, SymbolStream, type SymbolStreamOptions } from './symbol-stream.js';

export interface TradeStreamHandlers {
  /** Prints as they arrive, each once (Bosun symbols). */
  onTrades(trades: PublicTrade[]): void;
  onStatus(s: StreamStatus): void;
}

export interface TradeStream {
  readonly venue: string;
  readonly market: MarketKind;
  start(symbols: readonly string[], h: TradeStreamHandlers): void;
  /** A new symbol set: the stream resubscribes, which is not a failure. */
  setSymbols(symbols: readonly string[]): void;
  status(): StreamStatus;
  stop(): Promise<void>;
}

/** Trade ids remembered per symbol to hand each print over once (ccxt's cache keeps the last 1,000). */
const SEEN_KEEP = 2_000;
/** Symbols per watchTradesForSymbols subscription (ccxt allows 200 per Binance connection). */
const BATCH = 200;

/** Streamed public trades of one venue and market kind through the gateway's ccxt.pro class. */
export function createTradeStream(gw: CcxtGateway, market: MarketKind, opts: SymbolStreamOptions): TradeStream {
  return new SymbolStream<TradeStreamHandlers>(gw, market, opts, async (s) => {
    const loops: Promise<never>[] = [];
    for (let i = 0; i < s.wanted.length; i += BATCH) loops.push(watchLoop(s, s.wanted.slice(i, i + BATCH)));
    await Promise.race([...loops, s.restarted, s.ctx.stopped]);
  });
}

/**
 * One batch's loop: each wake-up reads ccxt's trade cache of every symbol of the batch and hands over the prints
 * not seen yet (prints of several symbols may arrive in one read and wake the watcher once).
 */
async function watchLoop(
  s: PayloadSession<TradeStreamHandlers>,
  symbols: ReadonlyArray<{ bosun: string; venue: string }>,
): Promise<never> {
  const { ex, ctx } = s;
  const seen = new Map<string, Set<string>>();
  for (;;) {
    await ex.watchTradesForSymbols(
      symbols.map((x) => x.venue),
      undefined,
      undefined,
    );
    if (!ctx.alive()) throw new SessionRestart();
    ctx.live();
    const out: PublicTrade[] = [];
    for (const sym of symbols) {
      const cache = (ex.trades as Record<string, unknown[] | undefined>)[sym.venue] ?? [];
      const ids = seen.get(sym.venue) ?? new Set<string>();
      seen.set(sym.venue, ids);
      for (const raw of cache) {
        const id = String((raw as { id?: unknown }).id ?? '');
        if (id === '' || ids.has(id)) continue;
        ids.add(id);
        try {
          out.push(toPublicTrade(raw, sym.bosun));
        } catch {
          // An unparseable print is skipped; the REST fallback is the record.
        }
      }
      if (ids.size > SEEN_KEEP) seen.set(sym.venue, new Set([...ids].slice(-SEEN_KEEP / 2)));
    }
    if (out.length > 0) s.handlers.onTrades(out);
  }
}
