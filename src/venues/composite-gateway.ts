/**
 * One VenueGateway over several CcxtGateways that share an account, routed by market kind. Binance needs it:
 * ccxt `binance` serves spot and `binanceusdm` serves USDⓈ-M, and both spend the same per-account budget.
 * Calls without a market kind default to spot, except the sweeping ones (open orders, cancel-all, my trades),
 * which cover every kind — a kill switch that cancels only spot orders would be a bad surprise.
 */
import type { VenueId } from '../domain/ids.js';
import type { CcxtGateway } from './ccxt-gateway.js';
import { localError, VenueError } from './error-classifier.js';
import type { CallPriority, RateBudget } from './rate-budget.js';
import type {
  Balances,
  CreateOrderRequest,
  CreateOrderResult,
  FundingPayment,
  FundingRate,
  FundingRateRecord,
  MarketInfo,
  MarketKind,
  Ohlcv,
  Order,
  OrderBook,
  OrderRef,
  Position,
  PublicTrade,
  ResolveHint,
  ResolveResult,
  Ticker,
  Trade,
  TradesQuery,
  VenueGateway,
} from './venue-gateway.js';

/**
 * Waits for every member call before answering (or rethrowing the first failure), so no request of a failed
 * sweep is still in flight — or still queued in ccxt's throttle — after the caller has moved on.
 */
