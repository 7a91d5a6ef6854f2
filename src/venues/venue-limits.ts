/**
 * Published venue limits and what each gateway call costs against them (reference/ccxt-venues.md §6, [doc]).
 * The RateBudget enforces 80% of these. Where sources disagree we keep the stricter figure: Binance spot
 * orders are 50/10 s and 160,000/day in current docs (100/10 s and 200,000/day in older ones).
 */
import type { BudgetCost, CallPriority, LimiterSpec } from './rate-budget.js';
import type { MarketKind } from './venue-gateway.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

export const BINANCE_LIMITS: readonly LimiterSpec[] = [
  { kind: 'window', name: 'spot_weight', limit: 6000, windowMs: MINUTE },
  { kind: 'window', name: 'spot_orders_10s', limit: 50, windowMs: 10 * SECOND },
  { kind: 'window', name: 'spot_orders_1d', limit: 160_000, windowMs: DAY },
  { kind: 'window', name: 'fapi_weight', limit: 2400, windowMs: MINUTE },
  { kind: 'window', name: 'fapi_orders_10s', limit: 300, windowMs: 10 * SECOND },
  { kind: 'window', name: 'fapi_orders_1m', limit: 1200, windowMs: MINUTE },
];

export type KrakenTier = 'starter' | 'intermediate' | 'pro';

const KRAKEN_TIERS: Record<KrakenTier, { callMax: number; callDecay: number; tradeMax: number; tradeDecay: number }> = {
  starter: { callMax: 15, callDecay: 0.33, tradeMax: 60, tradeDecay: 1 },
  intermediate: { callMax: 20, callDecay: 0.5, tradeMax: 125, tradeDecay: 2.34 },
  pro: { callMax: 20, callDecay: 1, tradeMax: 180, tradeDecay: 3.75 },
};

/** Kraken counts per API key (private calls) and per pair (trading engine); public calls ~1/s per IP. */
export function krakenLimits(tier: KrakenTier = 'starter'): LimiterSpec[] {
  const t = KRAKEN_TIERS[tier];
  return [
    { kind: 'decay', name: 'private_calls', max: t.callMax, decayPerSec: t.callDecay },
    { kind: 'decay', name: 'trading', max: t.tradeMax, decayPerSec: t.tradeDecay, perKey: true },
    { kind: 'window', name: 'public_calls', limit: 10, windowMs: 10 * SECOND },
  ];
}

export type GatewayOp =
  | 'loadMarkets'
  | 'fetchBalances'
  | 'fetchTickers'
  | 'fetchOrderBook'
  | 'createOrder'
  | 'cancelOrder'
  | 'cancelAllOrders'
  | 'fetchOrder'
  | 'fetchOpenOrders'
  | 'fetchClosedOrders'
  | 'fetchMyTrades'
  | 'fetchTrades'
  | 'fetchFundingRate'
  | 'fetchFundingRates'
  | 'fetchPositions'
  | 'fetchFundingPayments'
  | 'fetchFundingRateHistory'
  | 'configurePerp'
  | 'fetchOHLCV'
  | 'fetchTime';

export interface CostContext {
  market: MarketKind;
  /** Number of symbols asked for (tickers); undefined = all. */
  symbols?: number;
  depth?: number;
  hasSymbol?: boolean;
  /** Venue pair id for per-pair counters. */
  pair?: string;
  /** Candles asked for (fetchOHLCV: USDⓈ-M klines weigh by limit). */
  limit?: number;
}

