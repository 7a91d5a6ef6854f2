/**
 * ccxt structures → Bosun domain types, validated with zod on the way. ccxt does not fail on garbage
 * (reference §3: a 200 with an HTML body gives an empty balance, a Kraken order with `id: undefined`), so every
 * mapper here throws BadVenueResponse when the shape is wrong; the classifier makes that retryable for reads and
 * unknown-outcome for creates.
 */
import { z } from 'zod';
import { BadVenueResponse } from './error-classifier.js';
import type { SymbolMap } from './symbol-map.js';
import type {
  Balances,
  Fee,
  FundingRate,
  MarketInfo,
  MarketKind,
  Ohlcv,
  Order,
  OrderBook,
  OrderStatus,
  OrderType,
  Position,
  PublicTrade,
  Ticker,
  Trade,
} from './venue-gateway.js';
import type { RawOrderFields } from './venue-quirks.js';

const num = z.union([
  z.number(),
  // Kraken returns some numbers as strings (order fee.cost).
  z
    .string()
    .regex(/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i)
    .transform(Number),
]);
const optNum = num.nullish().transform((v) => v ?? null);
/** A raw venue payload: ccxt keeps the parsed JSON in `info`; a string there means the body was not JSON. */
const info = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]);

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new BadVenueResponse(`unparseable ${what}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  return r.data;
}

const MarketSchema = z.object({
  symbol: z.string().min(1),
  base: z.string().min(1),
  quote: z.string().min(1),
  active: z.boolean().nullish(),
  precision: z.object({ amount: optNum, price: optNum }),
  limits: z.object({
    amount: z.object({ min: optNum }).nullish(),
    cost: z.object({ min: optNum }).nullish(),
  }),
});

/** Filters for one ccxt market (precisionMode TICK_SIZE for both venues: precision.* are step sizes). */
export function toMarketInfo(raw: unknown, symbol: string, market: MarketKind): MarketInfo {
  const m = parse(MarketSchema, raw, 'market');
  const step = m.precision.amount ?? 0;
  return {
    symbol,
    market,
    base: m.base,
    quote: m.quote,
    active: m.active !== false,
    minQty: m.limits.amount?.min ?? step,
    stepSize: step,
    tickSize: m.precision.price ?? 0,
    minNotional: m.limits.cost?.min ?? 0,
    venueSymbol: m.symbol,
  };
}

const BalanceSchema = z.object({
  info,
  total: z.record(z.string(), optNum),
  free: z.record(z.string(), optNum).nullish(),
  used: z.record(z.string(), optNum).nullish(),
});

/** Balances by asset; an `info` that is not an object means ccxt parsed an HTML/garbage body as "no balances". */
export function toBalances(raw: unknown): Balances {
  const b = parse(BalanceSchema, raw, 'balance');
  const out: Balances = {};
  for (const [asset, t] of Object.entries(b.total)) {
    const free = b.free?.[asset] ?? null;
    const used = b.used?.[asset] ?? null;
    const total = t ?? (free ?? 0) + (used ?? 0);
    out[asset] = { free: free ?? total - (used ?? 0), used: used ?? total - (free ?? total), total };
  }
  return out;
}

const TickerSchema = z.object({
  symbol: z.string().min(1),
  bid: optNum,
  ask: optNum,
  last: optNum,
  timestamp: optNum,
  quoteVolume: optNum.optional(),
  percentage: optNum.optional(),
  bidVolume: optNum.optional(),
  askVolume: optNum.optional(),
  info,
});

/** A finite number, or null for null/undefined; `undefined` when the value needs the schema (a string, garbage). */
function plainNum(v: unknown): number | null | undefined {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * A ticker is on the stream's hot path (1,000 symbols: 1,000 a second): the common shape — numbers or null
 * everywhere, a symbol, an `info` object — is mapped without zod (13 µs a ticker in the 1,000-symbol profile);
 * anything else (a numeric string, a missing symbol, garbage) goes through TickerSchema, which converts or
 * refuses it. Both give the same answer for what the fast path takes (ccxt-mappers.test.ts checks it).
 */
export function toTicker(raw: unknown, symbols: SymbolMap, receivedAt: number): Ticker {
  if (typeof raw === 'object' && raw !== null) {
    const r = raw as Record<string, unknown>;
    const bid = plainNum(r.bid);
    const ask = plainNum(r.ask);
    const last = plainNum(r.last);
    const ts = plainNum(r.timestamp);
    const qv = plainNum(r.quoteVolume);
    const pct = plainNum(r.percentage);
    const bidVolume = plainNum(r.bidVolume);
    const askVolume = plainNum(r.askVolume);
    if (
      typeof r.symbol === 'string' &&
      r.symbol.length > 0 &&
      typeof r.info === 'object' &&
      r.info !== null &&
      bid !== undefined &&
      ask !== undefined &&
      last !== undefined &&
      ts !== undefined &&
      qv !== undefined &&
      pct !== undefined &&
      bidVolume !== undefined &&
      askVolume !== undefined
    ) {
      return tickerOf(
        { symbol: r.symbol, bid, ask, last, timestamp: ts, quoteVolume: qv, percentage: pct, bidVolume, askVolume },
        symbols,
        receivedAt,
      );
    }
  }
  return toTickerStrict(raw, symbols, receivedAt);
}

/** toTicker by the schema alone (every shape; the reference for the fast path). */
export function toTickerStrict(raw: unknown, symbols: SymbolMap, receivedAt: number): Ticker {
  return tickerOf(parse(TickerSchema, raw, 'ticker'), symbols, receivedAt);
}

/** A validated ticker's fields → Bosun's Ticker (both paths of toTicker end here). */
function tickerOf(t: Omit<z.output<typeof TickerSchema>, 'info'>, symbols: SymbolMap, receivedAt: number): Ticker {
  const { symbol, market } = symbols.fromVenue(t.symbol);
  return {
    symbol,
    market,
    bid: t.bid,
    ask: t.ask,
    last: t.last,
    venueTs: t.timestamp,
    receivedAt,
    quoteVolume: t.quoteVolume ?? undefined,
    changePct: t.percentage ?? undefined,
    bidSize: t.bidVolume ?? null,
    askSize: t.askVolume ?? null,
  };
}

const Level = z.array(num).min(2);
const BookSchema = z.object({ bids: z.array(Level), asks: z.array(Level), timestamp: optNum });

export function toOrderBook(raw: unknown, symbol: string, market: MarketKind, receivedAt: number): OrderBook {
  const b = parse(BookSchema, raw, 'order book');
  // ccxt turns an unparseable depth body into an empty book; a listed market with no level on either side is
  // far likelier to be that than real, so it is reported as a bad response (retryable) rather than as a book.
  if (b.bids.length === 0 && b.asks.length === 0) throw new BadVenueResponse('empty order book on both sides');
  const lv = (l: number[]): [number, number] => [l[0] ?? 0, l[1] ?? 0];
  return { symbol, market, bids: b.bids.map(lv), asks: b.asks.map(lv), venueTs: b.timestamp, receivedAt };
}

const OrderSchema = z.object({
  id: z.string().min(1),
  clientOrderId: z.string().nullish(),
  symbol: z.string().nullish(),
  side: z.enum(['buy', 'sell']).nullish(),
  type: z.string().nullish(),
  status: z.string().nullish(),
  amount: optNum,
  filled: optNum,
  remaining: optNum,
  price: optNum,
  average: optNum,
  triggerPrice: optNum,
  stopLossPrice: optNum,
  takeProfitPrice: optNum,
  reduceOnly: z.boolean().nullish(),
  postOnly: z.boolean().nullish(),
  timestamp: optNum,
  fee: z.object({ cost: optNum, currency: z.string().nullish() }).nullish(),
  info: z.unknown(),
});

const STATUSES: ReadonlySet<string> = new Set<OrderStatus>(['open', 'closed', 'canceled', 'expired', 'rejected']);

export interface OrderContext {
  symbols: SymbolMap;
  /** Venue client id → Bosun clientOrderId (Kraken's UUIDs), null when unknown. */
  bosunClientId: (venueClientId: string) => string | null;
  /** Fields read from the raw payload where ccxt's unified order loses them (quirks). */
  raw: (info: unknown) => RawOrderFields;
  /** What we sent, for acknowledgements that echo less (Kraken AddOrder returns only txid + a description). */
  sent?: { symbol: string; market: MarketKind; side: Order['side']; type: OrderType; amount: number };
}

function unifiedType(t: string | null | undefined, sl: number | null, tp: number | null): OrderType | 'other' {
  const limit = t === 'limit';
  if (sl !== null) return limit ? 'stop_loss_limit' : 'stop_loss';
  if (tp !== null) return limit ? 'take_profit_limit' : 'take_profit';
  return t === 'market' || t === 'limit' ? t : 'other';
}

function positiveOrNull(v: number | null): number | null {
  return v !== null && v > 0 ? v : null;
}

/** A fee without a currency is only meaningful when it is zero (Kraken post-only orders): then it is no fee. */
function toFee(f: { cost: number | null; currency?: string | null | undefined } | null | undefined): Fee | null {
  if (f === null || f === undefined || f.cost === null) return null;
  if (f.currency === null || f.currency === undefined || f.currency === '')
    return f.cost === 0 ? null : { cost: f.cost, currency: '' };
  return { cost: f.cost, currency: f.currency };
}

/** One order; with `ctx.sent` an acknowledgement lacking status/fills is accepted and flagged `ackOnly`. */
export function toOrder(raw: unknown, ctx: OrderContext): Order {
  const o = parse(OrderSchema, raw, 'order');
  const ack = ctx.sent !== undefined && (o.status === null || o.status === undefined || o.amount === null);
  if (!ack && (o.status === null || o.status === undefined || !STATUSES.has(o.status))) {
    throw new BadVenueResponse(`order ${o.id} has no usable status (${String(o.status)})`);
  }
  const where = o.symbol !== null && o.symbol !== undefined ? ctx.symbols.fromVenue(o.symbol) : ctx.sent;
  const side = o.side ?? ctx.sent?.side;
  const amount = o.amount ?? ctx.sent?.amount;
  if (where === undefined || side === undefined || amount === undefined) {
    throw new BadVenueResponse(`order ${o.id} lacks symbol, side or amount`);
  }
  const filled = o.filled ?? 0;
  const rf = ctx.raw(o.info);
  const type = rf.type ?? ctx.sent?.type ?? unifiedType(o.type, o.stopLossPrice, o.takeProfitPrice);
  const cid = rf.clientOrderId ?? o.clientOrderId;
  const clientId = cid === undefined || cid === null || cid === '' ? null : cid;
  return {
    id: `${rf.book ?? ''}${o.id}`,
    clientOrderId: clientId === null ? null : ctx.bosunClientId(clientId),
    venueClientOrderId: clientId,
    symbol: where.symbol,
    market: where.market,
    side,
    type,
    status: ack ? 'open' : (o.status as OrderStatus),
    amount,
    filled,
    remaining: o.remaining ?? Math.max(0, amount - filled),
    // Binance reports market orders with price "0.00000000": no price, not a price of zero.
    price: positiveOrNull(o.price),
    average: positiveOrNull(o.average),
    stopPrice: o.triggerPrice ?? o.stopLossPrice ?? o.takeProfitPrice,
    reduceOnly: o.reduceOnly === true,
    postOnly: o.postOnly === true,
    fee: toFee(o.fee),
    timestamp: rf.timestamp ?? positiveOrNull(o.timestamp),
    ackOnly: ack,
  };
}

const TradeSchema = z.object({
  id: z.string().min(1),
  order: z.string().nullish(),
  symbol: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  price: num,
  amount: num,
  cost: optNum,
  takerOrMaker: z.enum(['taker', 'maker']).nullish(),
  timestamp: num,
  fee: z.object({ cost: optNum, currency: z.string().nullish() }).nullish(),
});

export function toTrade(raw: unknown, symbols: SymbolMap): Trade {
  const t = parse(TradeSchema, raw, 'trade');
  const { symbol, market } = symbols.fromVenue(t.symbol);
  return {
    id: t.id,
    orderId: t.order ?? null,
    symbol,
    market,
    side: t.side,
    price: t.price,
    amount: t.amount,
    cost: t.cost ?? t.price * t.amount,
    fee: toFee(t.fee),
    maker: t.takerOrMaker === undefined || t.takerOrMaker === null ? null : t.takerOrMaker === 'maker',
    timestamp: t.timestamp,
  };
}

const PublicTradeSchema = z.object({
  id: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  price: num,
  amount: num,
  timestamp: num,
});

/** A public print (ccxt's fetchTrades / watchTrades); `symbol` is Bosun's, the caller asked for it. */
export function toPublicTrade(raw: unknown, symbol: string): PublicTrade {
  const t = parse(PublicTradeSchema, raw, 'public trade');
  return { id: t.id, symbol, price: t.price, amount: t.amount, side: t.side, timestamp: t.timestamp };
}

const FundingSchema = z.object({
  symbol: z.string().min(1),
  fundingRate: num,
  fundingTimestamp: optNum,
  nextFundingTimestamp: optNum,
  markPrice: optNum,
  indexPrice: optNum,
  timestamp: optNum,
  info,
});

export function toFundingRate(raw: unknown, symbols: SymbolMap, receivedAt: number): FundingRate {
  const f = parse(FundingSchema, raw, 'funding rate');
  return {
    symbol: symbols.fromVenue(f.symbol).symbol,
    rate: f.fundingRate,
    // ccxt binance: fundingTimestamp ← nextFundingTime (the settlement the current rate applies to).
    nextFundingTime: f.nextFundingTimestamp ?? f.fundingTimestamp,
    markPrice: f.markPrice,
    indexPrice: f.indexPrice,
    venueTs: f.timestamp,
    receivedAt,
  };
}

const PositionSchema = z.object({
  symbol: z.string().min(1),
  side: z.enum(['long', 'short']).nullish(),
  contracts: optNum,
  contractSize: optNum,
  entryPrice: optNum,
  markPrice: optNum,
  unrealizedPnl: optNum,
  liquidationPrice: optNum,
  leverage: optNum,
  timestamp: optNum,
  info,
});

/** An open position, or null for the flat entries ccxt lists for every symbol. */
export function toPosition(raw: unknown, symbols: SymbolMap): Position | null {
  const p = parse(PositionSchema, raw, 'position');
  const amount = Math.abs(p.contracts ?? 0) * (p.contractSize ?? 1);
  if (amount === 0 || p.side === null || p.side === undefined) return null;
  return {
    symbol: symbols.fromVenue(p.symbol).symbol,
    market: 'linear',
    side: p.side,
    amount,
    entryPrice: p.entryPrice,
    markPrice: p.markPrice,
    unrealizedPnl: p.unrealizedPnl,
    liquidationPrice: p.liquidationPrice,
    leverage: p.leverage,
    timestamp: p.timestamp,
  };
}

const positive = z.number().finite().positive();
const OhlcvSchema = z.tuple([
  z.number().int().nonnegative(),
  positive,
  positive,
  positive,
  positive,
  z.number().finite().nonnegative().nullish(),
]);

/** One ccxt OHLCV row `[openTime, open, high, low, close, volume]`; a candle with a non-positive price is garbage. */
export function toOhlcv(raw: unknown): Ohlcv {
  const [openTime, open, high, low, close, volume] = parse(OhlcvSchema, raw, 'candle');
  if (high < Math.max(open, close, low) || low > Math.min(open, close))
    throw new BadVenueResponse(`candle at ${openTime}: high/low do not bound open/close`);
  return { openTime, open, high, low, close, volume: volume ?? 0 };
}
