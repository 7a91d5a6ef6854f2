/**
 * The streams of one venue (DESIGN §7, streams first): public tickers per market kind and the account's private
 * stream, built over the gateway's own ccxt instances (same account, same URLs and guards, same markets).
 */
import type { CompositeGateway } from '../composite-gateway.js';
import type { MarketKind } from '../venue-gateway.js';
import { createMarketStream, type MarketStream } from './market-stream.js';
import { STREAM_TIMING_DEFAULTS, type StreamTiming } from './stream-runner.js';
import { createTradeStream, type TradeStream } from './trade-stream.js';
import { CcxtUserDataStream, type UserDataStream } from './user-data-stream.js';

export interface VenueStreams {
  readonly venue: string;
  /** Streamed tickers of one market kind (default spot). */
  tickers(market?: MarketKind): MarketStream;
  /** Streamed public trades (the venue's tape) of one market kind (default spot). */
  trades(market?: MarketKind): TradeStream;
  /** The account's private stream of one market kind (default spot; Binance also USDⓈ-M). */
  userData(market?: MarketKind): UserDataStream;
}

export interface VenueStreamsOptions {
  timing?: Partial<StreamTiming>;
  /** Symbols per ticker subscription. */
  batch?: number;
  now?: () => number;
  random?: () => number;
}

export function createVenueStreams(gateway: CompositeGateway, opts: VenueStreamsOptions = {}): VenueStreams {
  const timing: StreamTiming = { ...STREAM_TIMING_DEFAULTS, ...opts.timing };
  const common = {
    timing,
    ...(opts.now === undefined ? {} : { now: opts.now }),
    ...(opts.random === undefined ? {} : { random: opts.random }),
  };
  return {
    venue: gateway.venue,
    tickers: (market = 'spot') =>
      createMarketStream(gateway.member(market), market, {
        ...common,
        ...(opts.batch === undefined ? {} : { batch: opts.batch }),
      }),
    trades: (market = 'spot') => createTradeStream(gateway.member(market), market, common),
    userData: (market = 'spot') =>
      new CcxtUserDataStream(gateway.member(market), market, {
        ...common,
        unavailable: () => gateway.unavailable(market),
      }),
  };
}
