/**
 * Public surface of src/venues (the simulator has its own, src/venues/sim/index.ts). The composition root calls
 * `createGateway` once per venue; everything else talks to the returned VenueGateway only.
 */
import type { VenueId } from '../domain/ids.js';
import { binanceQuirks } from './binance.quirks.js';
import { CcxtGateway } from './ccxt-gateway.js';
import { CompositeGateway } from './composite-gateway.js';
import { krakenQuirks } from './kraken.quirks.js';
import { type BudgetClock, type BudgetRefusal, RateBudget } from './rate-budget.js';
import { BINANCE_LIMITS, type KrakenTier, krakenLimits } from './venue-limits.js';

export type { ErrorKind, ErrorTag, VenueErrorInfo } from './error-classifier.js';
export { classifyVenueError, isVenueError, VenueError } from './error-classifier.js';
export { toKrakenClientId } from './kraken.quirks.js';
export {
  type BudgetClock,
  type BudgetRefusal,
  CALL_PRIORITIES,
  type CallPriority,
  PRIORITY_SHARE,
  RateBudget,
} from './rate-budget.js';
export type { MarketStream, MarketStreamHandlers } from './streams/market-stream.js';
export { STREAM_TIMING_DEFAULTS, type StreamStatus, type StreamTiming } from './streams/stream-runner.js';
export type { TradeStream, TradeStreamHandlers } from './streams/trade-stream.js';
export type { UserDataEvent, UserDataHandlers, UserDataStream } from './streams/user-data-stream.js';
export { createVenueStreams, type VenueStreams, type VenueStreamsOptions } from './streams/venue-streams.js';
export type * from './venue-gateway.js';
export { BINANCE_LIMITS, type KrakenTier, krakenLimits } from './venue-limits.js';
export { CcxtGateway, CompositeGateway };

export interface CreateGatewayOptions {
  mode: 'paper' | 'live';
  /** Paper mode: the simulator's base URL (must be loopback). */
  simBaseUrl?: string;
  apiKey?: string;
  secret?: string;
  /** Live Binance only. */
  testnet?: boolean;
  /** Live only: an explicit base URL replacing the venue's hosts (paths kept). */
  baseUrl?: string;
  timeoutMs?: number;
  /** Clock for receive timestamps and unknown-create accept windows (epoch ms). */
  now?: () => number;
  /**
   * Turns ccxt's own REST throttle on at this spacing (ms per cost unit). Off by default: the budget above is the
   * only pacer (see CcxtGateway's constructor).
   */
  rateLimitMs?: number;
  /** Kraken account tier for its counters (default starter). */
  krakenTier?: KrakenTier;
  /** Fraction of published limits the budget allows, ≤ 0.8 (default 0.8). */
  budgetFraction?: number;
  budgetClock?: BudgetClock;
  maxBudgetWaitMs?: number;
  settlementBudgetWaitMs?: number;
  /** Every local budget refusal (`engine_venue_local_refusals_total`, never a venue error). */
  onBudgetRefusal?: (r: BudgetRefusal) => void;
}

/** The gateway createGateway returns: a VenueGateway plus its parts for status pages and tests. */
export type BosunGateway = CompositeGateway;

/**
 * Builds the gateway for one venue: Binance = `binance` (spot) + `binanceusdm` (linear) sharing one budget;
 * Kraken = `kraken` (spot). Paper mode (the default everywhere) is rewritten to the simulator and guarded.
 */
export function createGateway(venue: VenueId, opts: CreateGatewayOptions): BosunGateway {
  const limits = venue === 'binance' ? BINANCE_LIMITS : krakenLimits(opts.krakenTier);
  const budget = new RateBudget({
    limits,
    ...(opts.budgetFraction === undefined ? {} : { fraction: opts.budgetFraction }),
    ...(opts.budgetClock === undefined ? {} : { clock: opts.budgetClock }),
    ...(opts.onBudgetRefusal === undefined ? {} : { onRefuse: opts.onBudgetRefusal }),
  });
  const { krakenTier: _t, budgetFraction: _f, budgetClock: _c, onBudgetRefusal: _r, ...common } = opts;
  const base = {
    ...common,
    budget,
  };
  const members =
    venue === 'binance'
      ? [
          new CcxtGateway({ ...base, quirks: binanceQuirks('spot') }),
          new CcxtGateway({ ...base, quirks: binanceQuirks('linear') }),
        ]
      : [new CcxtGateway({ ...base, quirks: krakenQuirks() })];
  return new CompositeGateway(venue, members, budget);
}
