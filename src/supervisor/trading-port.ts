import type { VenueId } from '../domain/ids.js';

/**
 * What the HTTP layer (and the CLI through it) needs from the trading pipeline: orders, the portfolio snapshot,
 * reconciliation, strategy weights and breaker resets. The trading engine implements it; http/ never reaches the
 * engine, the stores or the gateways directly (STYLE.md boundaries). Plain JSON in and out.
 */
export type OrderSideView = 'buy' | 'sell';

/** An operator order (`POST /orders`): goes through every rail, exactly like a strategy's intent. */
export interface OperatorOrderRequest {
  venue: VenueId;
  symbol: string;
  side: OrderSideView;
  /** Quote amount in the symbol's quote currency (USDT on Binance, USD on Kraken). */
  quote: number;
  /** `market` (default) or a resting `limit` order at `price`. */
  type?: 'market' | 'limit' | undefined;
  price?: number | undefined;
  /** X-Ops-Actor (or `ops`). */
  actor: string;
  /**
   * The request's Idempotency-Key and the hash of the request, journaled with the intent in one commit: a retry
   * after a crash finds that intent and gets its order, never a second one (DESIGN §9).
   */
  idempotency?: { key: string; hash: string } | undefined;
}

/**
 * One order as Bosun knows it (LMDB `orders`, mirrored to `orders.jsonl`), or a protective stop of the stop
 * validator (`kind: 'stop'`, from its own book) so `GET /orders` shows everything Bosun keeps at the venue.
 */
export interface OrderView {
  /** `order` (the order path's) or `stop` (the stop validator's server-side stop). */
  kind?: 'order' | 'stop';
  /** A stop's trigger price. */
  stopPrice?: number;
  clientOrderId: string;
  venue: string;
  symbol: string;
  side: OrderSideView;
  strategy: string;
  /** Lifecycle state: intent, submitted, acknowledged, partially_filled, filled, cancelled, rejected, unknown. */
  status: string;
  amount: number;
  filled: number;
  averagePrice: number | null;
  quote: number;
  venueOrderId: string | null;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
  /** A filled order's slippage against its arrival prices (bps, positive = cost); null until it is measured. */
  slippage?: SlippageView | null;
  /** `post_only` for a live maker order (MAKER_MODE=live), else absent. */
  execution?: string;
}

export interface SlippageView {
  /** Mid when the decision was made. */
  decisionMid: number;
  /** Mid when the order was handed to the venue. */
  sendMid: number | null;
  averagePrice: number;
  decisionBps: number;
  sendBps: number | null;
  liquidity: 'maker' | 'taker';
}

export type OperatorOrderResult =
  | { status: 'accepted'; order: OrderView }
  /** A rail or the venue refused it; nothing was left open. */
  | { status: 'rejected'; reason: string; message: string; order?: OrderView | undefined }
  /** Sent, outcome unknown: recovery resolves it by clientOrderId (never re-sent). */
  | { status: 'unknown'; reason: string; message: string; order: OrderView };

export interface OrdersQuery {
  limit: number;
  venue?: string | undefined;
  symbol?: string | undefined;
  /** `open` = not terminal. */
  open?: boolean | undefined;
}

export interface ReconcileVenueResult {
  fillsApplied: number;
  ordersResolved: number;
  ordersAdopted: number;
  /** Unexplained differences; non-empty means the venue was halted with reason `reconcile_mismatch`. */
  mismatches: string[];
  error?: string | undefined;
}

export interface ReconcileResult {
  fillsApplied: number;
  venues: Record<string, ReconcileVenueResult>;
  at: number;
}

export interface WeightsView {
  /** Normalised blend in force (sums to 1). */
  weights: Record<string, number>;
  /** What the file says. */
  raw: Record<string, number>;
}

export interface BreakerView {
  id: string;
  tripped: boolean;
  reason: string;
  since: number | null;
}

export interface TradingPort {
  submitOrder(req: OperatorOrderRequest): Promise<OperatorOrderResult>;
  /** Newest first. */
  listOrders(query: OrdersQuery): OrderView[];
  /** The portfolio snapshot (the same document as `state/portfolio.json`). */
  portfolio(): Record<string, unknown>;
  /** Runs reconciliation on every venue now; idempotent (a second run applies nothing new). */
  reconcile(actor: string): Promise<ReconcileResult>;
  weights(): WeightsView;
  /** Writes `ops/strategy_weights.json` durably and applies the blend from the next tick on. */
  setWeights(weights: Record<string, number>, actor: string): Promise<WeightsView>;
  breakers(): BreakerView[];
  /** Operator reset of a breaker (`breaker:binance:venue`, `breaker:equity`); the RiskRails.record_result(True). */
  resetBreaker(id: string, actor: string): Promise<BreakerView>;
  /** Trend auto-tune back to env defaults (deletes the state file). */
  resetAutoTune(actor: string): Promise<{ reset: boolean }>;
  /** Per venue: the stop validator's health and every position with its server-side stop (`GET /guards/stops`). */
  stops?(): StopsView[];
  /** Maker mode (MAKER_MODE): modes, shadow KPIs per venue and market, recent shadow results, live outcomes. */
  maker?(): MakerReport;
}

/** `GET /maker` (the engine's maker view, src/actors/maker/maker.ts). */
export interface MakerReport {
  modes: { spot: string; perp: string };
  timeoutSec: number;
  shadow: {
    summary: Array<{
      venue: string;
      market: string;
      orders: number;
      filled: number;
      fillRate: number;
      meanImprovementBps: number | null;
      meanAdverseBps: number | null;
      missed: number;
      meanMissedCostBps: number | null;
    }>;
    pending: Array<{ clientOrderId: string; postPrice: number | null; filled: boolean; endsAt: number }>;
    recent: Array<{ clientOrderId: string; filled: boolean }>;
  };
  live: { resting: string[]; outcomes: Record<string, number> };
}

export interface StopsView {
  venue: string;
  /** The validator actor's health; HALTED with `actor_unavailable` when it is not running. */
  health: { value: string; reason: string };
  passes: number;
  lastPassAt: number | null;
  missingTotal: number;
  placedTotal: number;
  /** Every position the validator protects, spot and perpetual, with its stop (null: unprotected). */
  positions: StopPositionView[];
  /** Every protective stop on record, spot and perpetual, each with the position it protects. */
  stops: ProtectiveStopView[];
}

/** Spot: base held (always long). Perp: Bosun's share of the USDⓈ-M position (one-way mode, long or short). */
export type StopMarket = 'spot' | 'perp';

export interface StopPositionView {
  market: StopMarket;
  symbol: string;
  side: 'long' | 'short';
  /** Base quantity (absolute). */
  qty: number;
  entryPrice: number | null;
  stop: {
    clientOrderId: string;
    generation: number;
    status: string;
    /** The closing side: sell below a long, buy above a short. */
    side: 'buy' | 'sell';
    qty: number;
    stopPrice: number;
    reduceOnly: boolean;
    venueOrderId: string | null;
    sentAt: number;
  } | null;
  unprotectedSince: number | null;
}

export interface ProtectiveStopView {
  market: StopMarket;
  symbol: string;
  side: 'buy' | 'sell';
  triggerPrice: number;
  amount: number;
  reduceOnly: boolean;
  status: string;
  clientOrderId: string;
  generation: number;
  venueOrderId: string | null;
  protects: { side: 'long' | 'short'; qty: number; entryPrice: number | null };
}
