import { errorMessage } from '../../domain/errors.js';
import type { Logger } from '../../logging/logger.js';
import type { TradeStream } from '../../venues/streams/trade-stream.js';
import type { MarketKind, PublicTrade, VenueGateway } from '../../venues/venue-gateway.js';
import type { MakerMarket } from './maker-shadow.js';

/**
 * The venues' public trade tapes for the maker shadow: the trade stream (ccxt.pro `watchTrades`) of every symbol a
 * shadow has watched, and REST (`fetchTrades`, recent aggregate trades) as the fallback while the stream is not
 * live (down, reconnecting, or not configured: STREAMS_ENABLED=false). Symbols are followed from their first
 * shadow on and never dropped (a set bounded by the traded symbols), so the stream is not resubscribed per order.
 */
export interface TradePrints {
  /** Follows a symbol's tape (subscribes the stream; idempotent). */
  follow(venue: string, symbol: string, market: MakerMarket): void;
  /** Whether the venue's trade stream for that market is live (otherwise read REST). */
  streaming(venue: string, market: MakerMarket): boolean;
  /** Recent prints by REST, oldest first. */
  poll(venue: string, symbol: string, market: MakerMarket): Promise<PublicTrade[]>;
  /** The tapes followed: venue, market, symbols and the stream's state (`none`: REST only). */
  tapes(): Array<{ venue: string; market: MakerMarket; symbols: string[]; stream: string }>;
  stop(): Promise<void>;
}

const kindOf = (m: MakerMarket): MarketKind => (m === 'perp' ? 'linear' : 'spot');

export function createTradePrints(d: {
  gateway: (venue: string) => VenueGateway | undefined;
  /** A new trade stream for a venue's market kind; absent: REST only. */
  stream?: (venue: string, market: MarketKind) => TradeStream | undefined;
  /** Prints from a stream as they arrive. */
  onPrints: (venue: string, market: MakerMarket, prints: PublicTrade[]) => void;
  log: Logger;
  /** Recent trades per REST read (Binance's default 500; the window's prints fit in far fewer). */
  limit?: number;
}): TradePrints {
  const streams = new Map<string, { s: TradeStream; symbols: Set<string> }>();
  /** Symbols followed without a stream (REST only). */
  const restOnly = new Map<string, Set<string>>();
  const key = (venue: string, market: MakerMarket) => `${venue}|${market}`;
  return {
    follow(venue, symbol, market) {
      const k = key(venue, market);
      let e = streams.get(k);
      if (e === undefined) {
        const s = d.stream?.(venue, kindOf(market));
        if (s === undefined) {
          restOnly.set(k, (restOnly.get(k) ?? new Set()).add(symbol));
          return;
        }
        e = { s, symbols: new Set() };
        streams.set(k, e);
        e.symbols.add(symbol);
        s.start([symbol], {
          onTrades: (t) => d.onPrints(venue, market, t),
          onStatus: (st) => {
            if (st.state === 'down')
              d.log.warn({ venue, market, reason: st.reason }, 'maker shadow: trade stream down');
          },
        });
        return;
      }
      if (e.symbols.has(symbol)) return;
      e.symbols.add(symbol);
      e.s.setSymbols([...e.symbols]);
    },
    streaming: (venue, market) => streams.get(key(venue, market))?.s.status().state === 'live',
    async poll(venue, symbol, market) {
      const gw = d.gateway(venue);
      if (gw?.fetchTrades === undefined) throw new Error(`${venue} serves no public trades`);
      return gw.fetchTrades(symbol, d.limit ?? 100, kindOf(market));
    },
    tapes() {
      const row = (k: string, symbols: Set<string>, stream: string) => {
        const [venue = '', market = 'spot'] = k.split('|');
        return { venue, market: market as MakerMarket, symbols: [...symbols], stream };
      };
      return [
        ...[...streams].map(([k, e]) => row(k, e.symbols, e.s.status().state)),
        ...[...restOnly].map(([k, s]) => row(k, s, 'none')),
      ];
    },
    async stop() {
      await Promise.all(
        [...streams.values()].map((e) =>
          e.s.stop().catch((err: unknown) => d.log.warn({ err: errorMessage(err) }, 'trade stream stop failed')),
        ),
      );
      streams.clear();
    },
  };
}
