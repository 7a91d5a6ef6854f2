import type { MakerModes } from '../../config/maker-mode.js';
import type { RiskLimits } from '../../config/risk-limits.js';
import type { VenueId } from '../../domain/ids.js';
import type { Fill } from '../../domain/portfolio.js';
import type { TradingState } from '../../domain/trading-state.js';
import type { Logger } from '../../logging/logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { JournalStore, KvStore, OrderRecord, OrdersStore } from '../../store/index.js';
import type { AllocationInput } from '../../strategies/allocator.js';
import type { TradeStream } from '../../venues/streams/trade-stream.js';
import type { MarketKind, VenueGateway } from '../../venues/venue-gateway.js';
import type { LedgerBook, PositionOwner } from '../ledger-book.js';
import type { PerpBook } from '../perp-book.js';
import type { Sleep } from '../retry.js';
import type { PerpSettings } from './perp-settlement.js';

/**
 * The types every part of the order path shares (DESIGN §5): what the engine is built from (`TradingEngineDeps`),
 * what it asks the rest of Bosun (`EngineInputs`), and the intent that travels sizing → rails → reservation →
 * journal → send → lifecycle → ledger.
 */
export interface EngineVenue {
  id: VenueId;
  gateway: VenueGateway;
}

/** The limits the rails enforce (env flags combined with `ops/policies.yaml`): one type, config's. */
export type EngineLimits = RiskLimits;

export type ScopeTrading = { global: TradingState; venue: TradingState; symbol: TradingState };

/** The trading state of each scope an order on (venue, symbol) passes; no governance view: all HALTED. */
export function scopeTrading(
  g:
    | {
        global: { state: TradingState };
        venues: Record<string, { state: TradingState }>;
        symbols: Record<string, { state: TradingState }>;
      }
    | undefined,
  venue: string,
  symbol: string,
): ScopeTrading {
  // Fail closed: no governance view means nothing trades.
  if (!g) return { global: 'HALTED', venue: 'HALTED', symbol: 'HALTED' };
  return {
    global: g.global.state,
    venue: g.venues[venue]?.state ?? 'ACTIVE',
    symbol: g.symbols[`${venue}:${symbol}`]?.state ?? 'ACTIVE',
  };
}

export interface EngineInputs {
  /** Effective trading state per scope for a venue/symbol. */
  trading(venue: string, symbol: string): ScopeTrading;
  limits(symbol: string): EngineLimits;
  policyAllowed(symbol: string): boolean;
  allocations(): AllocationInput;
  equityBreaker(): { tripped: boolean; reason: string };
  venueBreaker(venue: string): { tripped: boolean; reason: string };
  /** Guard state for an intent (`market` 'linear' for perpetuals: the funding guard applies to those only). */
  guards(venue: string, symbol: string, market?: MarketKind): { depegActive: boolean; fundingSpike: boolean };
  /** Auto-cutback's size multiplier in [floor, 1] (default 1). */
  sizeScale?(venue: string, symbol: string): number;
  /** Risk-parity weights across the venue's symbols, or undefined when risk parity is off. */
  riskWeights?(venue: string): Readonly<Record<string, number>> | undefined;
  /** Halts a venue durably (reconciliation found what it cannot explain). */
  haltVenue(venue: string, reason: string): Promise<void>;
}

