import { clientOrderId, parseClientOrderId, sanitizeNode } from '../domain/client-order-id.js';
import { AppError, errorMessage } from '../domain/errors.js';
import type { VenueId } from '../domain/ids.js';
import type { Fill } from '../domain/portfolio.js';
import { balanceDiffs } from '../domain/portfolio.js';
import { checkRails, type RailContext, type RailReason } from '../domain/rails.js';
import type { Logger } from '../logging/logger.js';
import type { TradingState } from '../machines/governance.machine.js';
import { type OrderStatusName, orderTransition, statusFromVenue, TERMINAL } from '../machines/order.machine.js';
import type { SignalEffect } from '../machines/symbol.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { JournalStore, OrderRecord, OrdersStore } from '../store/index.js';
import { type AllocationInput, intentFor, symbolBudgetUsdt, targetPositionUsdt } from '../strategies/allocator.js';
import type {
  OperatorOrderRequest,
  OperatorOrderResult,
  OrderView,
  ReconcileResult,
  ReconcileVenueResult,
} from '../supervisor/trading-port.js';
import type { MarketInfo, Order, Trade, VenueGateway } from '../venues/venue-gateway.js';
import { createExposureView, type ExposureView } from './exposure-view.js';
import type { LedgerBook, PositionOwner } from './ledger-book.js';

/**
 * The order path and the books behind it (DESIGN §5, §6): sizing a symbol's signal into an intent, the rails,
 * the durable intent, the hand-off to the gateway, the order's lifecycle, fills into the ledger, and
 * reconciliation against the venue. One engine serves every venue; it keeps at most one order in flight per
 * (venue, symbol, side).
 *
 * Fail closed everywhere: the trading state is checked again after the intent's commit and right before the
 * hand-off, so a kill acknowledged while an intent was being journaled stops it; a create whose outcome is unknown
 * is never re-sent, only looked up by clientOrderId; a balance the journal cannot explain halts the venue.
 */
export interface EngineVenue {
  id: VenueId;
  gateway: VenueGateway;
}

export interface EngineLimits {
  maxNotionalUsdt: number;
  maxSymbolExposureUsdt: number;
  maxVenueExposureUsdt: number;
  maxAssetExposureUsdt: number;
  equityFloorUsd: number;
  maxDrawdownPct: number;
  equityCooldownSec: number;
  orderCooldownSec: number;
}

export interface EngineInputs {
  /** Effective trading state per scope for a venue/symbol. */
  trading(venue: string, symbol: string): { global: TradingState; venue: TradingState; symbol: TradingState };
  limits(symbol: string): EngineLimits;
  policyAllowed(symbol: string): boolean;
  allocations(): AllocationInput;
  equityBreaker(): { tripped: boolean; reason: string };
  venueBreaker(venue: string): { tripped: boolean; reason: string };
  /** Guard state for an intent (`market` 'linear' for perpetuals: the funding guard applies to those only). */
  guards(venue: string, symbol: string, market?: 'spot' | 'linear'): { depegActive: boolean; fundingSpike: boolean };
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
  book: LedgerBook;
  inputs: EngineInputs;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  /** High-resolution clock (ms) for tick → order latency. */
  hr: () => number;
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
  /** Every fill applied, with the strategy of its order (`external` for a manual trade): auto-tune outcomes. */
  onFill?: (fill: Fill, strategy: string) => void;
  /**
   * The stop validator's server-side stops (DESIGN §8): reconciliation does not adopt them (the validator owns
   * them), a triggered stop's fills reduce the strategies' position, and a strategy sell first releases the stop
   * that locks the base it sells (spot venues lock a stop's quantity).
   */
  stops?: {
    owns(venue: string, order: { id: string | null; clientOrderId: string | null }): boolean;
    release(venue: string, symbol: string): Promise<void>;
  };
}

interface Intent {
  type?: 'market' | 'limit';
  /** Limit price (limit orders). */
  limitPrice?: number;
  /** Spot unless 'linear' (perpetual: reduce-only trims of the funding guard; no fills in the spot ledger). */
  market?: 'spot' | 'linear';
  venue: VenueId;
  symbol: string;
  side: 'buy' | 'sell';
  quote: number;
  price: number;
  strategy: string;
  reduceOnly: boolean;
  t0: number | null;
  reason: string;
}

type Submitted =
  | { status: 'accepted'; record: OrderRecord }
  | { status: 'rejected'; reason: string; message: string; record?: OrderRecord }
  | { status: 'unknown'; reason: string; message: string; record: OrderRecord };

