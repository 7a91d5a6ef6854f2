import { type AccountBook, createAccountBook, type LedgerView } from '../../src/actors/account-book.js';
import { createAllocationGuards } from '../../src/actors/allocation-guards.js';
import { createGuardOrders } from '../../src/actors/guard-orders.js';
import type { LedgerBook } from '../../src/actors/ledger-book.js';
import { createReducingScopes, type SystemReducingReason } from '../../src/actors/reducing-scopes.js';
import type { StopValidator } from '../../src/actors/stop-validator.actors.js';
import type { TradingEngine } from '../../src/actors/trading-engine.js';
import { createTradingPort } from '../../src/actors/trading-port.actors.js';
import type { RiskLimits } from '../../src/config/risk-limits.js';
import type { VenueId } from '../../src/domain/ids.js';
import { valueHoldings } from '../../src/domain/valuation.js';
import type { Logger } from '../../src/logging/logger.js';
import type { FundingPlan } from '../../src/machines/funding-guard.machine.js';
import type { GovernanceState } from '../../src/machines/governance.machine.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import type { KvStore, OrdersStore } from '../../src/store/index.js';
import type { TradingCommand } from '../../src/supervisor/runtime-port.js';
import type { TradingPort } from '../../src/supervisor/trading-port.js';
import type { Balances, VenueGateway } from '../../src/venues/venue-gateway.js';

/**
 * The parts of Bosun around the engine that the campaign's later invariants (I9–I12, I14) read, composed the way
 * trading.actors.ts, trading-hooks.ts and build-bosun.ts compose them:
 *
 * - the account book (`/status` balances and the `ledger_venue_drift` gauge) over the ledger view trading-hooks.ts
 *   builds, fed by the account actor's venue poll (the harness plays the poll: balances and tickers → summary);
 * - the `TradingPort` behind `GET /orders` (trading-port.actors.ts), with the harness's stop validator book;
 * - REDUCING set and cleared by the system (reducing-scopes.ts) and the guards' orders (guard-orders.ts: the
 *   depeg exit, the funding trim), over the harness's governance model.
 *
 * Kept apart from sut.ts so the engine's composition stays in one place; re-point it when these modules change.
 */
export interface ViewsDeps {
  venue: VenueId;
  engine: TradingEngine;
  book: LedgerBook;
  orders: OrdersStore;
  gateway: VenueGateway;
  limits: RiskLimits;
  minTradeUsdt: number;
  metrics: Metrics;
  log: Logger;
  /** The harness's governance model with each scope's reason (reducing-scopes.ts reads the reasons). */
  governance(): GovernanceState;
  /** Governance's `setTrading` (the harness applies it to its model and wakes the halt watch). */
  setTrading(cmd: TradingCommand): void;
  /** Whether a system REDUCING's cause is still there (the depeg guard has not re-armed, the spike lasts, …). */
  stillNeeded(reason: SystemReducingReason, key: string): boolean;
  /** The stop validator's book as the harness keeps it (it plays the validator). */
  stopValidator(): StopValidator;
  /** The incarnation's store (auto-cutback persists its multiplier there and restores it at boot). */
  kv: KvStore;
  now: () => number;
}

/**
 * Auto-cutback's restoration in the campaign: one healthy observation a second after the cut restores full size,
 * so a schedule of a few steps sees the system's REDUCING both set and cleared (production: 0.1 per 5 minutes).
 */
export const CAMPAIGN_CUTBACK = { stepMs: 1_000, stepUp: 1 } as const;