/** Binance request weights (spot /api/v3, USD-M /fapi). */
export function binanceCost(op: GatewayOp, ctx: CostContext): BudgetCost {
  if (ctx.market === 'linear') {
    const w = (weight: number): BudgetCost => ({ units: { fapi_weight: weight } });
    switch (op) {
      case 'loadMarkets':
        return w(1);
      case 'fetchBalances':
        return w(5);
      case 'fetchTickers':
        // /fapi/v1/ticker/24hr takes no symbol list: ccxt reads them all and filters.
        return w(40);
      case 'fetchOrderBook':
        return w(fapiDepthWeight(ctx.depth ?? 100));
      case 'createOrder':
        return { units: { fapi_weight: 0, fapi_orders_10s: 1, fapi_orders_1m: 1 } };
      case 'cancelOrder':
      case 'cancelAllOrders':
        return w(1);
      case 'fetchOrder':
        return w(1);
      case 'fetchOpenOrders':
        return w(ctx.hasSymbol === true ? 1 : 40);
      case 'fetchClosedOrders':
        return w(5);
      case 'fetchMyTrades':
        return w(5);
      case 'fetchTrades':
        // GET /fapi/v1/aggTrades weighs 20.
        return w(20);
      case 'fetchFundingRate':
        return w(1);
      case 'fetchFundingRates':
        return w(10);
      case 'fetchTime':
        return w(1);
      case 'fetchFundingPayments':
        // GET /fapi/v1/income weighs 30.
        return w(30);
      case 'fetchFundingRateHistory':
        // GET /fapi/v1/fundingRate has its own 500 / 5 min / IP limit beside the weight; counted as 1.
        return w(1);
      case 'configurePerp':
        // POST /fapi/v1/leverage and /fapi/v1/marginType, 1 each.
        return w(2);
      case 'fetchPositions':
        // positionRisk 5, plus ccxt's one-off leverageBracket read (1) — charge both every time, it is cheap.
        return w(6);
      case 'fetchOHLCV': {
        const n = ctx.limit ?? 500;
        return w(n < 100 ? 1 : n < 500 ? 2 : n <= 1000 ? 5 : 10);
      }
    }
  }
  const w = (weight: number): BudgetCost => ({ units: { spot_weight: weight } });
  switch (op) {
    case 'loadMarkets':
      return w(20);
    case 'fetchBalances':
      return w(20);
    case 'fetchTickers': {
      const n = ctx.symbols;
      return w(n === undefined || n > 100 ? 80 : n > 20 ? 40 : 2);
    }
    case 'fetchOrderBook':
      return w(spotDepthWeight(ctx.depth ?? 100));
    case 'createOrder':
      return { units: { spot_weight: 1, spot_orders_10s: 1, spot_orders_1d: 1 } };
    case 'cancelOrder':
    case 'cancelAllOrders':
      return w(1);
    case 'fetchOrder':
      return w(4);
    case 'fetchOpenOrders':
      return w(ctx.hasSymbol === true ? 6 : 80);
    case 'fetchClosedOrders':
      return w(20);
    case 'fetchMyTrades':
      return w(20);
    case 'fetchTrades':
      // GET /api/v3/aggTrades weighs 4.
      return w(4);
    case 'fetchOHLCV':
      // GET /api/v3/klines weighs 2 whatever the limit.
      return w(2);
    case 'fetchTime':
      return w(1);
    case 'fetchFundingRate':
    case 'fetchFundingRates':
    case 'fetchPositions':
    case 'fetchFundingPayments':
    case 'fetchFundingRateHistory':
    case 'configurePerp':
      return w(0);
  }
}

/** Most candles one OHLCV request returns, and how far back the venue serves them at all (in candles). */
export interface OhlcvLimits {
  perRequest: number;
  /** Kraken keeps only the 720 most recent entries of any interval; undefined = as deep as asked. */
  depth: number | undefined;
  /** ccxt timeframes the venue serves. */
  timeframes: readonly string[];
}