async function settleAll<T>(calls: Promise<T[]>[]): Promise<T[]> {
  const results = await Promise.allSettled(calls);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

export class CompositeGateway implements VenueGateway {
  readonly venue: VenueId;
  readonly members: readonly CcxtGateway[];
  private readonly byKind = new Map<MarketKind, CcxtGateway>();
  /** Market kinds the account may not use, with the reason (a spot-only key: no USDⓈ-M permission). */
  private readonly denied: Map<MarketKind, string>;

  constructor(
    venue: VenueId,
    members: readonly CcxtGateway[],
    readonly budget: RateBudget,
    /** Shared with the priority views: one account, one set of permissions. */
    denied: Map<MarketKind, string> = new Map(),
  ) {
    this.denied = denied;
    this.venue = venue;
    this.members = members;
    for (const m of members) for (const k of m.marketKinds) if (!this.byKind.has(k)) this.byKind.set(k, m);
  }

  /** The kinds this account can trade: a kind its key has no permission for drops out once the venue said so. */
  get marketKinds(): readonly MarketKind[] {
    return [...this.byKind.keys()].filter((k) => !this.denied.has(k));
  }

  /** Why `market` is out of service for this account (a spot-only key), undefined while it serves. */
  unavailable(market: MarketKind): string | undefined {
    return this.denied.get(market);
  }

  /**
   * A call on a kind served by its own member (Binance USDⓈ-M). A spot-only key gets 401 -2015 there while spot
   * works (Binance's "Enable Futures" permission): that must not read as a bad key, which halts the whole venue.
   * On an auth failure the spot member is asked once (its balances); if it answers, the kind is denied with the
   * reason, later calls skip it, and this one answers `fallback` (sweeps) or a local NotSupported error.
   */
  private async on<T>(market: MarketKind, call: () => Promise<T>, fallback?: () => T): Promise<T> {
    const denied = this.denied.get(market);
    if (denied !== undefined) {
      if (fallback) return fallback();
      throw new VenueError(this.venue, localError('PermissionDenied', 'unsupported', denied));
    }
    const m = this.byKind.get(market);
    const spot = this.byKind.get('spot');
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof VenueError) || e.info.tag !== 'auth' || spot === undefined || m === spot) throw e;
      try {
        await spot.fetchBalances('spot');
      } catch {
        throw e; // the key itself is refused: conn judges it (auth HALTED)
      }
      const reason = `futures_unavailable: the API key has no ${market} permission (${e.info.reason})`;
      this.denied.set(market, reason);
      if (fallback) return fallback();
      throw new VenueError(this.venue, localError('PermissionDenied', 'unsupported', reason));
    }
  }

  /** The member serving `market` (default spot); VenueError(NotSupported) when none does. */
  member(market: MarketKind = 'spot'): CcxtGateway {
    // Callers are async methods: a throw here becomes a rejected promise, never a synchronous throw.
    const m = this.byKind.get(market);
    if (m === undefined) {
      throw new VenueError(
        this.venue,
        localError('NotSupported', 'unsupported', `${this.venue} has no ${market} market`),
      );
    }
    return m;
  }

  private kinds(market: MarketKind | undefined): MarketKind[] {
    return market === undefined ? [...this.marketKinds] : [market];
  }

  async loadMarkets(reload = false): Promise<void> {
    await Promise.all(this.members.map((m) => m.loadMarkets(reload)));
  }

  markets(market: MarketKind = 'spot'): Readonly<Record<string, MarketInfo>> {
    return this.byKind.get(market)?.markets(market) ?? {};
  }

  async fetchBalances(market: MarketKind = 'spot'): Promise<Balances> {
    return this.on(market, () => this.member(market).fetchBalances(market));
  }

  async fetchTickers(symbols: readonly string[], market: MarketKind = 'spot'): Promise<Record<string, Ticker>> {
    return this.member(market).fetchTickers(symbols, market);
  }

  async fetchOrderBook(symbol: string, depth: number, market: MarketKind = 'spot'): Promise<OrderBook> {
    return this.member(market).fetchOrderBook(symbol, depth, market);
  }

  async fetchTrades(symbol: string, limit: number, market: MarketKind = 'spot'): Promise<PublicTrade[]> {
    return this.member(market).fetchTrades(symbol, limit, market);
  }

  async createOrder(req: CreateOrderRequest): Promise<CreateOrderResult> {
    const m = this.byKind.get(req.market);
    if (m === undefined) {
      return {
        status: 'rejected',
        error: localError('NotSupported', 'unsupported', `${this.venue} has no ${req.market} market`),
      };
    }
    const denied = this.denied.get(req.market);
    if (denied !== undefined)
      return { status: 'rejected', error: localError('PermissionDenied', 'unsupported', denied) };
    return m.createOrder(req);
  }

  async resolveUnknown(clientOrderId: string, hint?: ResolveHint): Promise<ResolveResult> {
    // The member that saw the create knows its symbol and send time; after a restart the hint routes it.
    const seen = this.members.find((m) => m.orders.isPending(clientOrderId));
    return (seen ?? this.member(hint?.market ?? 'spot')).resolveUnknown(clientOrderId, hint);
  }

  async cancelOrder(ref: OrderRef): Promise<Order | null> {
    return this.on(ref.market ?? 'spot', () => this.member(ref.market).cancelOrder(ref));
  }

  async cancelAllOrders(symbol?: string, market?: MarketKind): Promise<number> {
    let n = 0;
    for (const k of this.kinds(market))
      n += await this.on(
        k,
        () => this.member(k).cancelAllOrders(symbol, k),
        () => 0,
      );
    return n;
  }

  async fetchOrder(ref: OrderRef): Promise<Order> {
    return this.on(ref.market ?? 'spot', () => this.member(ref.market).fetchOrder(ref));
  }

  async fetchOpenOrders(symbol?: string, market?: MarketKind): Promise<Order[]> {
    return settleAll(
      this.kinds(market).map((k) =>
        this.on(
          k,
          () => this.member(k).fetchOpenOrders(symbol, k),
          () => [],
        ),
      ),
    );
  }

  async fetchMyTrades(query: TradesQuery): Promise<Trade[]> {
    return settleAll(
      this.kinds(query.market).map((k) =>
        this.on(
          k,
          () => this.member(k).fetchMyTrades({ ...query, market: k }),
          () => [],
        ),
      ),
    );
  }

  async fetchOHLCV(
    symbol: string,
    timeframe: string,
    since: number,
    limit: number,
    market?: MarketKind,
  ): Promise<Ohlcv[]> {
    return this.member(market).fetchOHLCV(symbol, timeframe, since, limit, market);
  }

  async fetchFundingRate(symbol: string): Promise<FundingRate> {
    return this.member('linear').fetchFundingRate(symbol);
  }

  async fetchFundingRates(symbols?: readonly string[]): Promise<Record<string, FundingRate>> {
    return this.member('linear').fetchFundingRates(symbols);
  }

  async fetchPositions(symbols?: readonly string[]): Promise<Position[]> {
    if (!this.byKind.has('linear')) return [];
    return this.on(
      'linear',
      () => this.member('linear').fetchPositions(symbols),
      () => [],
    );
  }

  async fetchFundingPayments(since: number): Promise<FundingPayment[]> {
    return this.byKind.has('linear') ? this.member('linear').fetchFundingPayments(since) : [];
  }

  async fetchFundingRateHistory(symbol: string, since: number, limit: number): Promise<FundingRateRecord[]> {
    return this.member('linear').fetchFundingRateHistory(symbol, since, limit);
  }

  async configurePerp(symbol: string, o: { leverage: number; marginMode: 'cross' | 'isolated' }): Promise<void> {
    return this.member('linear').configurePerp(symbol, o);
  }

  pressure(): number {
    return this.budget.pressure();
  }

  /** The largest venue clock offset any member measured (ms), undefined before any measurement. */
  clockOffsetMs(): number | undefined {
    let worst: number | undefined;
    for (const m of this.members) {
      const o = m.clockOffsetMs();
      if (o !== undefined && (worst === undefined || Math.abs(o) > Math.abs(worst))) worst = o;
    }
    return worst;
  }

  /** True when a member saw a -1021 since its last clock measurement. */
  clockSyncNeeded(): boolean {
    return this.members.some((m) => m.clockSyncNeeded());
  }

  /** Measures (and where ccxt corrects for it, renews) every member's venue clock offset. */
  async syncClock(): Promise<number> {
    await Promise.all(this.members.map((m) => m.syncClock()));
    return this.clockOffsetMs() ?? 0;
  }

  /** Every member's priority view, over the same budget (see CcxtGateway.atPriority). */
  atPriority(priority: CallPriority): CompositeGateway {
    return new CompositeGateway(
      this.venue,
      this.members.map((m) => m.atPriority(priority)),
      this.budget,
      this.denied,
    );
  }

  /** Requests refused by the members' fetch guards. */
  refusedRequests(): number {
    return this.members.reduce((n, m) => n + (m.refusedRequests() ?? 0), 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close()));
  }
}