export interface SutViews {
  accountBook: AccountBook;
  ledgerView: LedgerView;
  port: TradingPort;
  /** The depeg exit (DEPEG_EXIT_RISK), as guards.actors.ts calls it; resolves to the sells sent. */
  depegExit(reason: string): Promise<number>;
  /** The funding guard's trim for one plan (guard-orders.ts `executeFunding`, as guards.actors.ts calls it). */
  fundingTrim(plan: FundingPlan): Promise<{ trimmed: boolean; hedged: boolean }>;
  /** The trading loop's 1 s review of the system's REDUCING scopes. */
  reviewReducing(): Promise<number>;
  /**
   * The trading loop's 1 s tick for auto-cutback (trading-loops.ts): observe the equity drawdown, enter global
   * REDUCING when the multiplier sits at its floor at the breaker's limit, review the system's scopes.
   */
  cutbackTick(drawdownPct: number): Promise<void>;
  /** Auto-cutback's size multiplier (the engine's `sizeScale` input) and whether it sits at its floor. */
  sizeScale(): number;
  cutbackAtFloor(): boolean;
  /** The account actor's poll (venue.actors.ts): the venue's balances valued at its tickers, into the book. */
  poll(balances: Balances, prices: Readonly<Record<string, number>>, at: number): void;
}

export function createViews(d: ViewsDeps): SutViews {
  const ledgerView: LedgerView = {
    balances: (venue) => d.book.balances(venue),
    valuation: () => d.book.valuation(d.engine.assetPrices()),
    markets: (venue) => (venue === d.venue ? d.gateway.markets('spot') : {}),
  };
  const accountBook = createAccountBook(d.metrics, () => ledgerView);
  const port = createTradingPort({
    engine: d.engine,
    orders: d.orders,
    stopValidators: new Map([[d.venue, d.stopValidator()]]),
    log: d.log,
    // GET /orders reads only the two above; the port's other routes are not exercised here.
    portfolio: undefined as never,
    breakers: undefined as never,
    ops: undefined as never,
    weights: undefined as never,
    weightsPath: '',
    resetAutoTune: undefined as never,
  });
  // trading.actors.ts's allocator guards, auto-cutback on (AUTO_CUTBACK_ENABLED), at the harness's drawdown limit.
  const allocation = createAllocationGuards({
    cutbackEnabled: true,
    riskParityEnabled: false,
    kv: d.kv,
    metrics: d.metrics,
    log: d.log,
    barMs: 60_000,
    maxDrawdownPct: d.limits.maxDrawdownPct,
    symbols: {},
    now: d.now,
    cutback: CAMPAIGN_CUTBACK,
  });
  const reducing = createReducingScopes({
    governance: () => d.governance(),
    setTrading: async (cmd) => d.setTrading(cmd),
    // As trading.actors.ts: auto-cutback's REDUCING lasts while the multiplier sits at its floor.
    stillNeeded: (reason, _scope, key) =>
      reason === 'auto_cutback' ? allocation.atFloor() : d.stillNeeded(reason, key),
    log: d.log,
  });
  const guards = createGuardOrders({
    engine: d.engine,
    book: d.book,
    venues: [{ id: d.venue, gateway: d.gateway }],
    limits: () => d.limits,
    minTradeUsdt: d.minTradeUsdt,
    reducing,
  });
  return {
    accountBook,
    ledgerView,
    port,
    depegExit: (reason) => guards.reduceUsdtExposure(reason),
    fundingTrim: (plan) => guards.executeFunding(d.venue, plan),
    reviewReducing: () => reducing.review(),
    async cutbackTick(drawdownPct) {
      // The breakers are not tripped in the campaign (the harness plays them OK): only the drawdown moves it.
      await allocation.observe({ at: d.now(), drawdownPct, tripped: false });
      if (allocation.reducingFor(drawdownPct)) await reducing.enter('global', '', 'auto_cutback');
      await reducing.review();
    },
    sizeScale: () => allocation.sizeScale(),
    cutbackAtFloor: () => allocation.atFloor(),
    poll(balances, prices, at) {
      const holdings = Object.entries(balances).map(([asset, e]) => ({ asset, ...e }));
      const v = valueHoldings(holdings, prices);
      const summary = {
        cashUsd: v.cashUsd,
        marketValueUsd: v.marketValueUsd,
        equityUsd: v.equityUsd,
        exposureUsd: v.exposureUsd,
        openOrders: 0,
        assets: holdings.filter((h) => h.total !== 0).length,
      };
      accountBook.update(d.venue, { summary, balances, at });
    },
  };
}
