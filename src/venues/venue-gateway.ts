/**
 * The one port to an exchange (DESIGN §7). Everything that crosses it is plain JSON in Bosun's terms —
 * symbols like `BTCUSDT`, numbers, epoch ms, `null` for "the venue did not say" — never a ccxt object.
 * Reads throw `VenueError` (error-classifier.ts); `createOrder` never throws, because a failed create has three
 * outcomes a caller must treat differently (DESIGN §5: unknown is not failed, never blind-retry a create).
 */
import type { VenueId } from '../domain/ids.js';
import type { VenueErrorInfo } from './error-classifier.js';
import type { CallPriority } from './rate-budget.js';

export type MarketKind = 'spot' | 'linear';
export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop_loss' | 'stop_loss_limit' | 'take_profit' | 'take_profit_limit';
export type OrderStatus = 'open' | 'closed' | 'canceled' | 'expired' | 'rejected';

/** Trading filters for one symbol, as the venue enforces them. */
export interface MarketInfo {
  symbol: string;
  market: MarketKind;
  base: string;
  quote: string;
  active: boolean;
  minQty: number;
  stepSize: number;
  tickSize: number;
  minNotional: number;
  /** ccxt's unified symbol, for logs only (`BTC/USDT:USDT`). */
  venueSymbol: string;
}

export interface BalanceEntry {
  free: number;
  used: number;
  total: number;
}
export type Balances = Record<string, BalanceEntry>;

export interface Ticker {
  symbol: string;
  market: MarketKind;
  bid: number | null;
  ask: number | null;
  last: number | null;
  venueTs: number | null;
  /** When Bosun received it (injected clock): staleness is judged on this, not on the venue's clock. */
  receivedAt: number;
  /** 24 h volume in quote currency, when the venue's ticker carries it (the scanner's volume score). */
  quoteVolume?: number | null;
  /** 24 h price change in percent, when the venue's ticker carries it. */
  changePct?: number | null;
  /** Base quantity shown at the best bid / ask, when the venue's ticker carries it (the maker shadow's queue). */
  bidSize?: number | null;
  askSize?: number | null;
}

export interface OrderBook {
  symbol: string;
  market: MarketKind;
  bids: Array<[price: number, qty: number]>;
  asks: Array<[price: number, qty: number]>;
  venueTs: number | null;
  receivedAt: number;
}

export interface CreateOrderRequest {
  /** Deterministic, journaled before sending (DESIGN §5). Binance: ≤ 36 of [A-Za-z0-9_-]. */
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  amount: number;
  /** Limit price (limit, stop_loss_limit, take_profit_limit). */
  price?: number;
  /** Trigger price (stop_loss*, take_profit*). */
  stopPrice?: number;
  reduceOnly?: boolean;
  postOnly?: boolean;
  market: MarketKind;
}

export interface Fee {
  cost: number;
  currency: string;
}

export interface Order {
  id: string;
  /** Bosun's id when known (Kraken stores a UUID derived from it, see kraken.quirks.ts). */
  clientOrderId: string | null;
  /** The client id as the venue stores it (`newClientOrderId` / `cl_ord_id`). */
  venueClientOrderId: string | null;
  symbol: string;
  market: MarketKind;
  side: OrderSide;
  type: OrderType | 'other';
  status: OrderStatus;
  amount: number;
  filled: number;
  remaining: number;
  price: number | null;
  average: number | null;
  stopPrice: number | null;
  reduceOnly: boolean;
  postOnly: boolean;
  fee: Fee | null;
  timestamp: number | null;
  /** True when only the venue's acknowledgement is known (fills unknown); refresh with fetchOrder. */
  ackOnly: boolean;
}

export interface Trade {
  id: string;
  orderId: string | null;
  symbol: string;
  market: MarketKind;
  side: OrderSide;
  price: number;
  amount: number;
  cost: number;
  fee: Fee | null;
  maker: boolean | null;
  timestamp: number;
}

/** A public trade print (the venue's tape): `side` is the aggressor's. */
export interface PublicTrade {
  id: string;
  symbol: string;
  price: number;
  amount: number;
  side: 'buy' | 'sell';
  timestamp: number;
}

export interface FundingRate {
  symbol: string;
  rate: number;
  nextFundingTime: number | null;
  markPrice: number | null;
  indexPrice: number | null;
  venueTs: number | null;
  receivedAt: number;
}

export interface Position {
  symbol: string;
  market: 'linear';
  side: 'long' | 'short';
  /** Absolute size in base units. */
  amount: number;
  entryPrice: number | null;
  markPrice: number | null;
  unrealizedPnl: number | null;
  liquidationPrice: number | null;
  leverage: number | null;
  timestamp: number | null;
}

/** One published funding rate of a perpetual (Binance `GET /fapi/v1/fundingRate`). */
export interface FundingRateRecord {
  symbol: string;
  /** Epoch ms of the settlement. */
  fundingTime: number;
  /** A fraction per interval (0.0001 = 1 bp). */
  rate: number;
}

/** One funding payment on a perpetual position, as the venue's income log reports it (signed: < 0 paid). */
export interface FundingPayment {
  /** The venue's transaction id: a payment is applied to the ledger once by it. */
  id: string;
  symbol: string;
  amount: number;
  asset: string;
  timestamp: number;
}