export interface TradingEngineDeps {
  node: string;
  venues: EngineVenue[];
  symbols: Record<string, readonly string[]>;
  journal: JournalStore;
  orders: OrdersStore;
  /** The store's kv: the incarnations this state directory has used (clientOrderIds never repeat). */
  kv: KvStore;
  book: LedgerBook;
  /**
   * The perpetual ledger (perp-book.ts): when given, perpetual fills and funding payments enter it and the rails
   * count its positions; without it a perpetual order (a funding trim) settles at the venue only.
   */
  perps?: PerpBook;
  /** PERP_* settings: strategies on perpetuals, leverage, margin mode and the liquidation rail. */
  perp?: PerpSettings;
  inputs: EngineInputs;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  /** High-resolution clock (ms) for tick → order latency. */
  hr: () => number;
  /** Every wait of the order path (settlement polls, unknown-order lookups, boot retries); default setTimeout. */
  sleep?: Sleep;
  /** Draws the incarnation (default Math.random): the simulation campaign replays it from its seed. */
  random?: () => number;
  /**
   * How long a kill waits for creates already handed to a venue before it is acknowledged (default 6 s: the
   * gateway's 5 s request timeout and a margin). After it, whatever landed is cancelled as it is acknowledged.
   */
  sendTimeoutMs?: number;
  /** Tells a symbol actor about its orders (`order.placed`, `order.settled`). */
  notify: (venue: string, symbol: string, event: { type: string; [k: string]: unknown }) => void;
  /** Smallest position change worth an order (hysteresis). */
  minTradeUsdt: number;
  /** Venue outcome feed for the venue error-rate breaker. */
  onVenueResult?: (venue: string, ok: boolean) => void;
  /**
   * Tick → hand-off latency of each order (benchmarks read the raw figures; the histogram is always fed), and its
   * parts: `toEngineMs` from the tick to the engine taking the intent (bars, strategies, allocator, queueing),
   * `durableIntentMs` from there to the intent's durable commit (rails, the LMDB commit and its completion).
   */
  onHandoff?: (venue: string, ms: number, parts: { toEngineMs: number; durableIntentMs: number }) => void;
  /**
   * A tick-driven order acknowledged: `tickToAckMs` from the same t0 as `onHandoff` to the venue's accepting
   * answer recorded (`order.ack` in LMDB), `roundTripMs` the gateway's createOrder from hand-off to answer.
   */
  onAck?: (venue: string, ms: { tickToAckMs: number; roundTripMs: number }) => void;
  /** Maker mode per market and its timeout (MAKER_MODE, MAKER_TIMEOUT_SEC); absent: off everywhere. */
  maker?: {
    modes: MakerModes;
    timeoutMs: number;
    pollMs?: number;
    clock?: { now: () => number; sleep: (ms: number) => Promise<void> };
    /** A venue's public trade stream (the shadow's prints); absent: REST. */
    tradeStream?: (venue: string, market: MarketKind) => TradeStream | undefined;
  };
  /** Every fill applied, with the strategy of its order (`external` for a manual trade): auto-tune outcomes. */
  onFill?: (fill: Fill, strategy: string) => void;
  /** A perpetual position changed by a fill Bosun applied (the stop validator re-protects it). */
  onPerpFill?: (venue: string, symbol: string) => void;
  /**
   * The stop validator's server-side stops (DESIGN §8): reconciliation does not adopt them (the validator owns
   * them), a triggered stop's fills reduce the strategies' position, and a strategy sell first releases the stop
   * that locks the base it sells (spot venues lock a stop's quantity).
   */
  stops?: {
    owns(venue: string, order: { id: string | null; clientOrderId: string | null }): boolean;
    /**
     * A perpetual trade of no Bosun order: true when it is a triggered perpetual stop's fill (the stop's position's,
     * owner `stop`); the validator records the stop as triggered. Throws when the venue could not say.
     */
    perpStopFill?(
      venue: string,
      t: { symbol: string; orderId: string | null; clientOrderId: string | null; amount: number },
    ): Promise<boolean>;
    release(venue: string, symbol: string): Promise<void>;
  };
}

/** An order request of any origin, before sizing to the market's step (the order path's one input). */
export interface Intent {
  type?: 'market' | 'limit';
  /** Limit price (limit orders). */
  limitPrice?: number;
  /**
   * Spot unless 'linear' (perpetual: the strategies with PERP_STRATEGIES_ENABLED, the funding guard's trims and
   * hedge; never in the spot ledger, in the perp book when the engine has one).
   */
  market?: MarketKind;
  venue: VenueId;
  symbol: string;
  side: 'buy' | 'sell';
  quote: number;
  /** Exactly this base amount instead of quote / price (a perpetual's whole close, perp-intent.ts `perpClose`). */
  amount?: number;
  price: number;
  strategy: string;
  reduceOnly: boolean;
  t0: number | null;
  reason: string;
  /** Sent under this id instead of the next one (an operator order with an Idempotency-Key: its keyed id). */
  clientOrderId?: string;
  /** The operator's Idempotency-Key and request hash, journaled with the intent in one commit. */
  idempotency?: { key: string; hash: string } | undefined;
  /** A post-only limit order (maker mode live): the venue refuses or expires it rather than let it take. */
  postOnly?: boolean;
  /** A taker fallback: the clientOrderId of the maker order it replaces. */
  makerOf?: string;
}

export type Submitted =
  | { status: 'accepted'; record: OrderRecord }
  | { status: 'rejected'; reason: string; message: string; record?: OrderRecord }
  | { status: 'unknown'; reason: string; message: string; record: OrderRecord };

export const num = (v: unknown, d = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
export const str = (v: unknown) => (typeof v === 'string' ? v : null);

export const kindOf = (rec: OrderRecord): MarketKind => (rec.market === 'linear' ? 'linear' : 'spot');

/** A perpetual has its own slot: a funding trim does not hold up the spot market of the same name. */
export const slotSymbolOf = (symbol: string, kind: MarketKind) => (kind === 'linear' ? `${symbol}:perp` : symbol);

/** Whose position an order's fills move (ledger-book `PositionOwner`); null: not Bosun's (operator, manual). */
export function ownerOf(strategy: unknown): PositionOwner | null {
  if (strategy === undefined || strategy === 'operator' || strategy === 'external') return null;
  if (strategy === 'executor') return 'executor';
  if (strategy === 'funding-hedge') return 'hedge';
  if (strategy === 'depeg' || strategy === 'funding' || strategy === 'stop' || strategy === 'cutback') return 'guard';
  return 'strategies';
}
