/**
 * What differs between venues behind one CcxtGateway (DESIGN §7: "quirks per venue live beside it"). Each
 * `*.quirks.ts` implements this for one ccxt exchange id; CcxtGateway holds the venue-independent logic.
 */
import type { Exchange } from 'ccxt';
import type { VenueId } from '../domain/ids.js';
import type { VenueErrorInfo, VenueOp } from './error-classifier.js';
import type { BudgetCost, RateBudget } from './rate-budget.js';
import type { CreateOrderRequest, MarketKind, OrderType } from './venue-gateway.js';
import type { CostContext, GatewayOp } from './venue-limits.js';

/** Arguments for ccxt `createOrder(symbol, type, side, amount, price, params)`. */
export interface CcxtOrderArgs {
  type: 'market' | 'limit';
  price: number | undefined;
  params: Record<string, unknown>;
}

/**
 * One of the venue's order books. Binance USDⓈ-M keeps conditional (stop/take-profit) orders in a separate
 * Algo book with its own ids and endpoints (ccxt routes them by `trigger: true`); Bosun tells them apart by an
 * id prefix so an id can never address an order in the wrong book.
 */
export interface OrderBookVariant {
  /** Prefix of Bosun order ids in this book ('' for the regular book). */
  prefix: string;
  /** Extra ccxt params that address this book. */
  params: Record<string, unknown>;
}

/** Fields read from a venue's raw order payload where ccxt's unified order loses or misreads them. */
export interface RawOrderFields {
  type?: OrderType;
  /** The client id of the order itself (Binance cancel answers put it in `origClientOrderId`). */
  clientOrderId?: string;
  timestamp?: number;
  /** Id prefix of the book the order lives in. */
  book?: string;
}

export interface VenueQuirks {
  readonly venue: VenueId;
  /** ccxt exchange id, for logs (`binanceusdm`). */
  readonly ccxtId: string;
  readonly marketKinds: readonly MarketKind[];
  /**
   * How long after sending a create a "not found" lookup is still inconclusive, because the venue may yet
   * accept the request (Binance: recvWindow plus its 1 s clock tolerance).
   */
  readonly acceptWindowMs: number;
  /** Binance cancels all only per symbol; Kraken's CancelAll ignores the symbol and reports a count. */
  readonly cancelAllScope: 'symbol_required' | 'global_only';
  /** Above this many symbols, ask for every ticker instead (same weight, no kilobyte-long URL). */
  readonly allTickersAbove?: number;
  /** The venue's order books; the first is the default (see OrderBookVariant). */
  readonly orderBooks: readonly OrderBookVariant[];

  /** The ccxt instance (a subclass where the venue needs one) built from constructor config. */
  createExchange(config: Record<string, unknown>): Exchange;
  /** Switches a live instance to the venue's testnet, or throws if the venue has none. */
  useTestnet(ex: Exchange): void;
  /** Why `clientOrderId` cannot be sent to this venue, or undefined if it can. */
  checkClientId(clientOrderId: string): string | undefined;
  /** The id the venue stores for Bosun's clientOrderId (identity at Binance, a UUID at Kraken). */
  venueClientId(clientOrderId: string): string;
  orderArgs(req: CreateOrderRequest, venueClientId: string): CcxtOrderArgs;
  /** Params that make ccxt fetchOrder/cancelOrder address an order by the venue client id. */
  clientIdParams(venueClientId: string): Record<string, unknown>;
  /** The order with this venue client id in one book (a ccxt order), or undefined when that book lacks it. */
  findByClientId(
    ex: Exchange,
    ccxtSymbol: string | undefined,
    venueClientId: string,
    book: OrderBookVariant,
  ): Promise<unknown>;
  /** Fields from the raw payload that ccxt's unified order loses. */
  rawOrderFields(info: unknown): RawOrderFields;
  /** Order-book depth the venue accepts for a wanted depth (Binance USDⓈ-M takes only fixed steps). */
  depthParam(depth: number): number;
  cost(op: GatewayOp, ctx: CostContext): BudgetCost;
  /** Adjusts a classification with venue knowledge ccxt lacks. */
  refineError(info: VenueErrorInfo, op: VenueOp, opName: GatewayOp): VenueErrorInfo;
  /** Folds the venue's own usage counters (response headers) into the budget after a call. */
  observe(ex: Exchange, budget: RateBudget): void;
  /** Count of canceled orders from a ccxt cancelAllOrders answer, when the venue reports one (Kraken). */
  cancelAllCount(result: unknown): number | undefined;
}

/** The single regular book most venues have. */
export const SINGLE_BOOK: readonly OrderBookVariant[] = [{ prefix: '', params: {} }];

/** Reads `obj[key]` of an unknown payload when it is a string or number. */
export function field(obj: unknown, key: string): string | number | undefined {
  if (obj === null || typeof obj !== 'object') return undefined;
  const v = (obj as Record<string, unknown>)[key];
  return typeof v === 'string' || typeof v === 'number' ? v : undefined;
}

/** Shared by both venues: ccxt's portable trigger keys, and never a price on market orders. */
export function portableOrderArgs(req: CreateOrderRequest): CcxtOrderArgs {
  const params: Record<string, unknown> = {};
  const limitish = req.type === 'limit' || req.type === 'stop_loss_limit' || req.type === 'take_profit_limit';
  // `stopLossPrice`/`takeProfitPrice` are the only trigger keys both venues translate: Kraken passes
  // `triggerPrice`/`stopPrice` through untranslated and the stop goes out as a plain market order.
  if (req.type === 'stop_loss' || req.type === 'stop_loss_limit') params.stopLossPrice = req.stopPrice;
  if (req.type === 'take_profit' || req.type === 'take_profit_limit') params.takeProfitPrice = req.stopPrice;
  if (req.postOnly === true) params.postOnly = true;
  if (req.reduceOnly === true) params.reduceOnly = true;
  // A price on a Binance spot MARKET order turns it into quoteOrderQty = amount × price: never send one.
  return { type: limitish ? 'limit' : 'market', price: limitish ? req.price : undefined, params };
}

/** Validates a create request against what every venue needs; returns the first problem, if any. */
export function checkOrderRequest(req: CreateOrderRequest, kinds: readonly MarketKind[]): string | undefined {
  const positive = (v: number | undefined) => v !== undefined && Number.isFinite(v) && v > 0;
  if (!kinds.includes(req.market)) return `market kind '${req.market}' is not served here (${kinds.join(', ')})`;
  if (!positive(req.amount)) return `amount must be a positive number, got ${req.amount}`;
  const needsPrice = req.type === 'limit' || req.type === 'stop_loss_limit' || req.type === 'take_profit_limit';
  if (needsPrice && !positive(req.price)) return `${req.type} needs a positive price`;
  if (!needsPrice && req.price !== undefined) return `${req.type} takes no price (use stopPrice for triggers)`;
  const needsStop = req.type !== 'market' && req.type !== 'limit';
  if (needsStop && !positive(req.stopPrice)) return `${req.type} needs a positive stopPrice`;
  if (!needsStop && req.stopPrice !== undefined) return `${req.type} takes no stopPrice`;
  if (req.postOnly === true && req.type !== 'limit') return 'postOnly applies to limit orders only';
  if (req.reduceOnly === true && req.market !== 'linear') return 'reduceOnly applies to linear (perpetual) orders only';
  return undefined;
}
