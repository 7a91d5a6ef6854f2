/**
 * The matching engine shared by every venue and market: validates an order against the market's rules and
 * the account's funds or margin, sweeps the synthetic book for its aggressive part, rests the rest, and on
 * every price step fires stops and fills resting limits the price traded through. Funding is settled at each
 * funding boundary of the sim clock. Dialects translate requests in and results out; rejections carry a
 * generic reason that each dialect words in its venue's codes.
 */

import { clean, isMultiple } from '../../domain/precision.js';
import type { Account } from './accounts.js';
import { MAX_LEVERAGE } from './accounts.js';
import { availableMargin, positionOf, reduces, settleFunding } from './futures-ledger.js';
import type { MarketDef } from './instruments.js';
import type { Market } from './market.js';
import { sweep } from './order-book.js';
import type { OrderEventLog } from './order-events.js';
import {
  isOpen,
  isStopKind,
  krakenStyleId,
  type OrderKind,
  OrderStore,
  remainingQty,
  type Side,
  type SimOrder,
  type SimTrade,
  type TimeInForce,
} from './order-store.js';
import { feeAssetFor, holdFor, releaseAll, settleFill, spotBuyCost } from './settlement.js';
import { Tape } from './tape.js';

export type RejectReason =
  | 'price_filter'
  | 'lot_size'
  | 'notional'
  | 'insufficient_balance'
  | 'would_take'
  | 'would_trigger'
  | 'margin_insufficient'
  | 'reduce_only_rejected'
  | 'duplicate_client_order_id'
  | 'unknown_order'
  | 'max_num_orders'
  | 'invalid_leverage';

/** An order the venue refuses; the dialect turns `reason` into its own code and text. */
export class Rejection extends Error {
  override readonly name = 'Rejection';
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

export interface PlaceRequest {
  account: Account;
  market: MarketDef;
  side: Side;
  kind: OrderKind;
  venueType: string;
  clientOrderId: string;
  qty?: number;
  quoteQty?: number;
  price?: number;
  stopPrice?: number;
  postOnly?: boolean;
  tif?: TimeInForce;
  reduceOnly?: boolean;
  extra?: Record<string, string>;
  /** Binance refuses stops that would fire at once; Kraken fires them. */
  immediateTrigger: 'reject' | 'fire';
  /** Binance LIMIT_MAKER is rejected when it would take; Kraken post-only is accepted then canceled. */
  postOnlyCrossing: 'reject' | 'cancel';
  /** Fault `drop_stops`: a stop is answered as accepted but never stored. */
  dropStop?: boolean;
}

export const MAX_OPEN_ORDERS_PER_MARKET = 200;

/** What the user-data streams hear: an order booked, a fill, an order that ended (filled, canceled, expired). */
export type EngineEvent =
  | { kind: 'new'; order: SimOrder }
  | { kind: 'trade'; order: SimOrder; trade: SimTrade }
  | { kind: 'end'; order: SimOrder };

export class MatchingEngine {
  readonly store = new OrderStore();
  private seq = 0;
  private tradeSeq = 0;
  private tranSeq = 0;
  /** Accounts with perpetual positions, for funding. */
  accounts: () => Iterable<Account> = () => [];
  /** Every create received, with the account as it stood (order-events.ts); undefined: not recorded. */
  events: OrderEventLog | undefined;
  /** Binance's MAX_NUM_ORDERS filter (200 open orders per symbol); Kraken answers EOrder:Orders limit exceeded. */
  maxOpenOrdersPerMarket = MAX_OPEN_ORDERS_PER_MARKET;
  /** Grows on every change of orders, trades, balances or positions: the persistence writes when it moved. */
  version = 0;
  /** Every order event as it happens, for the user-data streams (ws/stream-hub.ts); set once by the simulator. */
  onEvent: (e: EngineEvent) => void = () => {};
  /** The public trade tape: every fill, and the market's synthetic flow (tape.ts). */
  readonly tape: Tape;