const num = (v: unknown, d = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

export function toOrderView(r: OrderRecord): OrderView {
  return {
    clientOrderId: r.clientOrderId,
    venue: String(r.venue ?? ''),
    symbol: String(r.symbol ?? ''),
    side: r.side === 'sell' ? 'sell' : 'buy',
    strategy: String(r.strategy ?? ''),
    status: r.status,
    amount: num(r.amount),
    filled: num(r.filled),
    averagePrice: typeof r.averagePrice === 'number' ? r.averagePrice : null,
    quote: num(r.quote),
    venueOrderId: str(r.venueOrderId),
    reason: str(r.reason),
    createdAt: num(r.createdAt),
    updatedAt: r.updatedAt,
  };
}

/** Whose position an order's fills move (ledger-book `PositionOwner`); null: not Bosun's (operator, manual). */
function ownerOf(strategy: unknown): PositionOwner | null {
  if (strategy === undefined || strategy === 'operator' || strategy === 'external') return null;
  if (strategy === 'executor') return 'executor';
  if (strategy === 'depeg' || strategy === 'funding' || strategy === 'stop' || strategy === 'cutback') return 'guard';
  return 'strategies';
}

/**
 * The in-flight slot of an order: one per (venue, symbol, side) for the strategies together, and a separate one
 * for operator orders, so an operator's resting limit order does not silence a symbol's strategies.
 */
function slotOf(venue: string, symbol: string, side: string, strategy: string): string {
  return `${venue}|${symbol}|${side}|${strategy === 'operator' ? 'operator' : 'strategy'}`;
}

/** Rounds a base amount down to the market's step (never up: the notional cap is a ceiling). */
function roundToStep(amount: number, step: number): number {
  if (!(step > 0)) return amount;
  const n = Math.floor(amount / step + 1e-9);
  return Number((n * step).toFixed(12));
}

export function createTradingEngine(deps: TradingEngineDeps) {
  const { journal, orders, book, inputs, metrics, log, now } = deps;
  const venues = new Map(deps.venues.map((v) => [v.id as string, v]));
  const inflight = new Map<string, string>();
  /**
   * Latest price per venue, then symbol. Written on every tick (`notePrice`): two map lookups, no key string built
   * per tick.
   */
  const prices = new Map<string, Map<string, number>>();
  const priceOf = (venue: string, symbol: string): number | undefined => prices.get(venue)?.get(symbol);
  function setPrice(venue: string, symbol: string, price: number): void {
    let byVenue = prices.get(venue);
    if (!byVenue) {
      byVenue = new Map();
      prices.set(venue, byVenue);
    }
    byVenue.set(symbol, price);
  }
  let seq = 0;
  let accepting = false;
  let lastReconcileAt = 0;
  const reconciling = new Map<string, Promise<ReconcileVenueResult>>();
  const settling = new Set<string>();
  /** Venues whose last reconciliation failed (no new orders there until one succeeds). */
  const unreconciled = new Set<string>();
  /** Orders being resolved in the background (unknown outcome, or inside the venue's accept window). */
  const resolving = new Set<string>();
  /** Creates handed to a venue and not yet answered. */
  const handoffs = new Set<Promise<unknown>>();

  for (const r of orders.list()) {
    const p = parseClientOrderId(r.clientOrderId);
    if (p && p.node === sanitizeNode(deps.node)) seq = Math.max(seq, p.seq);
  }

  function market(venue: string, symbol: string, kind: 'spot' | 'linear' = 'spot'): MarketInfo | undefined {
    return venues.get(venue)?.gateway.markets(kind)[symbol];
  }
  const kindOf = (rec: OrderRecord): 'spot' | 'linear' => (rec.market === 'linear' ? 'linear' : 'spot');
  const slotSymbol = (rec: OrderRecord) =>
    kindOf(rec) === 'linear' ? `${String(rec.symbol)}:perp` : String(rec.symbol);

  /** USD prices by asset from the latest ticks (quote assets count 1: the depeg guard watches that). */
  function assetPrices(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [venue, bySymbol] of prices)
      for (const [symbol, p] of bySymbol) {
        const m = market(venue, symbol);
        if (m && out[m.base] === undefined) out[m.base] = p;
      }
    return out;
  }

  /**
   * Sizing and the exposure rails read this on every signal. It is a full valuation at the latest prices at most
   * every 250 ms, moved by every fill in between (exposure-view.ts): exact quantities without an O(assets)
   * revaluation per order.
   */
  const view = createExposureView();
  let viewAt = Number.NEGATIVE_INFINITY;
  function riskView(): ExposureView {
    const t = now();
    if (t - viewAt >= 250) {
      const px = assetPrices();
      view.reset(book.valuation(px), px);
      viewAt = t;
    }
    return view;
  }

  function exposures(venue: string, base: string) {
    return riskView().exposures(venue, base);
  }

  function reject(intent: Intent, reason: RailReason | string, message: string): Submitted {
    metrics.breakerRejections.inc({ reason });
    log.info(
      {
        venue: intent.venue,
        symbol: intent.symbol,
        side: intent.side,
        quote: intent.quote,
        reason,
        strategy: intent.strategy,
      },
      `order rejected: ${message}`,
    );
    return { status: 'rejected', reason, message };
  }

  async function persist(record: OrderRecord, entry: { type: string; [k: string]: unknown }): Promise<OrderRecord> {
    const [, saved] = await Promise.all([journal.append(entry), orders.put(record)]);
    return saved;
  }

  function update(
    rec: OrderRecord,
    patch: Partial<OrderRecord> & { status: string },
    entryType: string,
    extra: Record<string, unknown> = {},
  ) {
    const next = { ...rec, ...patch, updatedAt: now() } as OrderRecord;
    return persist(next, {
      type: entryType,
      clientOrderId: rec.clientOrderId,
      venue: rec.venue,
      symbol: rec.symbol,
      side: rec.side,
      status: next.status,
      filled: next.filled ?? 0,
      ...extra,
    });
  }

  /** The order path: rails → durable intent → re-check → hand-off → lifecycle. */
  async function submit(intent: Intent): Promise<Submitted> {
    const atEngine = intent.t0 === null ? 0 : deps.hr();
    let durableAt = atEngine;
    if (!accepting) return reject(intent, 'not_ready', 'boot recovery has not finished');

    const gw = venues.get(intent.venue);
    const kind = intent.market ?? 'spot';
    const m = market(intent.venue, intent.symbol, kind);
    if (!gw || !m?.active)
      return reject(intent, 'unknown_symbol', `${intent.symbol} is not tradable on ${intent.venue}`);
    // A perpetual has its own slot: a funding trim does not hold up the spot market of the same name.
    const key = slotOf(
      intent.venue,
      kind === 'linear' ? `${intent.symbol}:perp` : intent.symbol,
      intent.side,
      intent.strategy,
    );
    const refPrice = intent.type === 'limit' && intent.limitPrice ? intent.limitPrice : intent.price;
    const amount = roundToStep(intent.quote / refPrice, m.stepSize);
    const notional = amount * refPrice;
    const ex = exposures(intent.venue, m.base);
    const limits = inputs.limits(intent.symbol);
    const ctx: RailContext = {
      trading: inputs.trading(intent.venue, intent.symbol),
      limits,
      policyAllowed: inputs.policyAllowed(intent.symbol),
      minNotionalUsdt: Math.max(m.minNotional, m.minQty * refPrice),
      exposure: { symbolUsdt: ex.symbolUsdt, venueUsdt: ex.venueUsdt, assetUsdt: ex.assetUsdt },
      equityBreaker: inputs.equityBreaker(),
      venueBreaker: inputs.venueBreaker(intent.venue),
      guards: inputs.guards(intent.venue, intent.symbol, kind),
      inFlight: inflight.has(key),
      cooldownUntil: 0,
      now: now(),
      // The gateway enforces the request budget per operation itself (Kraken's AddOrder is free on the call
      // counter, so a busy private counter must not block orders): a local refusal comes back as a rejection
      // before anything is sent. The rail stays for callers that can measure order-budget pressure.
      ratePressure: 0,
    };
    const verdict = checkRails(
      {
        venue: intent.venue,
        symbol: intent.symbol,
        base: m.base,
        quote: m.quote,
        side: intent.side,
        notionalUsdt: notional > 0 ? notional : intent.quote,
        reduceOnly: intent.reduceOnly,
        price: refPrice,
      },
      ctx,
    );
    if (!verdict.ok) return reject(intent, verdict.reason, verdict.message);
    // Fail closed: a venue whose last reconciliation failed trades again only once one succeeds.
    if (unreconciled.has(intent.venue))
      return reject(intent, 'not_reconciled', `${intent.venue} has not been reconciled since its last failure`);
    if (!(amount > 0))
      return reject(intent, 'min_notional', `quote ${intent.quote} is below one step of ${intent.symbol}`);

    seq += 1;
    const cid = clientOrderId({
      node: deps.node,
      venue: intent.venue,
      symbol: intent.symbol,
      strategy: intent.strategy,
      seq,
    });
    inflight.set(key, cid);
    const createdAt = now();
    let record: OrderRecord = {
      clientOrderId: cid,
      venue: intent.venue,
      symbol: intent.symbol,
      side: intent.side,
      strategy: intent.strategy,
      status: 'intent',
      type: intent.type ?? 'market',
      limitPrice: intent.limitPrice ?? null,
      amount,
      filled: 0,
      averagePrice: null,
      quote: intent.quote,
      price: intent.price,
      reduceOnly: intent.reduceOnly,
      ...(kind === 'linear' ? { market: 'linear' } : {}),
      venueOrderId: null,
      reason: intent.reason,
      createdAt,
      updatedAt: createdAt,
    };
    try {
      // The record's own `type` is the order type (market/limit): spread first, or the entry is not an
      // `order.*` entry and never reaches orders.jsonl.
      record = await persist(record, { ...record, type: 'order.intent', orderType: record.type });
      if (intent.t0 !== null) durableAt = deps.hr();
    } catch (e) {
      inflight.delete(key);
      deps.notify(intent.venue, intent.symbol, {
        type: 'order.settled',
        side: intent.side,
        clientOrderId: cid,
        filled: false,
        at: now(),
      });
      throw e;
    }
    // Fail closed: a kill acknowledged while the intent was committing stops it here; it is never sent.
    const t = inputs.trading(intent.venue, intent.symbol);
    const worst = [t.global, t.venue, t.symbol];
    if (worst.includes('HALTED') || (!intent.reduceOnly && worst.includes('REDUCING'))) {
      record = await update(record, { status: 'rejected', reason: 'trading_halted' }, 'order.abandoned');
      finish(record, false);
      return reject(intent, 'trading_halted', 'trading was halted before the order was sent');
    }

    // The base a strategy sells may be locked by its own protective stop: release it first (the validator
    // re-protects what is left on its next pass). A failed release is a venue error: the sell is not sent.
    if (intent.side === 'sell' && deps.stops && intent.strategy !== 'operator') {
      try {
        await deps.stops.release(intent.venue, intent.symbol);
      } catch (e) {
        record = await update(record, { status: 'rejected', reason: 'stop_release_failed' }, 'order.abandoned');
        finish(record, false);
        return reject(intent, 'stop_release_failed', `could not release the protective stop: ${errorMessage(e)}`);
      }
    }
    const handoff = deps.hr();
    const pending = gw.gateway.createOrder({
      clientOrderId: cid,
      symbol: intent.symbol,
      side: intent.side,
      type: intent.type ?? 'market',
      amount,
      ...(intent.type === 'limit' && intent.limitPrice ? { price: intent.limitPrice } : {}),
      ...(kind === 'linear' && intent.reduceOnly ? { reduceOnly: true } : {}),
      market: kind,
    });
    metrics.ordersSubmitted.inc({ venue: intent.venue, side: intent.side });
    if (intent.t0 !== null) {
      metrics.tickToOrderMs.observe({ venue: intent.venue }, handoff - intent.t0);
      deps.onHandoff?.(intent.venue, handoff - intent.t0, {
        toEngineMs: atEngine - intent.t0,
        durableIntentMs: durableAt - atEngine,
      });
    }
    handoffs.add(pending);
    // The actor hears of its order only now, off the path to the venue: in a burst (every symbol's bar closes in
    // the same feed poll) 1,000 XState events before the commit delayed every later intent's hand-off by ~20 ms.
    // Nothing gates on it in time: the engine's own in-flight map (set above, synchronously) refuses a second
    // order for the slot; the actor's copy is for its cooldown bookkeeping and the inspector.
    deps.notify(intent.venue, intent.symbol, { type: 'order.placed', side: intent.side, clientOrderId: cid });
    const result = await pending.finally(() => handoffs.delete(pending));
    const answered = deps.hr();
    const sentAt = createdAt;
    if (result.status === 'accepted') {
      deps.onVenueResult?.(intent.venue, true);
      record = await applyVenueOrder(record, result.order, 'order.ack');
      if (intent.t0 !== null)
        deps.onAck?.(intent.venue, { tickToAckMs: deps.hr() - intent.t0, roundTripMs: answered - handoff });
      void settle(record);
      return { status: 'accepted', record };
    }
    deps.onVenueResult?.(intent.venue, false);
    if (result.status === 'rejected') {
      record = await update(record, { status: 'rejected', reason: result.error.reason.slice(0, 300) }, 'order.reject');
      finish(record, false);
      metrics.breakerRejections.inc({ reason: 'venue_rejected' });
      return { status: 'rejected', reason: 'venue_rejected', message: result.error.reason, record };
    }
    record = await update(
      record,
      { status: 'unknown', reason: result.error.reason.slice(0, 300), sentAt },
      'order.unknown',
    );
    void resolveLater(record);
    return { status: 'unknown', reason: 'outcome_unknown', message: result.error.reason, record };
  }

  /** Moves a record to what the venue says about the order (never backwards: the order machine decides). */
  async function applyVenueOrder(rec: OrderRecord, o: Order, entryType: string): Promise<OrderRecord> {
    let status = rec.status as OrderStatusName;
    let filled = num(rec.filled);
    const amount = num(rec.amount, o.amount);
    if (status === 'intent') ({ status, filled } = orderTransition(status, filled, amount, { type: 'SENT' }));
    if (status === 'submitted') ({ status, filled } = orderTransition(status, filled, amount, { type: 'ACK' }));
    if (!o.ackOnly) {
      const target = statusFromVenue(o.status, o.filled, o.amount || amount);
      if (status === 'unknown') {
        ({ status, filled } = orderTransition(status, filled, amount, {
          type: 'RESOLVED_FOUND',
          status: target,
          filled: o.filled,
        }));
      } else {
        if (o.filled > filled)
          ({ status, filled } = orderTransition(status, filled, amount, { type: 'FILL', filled: o.filled }));
        if (target === 'cancelled')
          ({ status, filled } = orderTransition(status, filled, amount, { type: 'CANCELLED' }));
        if (target === 'rejected') ({ status, filled } = orderTransition(status, filled, amount, { type: 'REJECT' }));
      }
    }
    if (status === rec.status && filled === num(rec.filled) && rec.venueOrderId === o.id) return rec;
    return update(
      rec,
      {
        status,
        filled,
        venueOrderId: o.id,
        averagePrice: o.average ?? (typeof rec.averagePrice === 'number' ? rec.averagePrice : null),
      },
      entryType,
      { venueOrderId: o.id, average: o.average },
    );
  }

  function finish(rec: OrderRecord, filled: boolean): void {
    const key = slotOf(String(rec.venue), slotSymbol(rec), String(rec.side), String(rec.strategy));
    if (inflight.get(key) === rec.clientOrderId) inflight.delete(key);
    deps.notify(String(rec.venue), String(rec.symbol), {
      type: 'order.settled',
      side: rec.side,
      clientOrderId: rec.clientOrderId,
      filled,
      at: now(),
    });
  }

  /** Fills of an order come from the venue's trades (exact amounts and fees), applied once by trade id. */
  async function settle(rec: OrderRecord): Promise<void> {
    if (settling.has(rec.clientOrderId)) return;
    settling.add(rec.clientOrderId);
    const gw = venues.get(String(rec.venue));
    try {
      let current = rec;
      for (let attempt = 0; attempt < 20 && gw; attempt++) {
        if (!TERMINAL.has(current.status as OrderStatusName)) {
          const o = await gw.gateway.fetchOrder({
            symbol: String(current.symbol),
            clientOrderId: current.clientOrderId,
            market: kindOf(current),
          });
          current = await applyVenueOrder(current, o, 'order.update');
        }
        if (num(current.filled) > 0) await applyTradesFor(current);
        if (TERMINAL.has(current.status as OrderStatusName)) break;
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2_000)));
      }
      if (TERMINAL.has(current.status as OrderStatusName)) finish(current, num(current.filled) > 0);
    } catch (e) {
      log.warn(
        { clientOrderId: rec.clientOrderId, err: errorMessage(e) },
        'settlement failed; reconciliation will finish it',
      );
      deps.onVenueResult?.(String(rec.venue), false);
    } finally {
      settling.delete(rec.clientOrderId);
    }
  }

  async function applyTradesFor(rec: OrderRecord): Promise<number> {
    const gw = venues.get(String(rec.venue));
    // A perpetual's fills change a position at the venue, not the spot ledger (the venue's positions are the truth).
    if (!gw || !rec.venueOrderId || kindOf(rec) === 'linear') return 0;
    const since = num(rec.createdAt) - 60_000;
    const trades = await gw.gateway.fetchMyTrades({ symbol: String(rec.symbol), since, market: 'spot' });
    // Only this order's trades, matched against this order: never a scan of every order in LMDB per fill.
    return applyTrades(
      String(rec.venue),
      trades.filter((t) => t.orderId === rec.venueOrderId),
      new Map([[rec.venueOrderId as string, rec]]),
    );
  }

  /** Applies venue trades to the ledger once each; unknown orders' trades are manual trades (applied, flagged). */
  async function applyTrades(
    venue: string,
    trades: readonly Trade[],
    /** The orders these trades may belong to, by venue id; default: every order of the venue (reconciliation). */
    known?: ReadonlyMap<string, OrderRecord>,
  ): Promise<number> {
    const byVenueId = new Map<string, OrderRecord>(known ?? []);
    if (!known)
      for (const r of orders.list())
        if (r.venue === venue && typeof r.venueOrderId === 'string') byVenueId.set(r.venueOrderId, r);
    const writes: Promise<unknown>[] = [];
    let n = 0;
    for (const t of [...trades].sort((a, b) => a.timestamp - b.timestamp || a.id.localeCompare(b.id))) {
      if (book.hasTrade(venue, t.id)) continue;
      const m = market(venue, t.symbol);
      if (!m) continue;
      const rec = t.orderId ? byVenueId.get(t.orderId) : undefined;
      // A triggered protective stop sells the strategies' position: its fill is theirs, not a manual trade.
      const stopFill =
        rec === undefined && t.orderId !== null && deps.stops?.owns(venue, { id: t.orderId, clientOrderId: null });
      const fill: Fill = {
        venue,
        tradeId: t.id,
        clientOrderId: rec?.clientOrderId ?? null,
        symbol: t.symbol,
        base: m.base,
        quote: m.quote,
        side: t.side,
        amount: t.amount,
        price: t.price,
        cost: t.cost,
        fee: t.fee,
        at: t.timestamp,
      };
      const w = book.apply(fill, stopFill === true ? 'guard' : ownerOf(rec?.strategy));
      if (!w) continue;
      n += 1;
      // The ledger already holds it; a view not yet built starts from the ledger, so it must not count it twice.
      if (viewAt > Number.NEGATIVE_INFINITY) view.applyFill(fill);
      writes.push(
        w,
        journal.append({
          type: 'order.fill',
          ...fill,
          external: rec === undefined && !stopFill,
          strategy: rec?.strategy ?? (stopFill ? 'stop' : 'external'),
        }),
      );
      deps.onFill?.(fill, rec?.strategy !== undefined ? String(rec.strategy) : stopFill ? 'stop' : 'external');
      if (rec === undefined && !stopFill)
        log.warn({ venue, tradeId: t.id, symbol: t.symbol }, 'manual trade on the venue applied to the ledger');
      else if (rec?.strategy === 'trend') metrics.trendTrades.inc();
    }
    await Promise.all(writes);
    return n;
  }

  /** An unknown create: look it up by clientOrderId (never re-send), a few times, then leave it to reconciliation. */
  async function resolveLater(rec: OrderRecord): Promise<void> {
    resolving.add(rec.clientOrderId);
    try {
      for (let attempt = 0; attempt < 12; attempt++) {
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 4_000)));
        const latest = orders.get(rec.clientOrderId) ?? rec;
        if (TERMINAL.has(latest.status as OrderStatusName)) return;
        const done = await resolveOne(latest).catch(() => false);
        if (done) return;
      }
    } catch (e) {
      // Fire-and-forget: a throw here (the store closed under a pending resolution at shutdown) was an unhandled
      // rejection. The order stays unknown in LMDB; boot recovery resolves it.
      log.warn({ err: errorMessage(e), clientOrderId: rec.clientOrderId }, 'unknown order: resolution abandoned');
    } finally {
      resolving.delete(rec.clientOrderId);
    }
  }

  async function resolveOne(rec: OrderRecord): Promise<boolean> {
    const gw = venues.get(String(rec.venue));
    if (!gw) return false;
    const r = await gw.gateway.resolveUnknown(rec.clientOrderId, {
      symbol: String(rec.symbol),
      market: kindOf(rec),
      sentAt: num(rec.createdAt),
    });
    const latest = orders.get(rec.clientOrderId) ?? rec;
    if (r.status === 'found') {
      const next = await applyVenueOrder(latest, r.order, 'order.resolved');
      void settle(next);
      return true;
    }
    if (r.status === 'not_found') {
      const next = await update(latest, { status: 'rejected', reason: 'not_at_venue' }, 'order.resolved');
      finish(next, false);
      return true;
    }
    return false;
  }

  async function reconcileVenue(venue: string): Promise<ReconcileVenueResult> {
    const gw = venues.get(venue);
    if (!gw) throw new AppError('NOT_FOUND', `no venue '${venue}'`);
    const out: ReconcileVenueResult = { fillsApplied: 0, ordersResolved: 0, ordersAdopted: 0, mismatches: [] };
    await gw.gateway.loadMarkets();
    // 1. every order Bosun thinks is open: resolve by clientOrderId.
    for (const rec of orders.listOpen()) {
      if (rec.venue !== venue) continue;
      // The order holds its slot until it is resolved: nothing else goes out on that side meanwhile.
      const slot = slotOf(venue, slotSymbol(rec), String(rec.side), String(rec.strategy));
      if (!inflight.has(slot)) inflight.set(slot, rec.clientOrderId);
      if (rec.status === 'intent' || rec.status === 'submitted' || rec.status === 'unknown') {
        // Inside the venue's accept window a lookup is not conclusive: keep resolving in the background (the
        // order keeps its slot) instead of holding readiness for up to 15 s.
        if (await resolveOne(rec)) out.ordersResolved += 1;
        else if (!resolving.has(rec.clientOrderId)) void resolveLater(rec);
      } else {
        const o = await gw.gateway.fetchOrder({
          symbol: String(rec.symbol),
          clientOrderId: rec.clientOrderId,
          market: kindOf(rec),
        });
        const next = await applyVenueOrder(rec, o, 'order.update');
        if (TERMINAL.has(next.status as OrderStatusName)) {
          out.ordersResolved += 1;
          finish(next, num(next.filled) > 0);
        }
      }
    }
    // 2. orders the venue has and Bosun does not: adopt them (the stop validator protects what they open).
    const known = new Set<string>();
    for (const r of orders.list()) {
      if (r.venue !== venue) continue;
      known.add(r.clientOrderId);
      if (typeof r.venueOrderId === 'string') known.add(`id:${r.venueOrderId}`);
    }
    // Binance charges 80 weight for every symbol's open orders at once and 6 per symbol: ask per symbol.
    const followed = new Set<string>(deps.symbols[venue] ?? []);
    for (const r of orders.list()) if (r.venue === venue) followed.add(String(r.symbol));
    const open: Order[] = [];
    if (venue === 'binance') {
      for (const sym of followed) if (market(venue, sym)) open.push(...(await gw.gateway.fetchOpenOrders(sym, 'spot')));
    } else open.push(...(await gw.gateway.fetchOpenOrders(undefined, 'spot')));
    for (const o of open) {
      const cidAtVenue = o.clientOrderId ?? o.venueClientOrderId;
      if ((cidAtVenue && known.has(cidAtVenue)) || known.has(`id:${o.id}`)) continue;
      if (deps.stops?.owns(venue, { id: o.id, clientOrderId: cidAtVenue })) continue;
      const cid = cidAtVenue ?? `ext-${venue}-${o.id}`;
      const rec: OrderRecord = {
        clientOrderId: cid,
        venue,
        symbol: o.symbol,
        side: o.side,
        strategy: 'external',
        status: statusFromVenue(o.status, o.filled, o.amount),
        type: o.type,
        amount: o.amount,
        filled: o.filled,
        averagePrice: o.average,
        quote: (o.price ?? 0) * o.amount,
        venueOrderId: o.id,
        reason: 'adopted',
        createdAt: o.timestamp ?? now(),
        updatedAt: now(),
      };
      await persist(rec, { type: 'order.adopted', ...rec });
      log.warn({ venue, clientOrderId: cid, symbol: o.symbol }, 'adopted an order the venue has and Bosun did not');
      out.ordersAdopted += 1;
    }
    // 3. trades since the ledger's cursor, then balances; repeat while the venue moves under us.
    const symbols = followed;
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await gw.gateway.fetchBalances('spot');
      const since = (book.ledger().venues[venue]?.lastTradeAt ?? 0) - 10 * 60_000;
      if (venue === 'kraken') {
        // Kraken returns every pair's trades in one call (and charges its private counter per call).
        const trades = await gw.gateway.fetchMyTrades({ since: Math.max(0, since), market: 'spot' });
        out.fillsApplied += await applyTrades(venue, trades);
      } else {
        for (const s of symbols) {
          if (!market(venue, s)) continue;
          const trades = await gw.gateway.fetchMyTrades({ symbol: s, since: Math.max(0, since), market: 'spot' });
          out.fillsApplied += await applyTrades(venue, trades);
        }
      }
      const after = await gw.gateway.fetchBalances('spot');
      const totals = (b: typeof after) => Object.fromEntries(Object.entries(b).map(([a, e]) => [a, e.total]));
      if (JSON.stringify(totals(before)) !== JSON.stringify(totals(after))) continue;
      const ledger = book.ledger().venues[venue]?.balances ?? {};
      const diffs = balanceDiffs(ledger, totals(after));
      out.mismatches = diffs.map((d) => `${d.asset}: ledger ${d.ledger} venue ${d.venue}`);
      break;
    }
    if (out.mismatches.length > 0) {
      log.error(
        { venue, mismatches: out.mismatches },
        'reconciliation cannot explain the venue balances: halting the venue',
      );
      await inputs.haltVenue(venue, 'reconcile_mismatch');
    }
    return out;
  }

  return {
    /** Latest price of a symbol on a venue (tick router or signal), if any. */
    price: priceOf,
    /** Latest price per (venue, symbol), from the tick router. */
    notePrice: setPrice,
    setAccepting(on: boolean): void {
      accepting = on;
    },
    accepting: () => accepting,
    inflightCount: () => inflight.size,
    /** Resolves once every create already handed to a venue has been answered (or after `timeoutMs`). */
    async quiesce(timeoutMs = 1_000): Promise<void> {
      if (handoffs.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...handoffs]),
        new Promise((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },

    /** A symbol actor's signal: size it (allocator), then the order path. */
    onSignal(e: SignalEffect): void {
      setPrice(e.venue, e.symbol, e.price);
      if (!accepting) return;
      const m = market(e.venue, e.symbol);
      if (!m) return;
      const equityUsd = riskView().equityUsd();
      const posBase = book.strategyPosition(e.venue, e.symbol);
      const current = posBase * e.price;
      const budget = symbolBudgetUsdt(
        inputs.allocations(),
        equityUsd,
        e.venue,
        [...venues.keys()],
        e.symbol,
        deps.symbols[e.venue] ?? [e.symbol],
        inputs.riskWeights?.(e.venue),
      );
      const scale = inputs.sizeScale?.(e.venue, e.symbol) ?? 1;
      const target = targetPositionUsdt(e.output.signal, budget * (Number.isFinite(scale) ? scale : 0), {
        quoteMultiplier: e.output.quoteMultiplier,
        longOnly: true,
      });
      const limits = inputs.limits(e.symbol);
      const d = intentFor(current, target, {
        minTradeUsdt: deps.minTradeUsdt,
        maxNotionalUsdt: limits.maxNotionalUsdt,
      });
      if (!d) return;
      if (inflight.has(slotOf(e.venue, e.symbol, d.side, e.output.strategy))) return;
      void submit({
        venue: e.venue as VenueId,
        symbol: e.symbol,
        side: d.side,
        quote: d.side === 'sell' ? Math.min(d.quoteUsdt, current) : d.quoteUsdt,
        price: e.price,
        strategy: e.output.strategy,
        reduceOnly: d.reduceOnly,
        t0: e.t0,
        reason: d.reason,
      }).catch((err: unknown) =>
        log.error({ err: errorMessage(err), venue: e.venue, symbol: e.symbol }, 'order path failed'),
      );
    },

    async submitOperator(req: OperatorOrderRequest): Promise<OperatorOrderResult> {
      if (!accepting) throw new AppError('NOT_READY', 'boot recovery has not finished');
      const price = await currentPrice(req.venue, req.symbol);
      if (req.type === 'limit' && !(req.price !== undefined && req.price > 0))
        throw new AppError('VALIDATION_FAILED', 'a limit order needs a price > 0');
      const r = await submit({
        ...(req.type === 'limit' ? { type: 'limit' as const, limitPrice: req.price } : {}),
        venue: req.venue,
        symbol: req.symbol,
        side: req.side,
        quote: req.quote,
        price,
        strategy: 'operator',
        reduceOnly: false,
        t0: null,
        reason: `operator:${req.actor}`,
      });
      if (r.status === 'accepted') return { status: 'accepted', order: toOrderView(r.record) };
      if (r.status === 'unknown')
        return { status: 'unknown', reason: r.reason, message: r.message, order: toOrderView(r.record) };
      return {
        status: 'rejected',
        reason: r.reason,
        message: r.message,
        order: r.record ? toOrderView(r.record) : undefined,
      };
    },

    /**
     * A strategy order that is not sized from a symbol actor's signal (event breakout, the executor): same path and
     * rails; a sell is capped at what its owner holds.
     */
    async submitStrategy(req: {
      venue: VenueId;
      symbol: string;
      side: 'buy' | 'sell';
      quote: number;
      strategy: string;
      reason: string;
    }): Promise<{ status: string; averagePrice: number | null; reason?: string }> {
      const price = await currentPrice(req.venue, req.symbol);
      const held =
        (ownerOf(req.strategy) === 'executor'
          ? book.executorPosition(req.venue, req.symbol)
          : book.strategyPosition(req.venue, req.symbol)) * price;
      // Spot is long-only: a sell only ever reduces what its owner holds (the executor's, or the strategies').
      const quote = req.side === 'sell' ? Math.min(req.quote, held) : req.quote;
      if (!(quote > 0)) return { status: 'rejected', averagePrice: null, reason: 'nothing_to_sell' };
      const r = await submit({ ...req, quote, price, reduceOnly: req.side === 'sell', t0: null });
      if (r.status === 'rejected') return { status: r.status, averagePrice: null, reason: r.reason };
      return {
        status: r.status,
        averagePrice: typeof r.record.averagePrice === 'number' ? r.record.averagePrice : null,
      };
    },

    /**
     * A guard's order (depeg exit, funding trim or hedge): the same path and rails as every order. `market`
     * 'linear' sends a reduce-only perpetual order at `price` (the mark); a spot sell is capped at what Bosun
     * holds for itself (strategies + executor) and is reduce-only.
     */
    async submitGuard(req: {
      venue: VenueId;
      symbol: string;
      side: 'buy' | 'sell';
      quote: number;
      strategy: string;
      reason: string;
      market?: 'spot' | 'linear';
      price?: number;
      reduceOnly?: boolean;
    }): Promise<{ status: string; reason?: string; clientOrderId?: string }> {
      const kind = req.market ?? 'spot';
      const price = req.price !== undefined && req.price > 0 ? req.price : await currentPrice(req.venue, req.symbol);
      let quote = req.quote;
      let reduceOnly = req.reduceOnly ?? false;
      if (kind === 'spot' && req.side === 'sell') {
        quote = Math.min(quote, book.ownedPosition(req.venue, req.symbol) * price);
        reduceOnly = true;
      }
      if (!(quote > 0)) return { status: 'rejected', reason: 'nothing_to_sell' };
      const r = await submit({
        venue: req.venue,
        symbol: req.symbol,
        side: req.side,
        quote,
        price,
        strategy: req.strategy,
        reduceOnly,
        market: kind,
        t0: null,
        reason: req.reason,
      });
      if (r.status === 'rejected') return { status: r.status, reason: r.reason };
      return { status: r.status, clientOrderId: r.record.clientOrderId };
    },

    async reconcileAll(): Promise<ReconcileResult> {
      const result: ReconcileResult = { fillsApplied: 0, venues: {}, at: now() };
      // Venues are independent: reconcile them side by side; a second call while one runs joins it.
      await Promise.all(
        [...venues.keys()].map(async (v) => {
          let p = reconciling.get(v);
          if (!p) {
            const started = deps.hr();
            p = reconcileVenue(v).finally(() => {
              reconciling.delete(v);
              log.debug({ venue: v, ms: Math.round(deps.hr() - started) }, 'reconciled');
            });
            reconciling.set(v, p);
          }
          try {
            const r = await p;
            result.venues[v] = r;
            result.fillsApplied += r.fillsApplied;
            unreconciled.delete(v);
          } catch (e) {
            unreconciled.add(v);
            log.warn(
              { venue: v, err: errorMessage(e) },
              'reconciliation failed: no new orders on this venue until it succeeds',
            );
            result.venues[v] = {
              fillsApplied: 0,
              ordersResolved: 0,
              ordersAdopted: 0,
              mismatches: [],
              error: errorMessage(e),
            };
          }
        }),
      );
      if (Object.values(result.venues).every((r) => r.error === undefined)) lastReconcileAt = now();
      return result;
    },
    lastReconcileAt: () => lastReconcileAt,
    unreconciledVenues: () => [...unreconciled],
    assetPrices,
    /**
     * Cancels Bosun's resting entry orders in a scope (cancels are allowed while halted, DESIGN §3); reduce-only
     * orders (stops, trims) stay: they protect positions.
     */
    async cancelOpen(scope: { venue?: string; symbol?: string } = {}): Promise<number> {
      let n = 0;
      for (const rec of orders.listOpen()) {
        if (scope.venue && rec.venue !== scope.venue) continue;
        if (scope.symbol && rec.symbol !== scope.symbol) continue;
        if (rec.reduceOnly === true || rec.strategy === 'external') continue;
        const gw = venues.get(String(rec.venue));
        if (!gw || rec.status === 'intent') continue;
        try {
          await gw.gateway.cancelOrder({ symbol: String(rec.symbol), clientOrderId: rec.clientOrderId });
          n += 1;
          void settle(rec);
        } catch (e) {
          log.warn({ clientOrderId: rec.clientOrderId, err: errorMessage(e) }, 'cancel failed');
        }
      }
      return n;
    },
  };

  /** The latest price seen for a symbol, else the venue's ticker (remembered). */
  async function currentPrice(venue: string, symbol: string): Promise<number> {
    const seen = priceOf(venue, symbol);
    if (seen !== undefined) return seen;
    const gw = venues.get(venue);
    if (!gw) throw new AppError('NOT_FOUND', `no venue '${venue}'`);
    const t = (await gw.gateway.fetchTickers([symbol]))[symbol];
    const p = t?.last ?? (t?.bid != null && t?.ask != null ? (t.bid + t.ask) / 2 : null);
    if (p === null || p === undefined || !(p > 0))
      throw new AppError('UNPROCESSABLE', `no price for ${symbol} on ${venue}`);
    setPrice(venue, symbol, p);
    return p;
  }
}

export type TradingEngine = ReturnType<typeof createTradingEngine>;