/** Binance spot klines: 1,000 per request (USDⓈ-M 1,500), any depth; Kraken OHLC: the last 720 entries only. */
export function ohlcvLimits(venue: string, market: MarketKind = 'spot'): OhlcvLimits {
  if (venue === 'kraken')
    return { perRequest: 720, depth: 720, timeframes: ['1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '2w'] };
  return {
    perRequest: market === 'linear' ? 1500 : 1000,
    depth: undefined,
    timeframes: ['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w'],
  };
}

function spotDepthWeight(depth: number): number {
  return depth <= 100 ? 5 : depth <= 500 ? 25 : depth <= 1000 ? 50 : 250;
}

function fapiDepthWeight(depth: number): number {
  return depth <= 50 ? 2 : depth <= 100 ? 5 : depth <= 500 ? 10 : 20;
}

/** Kraken: private calls +1 (TradesHistory +2), AddOrder/CancelOrder free on the call counter but charged per pair. */
export function krakenCost(op: GatewayOp, ctx: CostContext): BudgetCost {
  switch (op) {
    case 'loadMarkets':
      return { units: { public_calls: 2 } };
    case 'fetchTickers':
    case 'fetchOrderBook':
    case 'fetchOHLCV':
    case 'fetchTrades':
    case 'fetchTime':
      return { units: { public_calls: 1 } };
    case 'createOrder':
      return ctx.pair === undefined ? { units: {} } : { units: { trading: 1 }, key: ctx.pair };
    case 'cancelOrder':
      // The per-pair penalty depends on the order's age (+8 under 5 s … +1 under 300 s): assume the worst.
      return ctx.pair === undefined ? { units: {} } : { units: { trading: 8 }, key: ctx.pair };
    case 'fetchMyTrades':
      return { units: { private_calls: 2 } };
    case 'fetchFundingRate':
    case 'fetchFundingRates':
    case 'fetchPositions':
    case 'fetchFundingPayments':
    case 'fetchFundingRateHistory':
    case 'configurePerp':
      return { units: {} };
    default:
      return { units: { private_calls: 1 } };
  }
}

/**
 * The shortest ticker-poll period that fits a venue's public limit with headroom. Kraken allows about one public
 * call per second per IP (8 per 10 s in the 80% budget, 6 of them for market data): a 1.25 s poll alone used
 * all 8, so the account's valuation tickers, loadMarkets and the scanner starved. 2 s uses 5.
 */
export const MIN_TICKER_POLL_MS: Readonly<Record<string, number>> = { binance: 0, kraken: 2_000 };

/**
 * The account refresh period per venue (balances + open orders, and Binance's positions). Kraken's starter
 * counter sustains 0.264 calls/s in the budget (15.8/min): a 10 s refresh (2 calls) took 12/min of it and left
 * reconciliation (5/run), the stop validator (2/run) and settlement lookups refused. 30 s takes 4/min.
 */
export function accountRefreshMs(venue: string, tier: KrakenTier = 'starter'): number {
  if (venue !== 'kraken') return 10_000;
  return { starter: 30_000, intermediate: 20_000, pro: 15_000 }[tier];
}

/**
 * The class a call belongs to unless its caller says otherwise (the account refresh asks through an `account`
 * view): orders and cancels first, then everything that settles or reconciles, market data last.
 */
export function priorityOf(op: GatewayOp): CallPriority {
  switch (op) {
    case 'createOrder':
    case 'cancelOrder':
    case 'cancelAllOrders':
      return 'order';
    case 'fetchTickers':
    case 'fetchOrderBook':
    case 'fetchTrades':
    case 'fetchFundingRate':
    case 'fetchFundingRates':
    case 'fetchOHLCV':
      return 'market';
    default:
      return 'settlement';
  }
}

/**
 * Which limiters a venue rate-limit answer stops: those the refused call charges. Binance `-1015` ("Too many
 * new orders") is the order count only; a weight 429 stops everything that spends that weight (orders too: an
 * order costs weight 1, and Binance answers it 429 as well).
 */
export function pauseTargets(cost: BudgetCost, reason: string): string[] {
  const names = Object.entries(cost.units)
    .filter(([, units]) => units > 0)
    .map(([name]) => name);
  if (/-1015|Too many new orders/i.test(reason)) return names.filter((n) => /orders/.test(n));
  return names;
}