  constructor(
    private readonly market: Market,
    private readonly now: () => number,
    private readonly seed: number,
  ) {
    this.tape = new Tape(market, now);
  }

  /** Brings prices, stops, resting fills and funding up to the sim clock. Call before serving a request. */
  sync(): void {
    this.market.sync(this.now(), this.watched(), (k, t) => this.onStep(k, t));
    this.tape.sample();
  }

  reset(): void {
    this.store.clear();
    this.version++;
  }

  /** Id counters, for persistence. */
  counters(): { seq: number; tradeSeq: number; tranSeq: number } {
    return { seq: this.seq, tradeSeq: this.tradeSeq, tranSeq: this.tranSeq };
  }

  /** Restores the id counters after a restart, so no order, trade or income id is ever given twice. */
  restoreCounters(c: { seq: number; tradeSeq: number; tranSeq: number }): void {
    this.seq = c.seq;
    this.tradeSeq = c.tradeSeq;
    this.tranSeq = c.tranSeq;
  }

  place(r: PlaceRequest): SimOrder {
    if (this.events === undefined) return this.book(r);
    const e = this.events.arrive(
      {
        at: this.now(),
        venue: r.market.venue,
        account: r.account.id,
        market: r.market.kind === 'perp' ? 'perp' : 'spot',
        symbol: r.market.id,
        side: r.side,
        kind: r.kind,
        clientOrderId: r.clientOrderId,
        reduceOnly: r.reduceOnly === true,
        qty: r.qty,
        quoteQty: r.quoteQty,
        price: r.price,
        stopPrice: r.stopPrice,
      },
      r.account,
      this.store.openOrders(r.account),
    );
    try {
      const o = this.book(r);
      e.outcome = 'booked';
      e.venueOrderId = o.venueOrderId;
      return o;
    } catch (err) {
      e.reason = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  private book(r: PlaceRequest): SimOrder {
    const t = this.now();
    this.validate(r, t);
    const seq = ++this.seq;
    this.version++;
    const o: SimOrder = {
      seq,
      venueOrderId: r.market.venue === 'kraken' ? krakenStyleId('O', seq, this.seed) : String(seq),
      account: r.account,
      market: r.market,
      clientOrderId: r.clientOrderId,
      side: r.side,
      kind: r.kind,
      venueType: r.venueType,
      postOnly: r.postOnly === true,
      tif: r.tif ?? 'GTC',
      qty: r.qty,
      quoteQty: r.quoteQty,
      price: r.price,
      stopPrice: r.stopPrice,
      reduceOnly: r.reduceOnly === true,
      status: 'new',
      triggered: false,
      executedQty: 0,
      cumQuote: 0,
      fee: 0,
      feeAsset: feeAssetFor(r.market, r.side),
      createdAt: t,
      updatedAt: t,
      lockedAsset: undefined,
      lockedAmount: 0,
      tradeIds: [],
      reason: undefined,
      extra: { ...r.extra },
    };
    if (isStopKind(o.kind)) {
      if (r.dropStop === true) return o;
      const fires = this.triggers(o, this.market.fair(o.market, t));
      if (fires && r.immediateTrigger === 'reject')
        throw new Rejection('would_trigger', 'Stop price would trigger immediately.');
      this.hold(o, o.price ?? o.stopPrice ?? 0);
      this.store.add(o);
      this.onEvent({ kind: 'new', order: o });
      if (fires) this.fire(o);
      return o;
    }
    if (o.kind === 'limit' && o.postOnly && this.crosses(o)) {
      if (r.postOnlyCrossing === 'reject') throw new Rejection('would_take', 'Order would immediately match and take.');
      o.status = 'canceled';
      o.reason = 'Post only order';
      this.store.add(o);
      this.onEvent({ kind: 'new', order: o });
      this.onEvent({ kind: 'end', order: o });
      return o;
    }
    if (o.kind === 'limit') this.hold(o, o.price ?? 0);
    else this.checkMarketFunds(o);
    this.store.add(o);
    this.onEvent({ kind: 'new', order: o });
    this.execute(o);
    return o;
  }

  cancel(o: SimOrder, reason = 'User requested'): SimOrder {
    if (!isOpen(o)) throw new Rejection('unknown_order', 'Unknown order sent.');
    this.end(o, 'canceled', reason);
    return o;
  }

  setLeverage(a: Account, symbol: string, leverage: number): void {
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > MAX_LEVERAGE)
      throw new Rejection('invalid_leverage', `Leverage ${leverage} is not valid`);
    a.leverage.set(symbol, leverage);
    this.version++;
  }

  /** Marks account state changed outside an order (margin type): the state file is written again. */
  touch(): void {
    this.version++;
  }

  /** Mark price of a perpetual by id. */
  mark(symbol: string): number {
    const m = this.market.market('binance', 'perp', symbol);
    return m === undefined ? 0 : this.market.fair(m, this.now());
  }

  /** Initial margin held by the account's open perpetual orders that would grow its positions. */
  openOrderMargin(a: Account): number {
    let v = 0;
    for (const o of this.store.openOrders(a)) {
      if (o.market.kind !== 'perp' || o.reduceOnly) continue;
      v += (remainingQty(o) * (o.price ?? o.stopPrice ?? this.mark(o.market.id))) / a.leverageOf(o.market.id);
    }
    return clean(v);
  }

  private validate(r: PlaceRequest, t: number): void {
    const m = r.market;
    for (const p of [r.price, r.stopPrice]) {
      if (p === undefined) continue;
      if (!(p > 0) || !isMultiple(p, m.tickSize)) throw new Rejection('price_filter', 'Filter failure: PRICE_FILTER');
    }
    if (r.qty !== undefined && (r.qty < m.minQty || r.qty > m.maxQty || !isMultiple(r.qty, m.stepSize)))
      throw new Rejection('lot_size', 'Filter failure: LOT_SIZE');
    const ref = r.price ?? r.stopPrice ?? this.market.fair(m, t);
    const notional = r.quoteQty ?? (r.qty ?? 0) * ref;
    const reduceOnly = r.reduceOnly === true && m.kind === 'perp';
    if (notional < m.minNotional && !reduceOnly) throw new Rejection('notional', 'Filter failure: NOTIONAL');
    if (r.clientOrderId !== '' && this.store.openOrders(r.account).some((o) => o.clientOrderId === r.clientOrderId))
      throw new Rejection('duplicate_client_order_id', 'Duplicate order sent.');
    if (this.store.openOrders(r.account, m).length >= this.maxOpenOrdersPerMarket)
      throw new Rejection('max_num_orders', 'Filter failure: MAX_NUM_ORDERS');
    if (m.kind === 'perp') this.checkPerp(r, ref);
  }

  private checkPerp(r: PlaceRequest, ref: number): void {
    const pos = positionOf(r.account, r.market.id);
    if (r.reduceOnly === true) {
      if (!reduces(pos, r.side)) throw new Rejection('reduce_only_rejected', 'ReduceOnly Order is rejected.');
      return;
    }
    const qty = r.qty ?? (r.quoteQty ?? 0) / ref;
    const growing = reduces(pos, r.side) ? Math.max(0, qty - Math.abs(pos.qty)) : qty;
    const need = (growing * ref) / r.account.leverageOf(r.market.id);
    const free = availableMargin(r.account, (s) => this.mark(s), this.openOrderMargin(r.account));
    if (need > free) throw new Rejection('margin_insufficient', 'Margin is insufficient.');
  }

  /** Holds funds for a working spot order (limit, stop) at `price`; perpetual orders hold margin implicitly. */
  private hold(o: SimOrder, price: number): void {
    if (o.market.kind === 'perp' || o.qty === undefined) return;
    if (o.side === 'buy' && (o.kind === 'stop_market' || o.kind === 'tp_market')) return;
    const h = holdFor(o.market, o.side, o.qty, price);
    if (o.account.balance(h.asset).free + 1e-12 < h.amount)
      throw new Rejection('insufficient_balance', 'Account has insufficient balance for requested action.');
    o.account.lock(h.asset, h.amount);
    o.lockedAsset = h.asset;
    o.lockedAmount = h.amount;
  }

  private checkMarketFunds(o: SimOrder): void {
    if (o.market.kind === 'perp') return;
    const m = o.market;
    const a = o.account;
    const fills = this.quote(o);
    const enough =
      o.side === 'buy'
        ? a.balance(m.quote).free + 1e-9 >= (o.quoteQty ?? spotBuyCost(m, fills, false))
        : a.balance(m.base).free + 1e-12 >= (o.qty ?? fills.reduce((s, f) => s + f.qty, 0));
    if (!enough) throw new Rejection('insufficient_balance', 'Account has insufficient balance for requested action.');
  }

  /** The fills the order's aggressive part would get now. */
  private quote(o: SimOrder): { price: number; qty: number }[] {
    const book = this.market.book(o.market, this.now());
    let qty = o.qty === undefined ? undefined : remainingQty(o);
    if (o.reduceOnly && qty !== undefined) qty = Math.min(qty, Math.abs(positionOf(o.account, o.market.id).qty));
    const limit = o.kind === 'limit' || o.kind === 'stop_limit' || o.kind === 'tp_limit' ? o.price : undefined;
    return sweep({
      levels: o.side === 'buy' ? book.asks : book.bids,
      side: o.side,
      ...(qty === undefined ? {} : { qty }),
      ...(o.quoteQty === undefined || o.qty !== undefined ? {} : { quoteQty: o.quoteQty - o.cumQuote }),
      ...(limit === undefined ? {} : { limit }),
      step: o.market.stepSize,
    });
  }

  private crosses(o: SimOrder): boolean {
    const book = this.market.book(o.market, this.now());
    const best = o.side === 'buy' ? book.asks[0]?.price : book.bids[0]?.price;
    if (best === undefined || o.price === undefined) return false;
    return o.side === 'buy' ? o.price >= best : o.price <= best;
  }

  /** Takes liquidity for the order's aggressive part, then rests, expires or completes it. */
  private execute(o: SimOrder): void {
    const fills = this.quote(o);
    const filled = fills.reduce((s, f) => s + f.qty, 0);
    if (o.tif === 'FOK' && o.qty !== undefined && filled + 1e-12 < remainingQty(o)) {
      this.end(o, 'expired', 'FOK not fillable');
      return;
    }
    for (const f of fills) {
      this.market.take(o.market, o.side === 'buy' ? 'asks' : 'bids', f.price, f.qty);
      this.fill(o, f.price, f.qty, false);
    }
    if (o.qty === undefined) o.qty = o.executedQty;
    const resting = o.kind === 'limit' || o.kind === 'stop_limit' || o.kind === 'tp_limit';
    if (remainingQty(o) <= 1e-12 && o.executedQty > 0) this.end(o, 'filled');
    else if (!resting || o.tif !== 'GTC') this.end(o, 'expired', resting ? `${o.tif} remainder` : 'no more liquidity');
  }

  private fill(o: SimOrder, price: number, qty: number, maker: boolean): void {
    const t = this.now();
    const eff = settleFill(o, price, qty, maker, t);
    this.version++;
    o.executedQty = clean(o.executedQty + qty);
    o.cumQuote = clean(o.cumQuote + price * qty);
    o.fee = clean(o.fee + eff.fee);
    o.feeAsset = eff.feeAsset;
    o.status = remainingQty(o) <= 1e-12 ? 'filled' : 'partially_filled';
    o.updatedAt = t;
    const id = ++this.tradeSeq;
    o.tradeIds.push(id);
    const trade: SimTrade = {
      id,
      venueTradeId: o.market.venue === 'kraken' ? krakenStyleId('T', id, this.seed) : String(id),
      order: o,
      price,
      qty,
      quoteQty: clean(price * qty),
      fee: eff.fee,
      feeAsset: eff.feeAsset,
      maker,
      time: t,
      realizedPnl: eff.realizedPnl,
    };
    this.store.trades.push(trade);
    o.account.updateTime = t;
    this.tape.fill(trade);
    this.onEvent({ kind: 'trade', order: o, trade });
    if (o.status === 'filled') this.end(o, 'filled');
  }

  private end(o: SimOrder, status: 'filled' | 'canceled' | 'expired', reason?: string): void {
    this.version++;
    o.status = status;
    if (reason !== undefined) o.reason = reason;
    o.updatedAt = this.now();
    releaseAll(o);
    this.store.touch(o);
    this.onEvent({ kind: 'end', order: o });
  }

  private triggers(o: SimOrder, price: number): boolean {
    const s = o.stopPrice ?? 0;
    const stop = o.kind === 'stop_market' || o.kind === 'stop_limit';
    if (o.side === 'buy') return stop ? price >= s : price <= s;
    return stop ? price <= s : price >= s;
  }

  private fire(o: SimOrder): void {
    this.version++;
    o.triggered = true;
    // Binance USDⓈ-M: the algo order places a regular order under an id of its own (`actualOrderId`).
    if (o.market.kind === 'perp') {
      o.actualSeq = ++this.seq;
      this.store.indexActual(o);
    }
    o.updatedAt = this.now();
    if (o.kind === 'stop_market' || o.kind === 'tp_market') {
      if (o.market.kind === 'spot' && o.side === 'buy') {
        try {
          this.checkMarketFunds(o);
        } catch {
          this.end(o, 'expired', 'insufficient funds at trigger');
          return;
        }
      }
    }
    this.execute(o);
  }

  /** One price step: stale reduce-only orders end, stops fire, resting limits the price crossed fill, funding settles. */
  private onStep(_k: number, t: number): void {
    for (const o of this.store.allOpen()) {
      if (o.reduceOnly && o.market.kind === 'perp' && !reduces(positionOf(o.account, o.market.id), o.side)) {
        this.end(o, 'expired', 'reduce-only: no position to reduce');
        continue;
      }
      const p = this.market.fair(o.market, t);
      if (isStopKind(o.kind) && !o.triggered) {
        if (this.triggers(o, p)) this.fire(o);
        continue;
      }
      if (o.price === undefined) continue;
      if (o.side === 'buy' ? p <= o.price : p >= o.price) {
        let q = remainingQty(o);
        if (o.reduceOnly) q = Math.min(q, Math.abs(positionOf(o.account, o.market.id).qty));
        if (q > 0) this.fill(o, o.price, q, true);
        if (isOpen(o) && o.reduceOnly) this.end(o, 'expired', 'reduce-only: position closed');
      }
    }
    if (t % this.market.opts.fundingIntervalMs === 0) this.settleFunding(t);
  }

  private settleFunding(t: number): void {
    for (const a of this.accounts()) {
      for (const symbol of [...a.positions.keys()]) {
        const m = this.market.market('binance', 'perp', symbol);
        if (m === undefined) continue;
        settleFunding(a, symbol, this.market.fair(m, t), this.market.fundingRate(m, t, t), t, ++this.tranSeq);
        this.version++;
      }
    }
  }

  /** Assets that must step one by one: those of open orders and of open positions. */
  private watched(): Set<string> {
    const w = new Set<string>();
    for (const o of this.store.allOpen()) {
      w.add(o.market.base);
      w.add(o.market.quote);
    }
    for (const a of this.accounts())
      for (const symbol of a.positions.keys()) {
        const m = this.market.market('binance', 'perp', symbol);
        if (m !== undefined) {
          w.add(m.base);
          w.add(m.quote);
        }
      }
    return w;
  }
}