/** Which order: by venue id or by clientOrderId (Bosun's), on a symbol (Binance needs it for every lookup). */
export interface OrderRef {
  symbol: string;
  market?: MarketKind;
  id?: string;
  clientOrderId?: string;
}

export interface TradesQuery {
  since?: number;
  symbol?: string;
  market?: MarketKind;
  limit?: number;
}

export type CreateOrderResult =
  | { status: 'accepted'; order: Order }
  | { status: 'rejected'; error: VenueErrorInfo }
  | { status: 'unknown'; error: VenueErrorInfo };

export type ResolveResult =
  | { status: 'found'; order: Order }
  | { status: 'not_found' }
  | { status: 'still_unknown'; error: VenueErrorInfo };

/** What resolveUnknown needs when the gateway did not see the create itself (e.g. after a restart). */
export interface ResolveHint {
  symbol: string;
  market?: MarketKind;
  /** When the create was sent (epoch ms): a lookup is conclusive only after the venue's accept window. */
  sentAt?: number;
}

/** One candle as the venue printed it (epoch ms open time; the last one of an answer may still be open). */
export interface Ohlcv {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface VenueGateway {
  readonly venue: VenueId;
  readonly marketKinds: readonly MarketKind[];
  /** Why a market kind is out of service for this account (a spot-only key), undefined while it serves. */
  unavailable?(market: MarketKind): string | undefined;
  /** Loads (or reloads) markets and filters; the other calls load them lazily. */
  loadMarkets(reload?: boolean): Promise<void>;
  /** Filters by Bosun symbol for one market kind (default spot); empty before loadMarkets. The venue's own record (never copied: it is on the tick and order paths), frozen. */
  markets(market?: MarketKind): Readonly<Record<string, MarketInfo>>;
  fetchBalances(market?: MarketKind): Promise<Balances>;
  /** Tickers by Bosun symbol; symbols the venue does not list are absent from the answer. */
  fetchTickers(symbols: readonly string[], market?: MarketKind): Promise<Record<string, Ticker>>;
  fetchOrderBook(symbol: string, depth: number, market?: MarketKind): Promise<OrderBook>;
  createOrder(req: CreateOrderRequest): Promise<CreateOrderResult>;
  /** Settles a create whose outcome was unknown by looking its clientOrderId up; never re-sends it. */
  resolveUnknown(clientOrderId: string, hint?: ResolveHint): Promise<ResolveResult>;
  /** Cancels one order; returns it when the venue echoes it (Binance), null when it only confirms (Kraken). */
  cancelOrder(ref: OrderRef): Promise<Order | null>;
  /** Cancels every open order (on one symbol if given; every market kind unless given); returns how many. */
  cancelAllOrders(symbol?: string, market?: MarketKind): Promise<number>;
  fetchOrder(ref: OrderRef): Promise<Order>;
  /** Open orders (of every market kind unless `market` is given), across the venue's order books. */
  fetchOpenOrders(symbol?: string, market?: MarketKind): Promise<Order[]>;
  /** Own trades; Binance needs `symbol` (ArgumentsRequired otherwise). Every market kind unless given. */
  fetchMyTrades(query: TradesQuery): Promise<Trade[]>;
  /** The venue's recent public trades (its tape), oldest first; optional: fakes need not serve them. */
  fetchTrades?(symbol: string, limit: number, market?: MarketKind): Promise<PublicTrade[]>;
  fetchFundingRate(symbol: string): Promise<FundingRate>;
  fetchFundingRates(symbols?: readonly string[]): Promise<Record<string, FundingRate>>;
  fetchPositions(symbols?: readonly string[]): Promise<Position[]>;
  /** Funding payments since `since` (epoch ms), oldest first; optional: venues without perpetuals lack it. */
  fetchFundingPayments?(since: number): Promise<FundingPayment[]>;
  /** Published funding rates of `symbol`'s perpetual from `since`, oldest first (at most `limit`); optional. */
  fetchFundingRateHistory?(symbol: string, since: number, limit: number): Promise<FundingRateRecord[]>;
  /**
   * Sets a perpetual's leverage and margin mode (ccxt setLeverage / setMarginMode). A margin mode already set is
   * not an error; a change the venue refuses (a position or open orders exist) throws VenueError.
   */
  configurePerp?(symbol: string, o: { leverage: number; marginMode: 'cross' | 'isolated' }): Promise<void>;
  /**
   * One page of candles (`timeframe` a ccxt timeframe, `since` epoch ms): the caller paginates within the venue's
   * limits (`ohlcvLimits`). Optional so fakes need not serve history; without it strategies warm up live.
   */
  fetchOHLCV?(symbol: string, timeframe: string, since: number, limit: number, market?: MarketKind): Promise<Ohlcv[]>;
  /** Local request-budget usage 0..1 (the conn actor goes DEGRADED before the venue says 429). */
  pressure(): number;
  /** Venue clock minus ours (ms) as last measured; undefined before any measurement. */
  clockOffsetMs?(): number | undefined;
  /** True after a venue timestamp refusal (-1021) until the clock is measured again. */
  clockSyncNeeded?(): boolean;
  /** Measures the venue clock again (and renews the timestamp correction where the venue needs one). */
  syncClock?(): Promise<number>;
  /** The same gateway with its reads charged to the budget as `priority` (orders and cancels stay `order`). */
  atPriority?(priority: CallPriority): VenueGateway;
  close(): Promise<void>;
}
