/**
 * VenueGateway over one ccxt instance (DESIGN §7). Venue-independent: paper-mode URL rewriting and the loopback
 * guard, the request budget, zod-validated mapping to domain types, error classification, and the create path
 * that turns an unknown outcome into a lookup by clientOrderId instead of a retry. Venue specifics come from a
 * VenueQuirks (binance.quirks.ts, kraken.quirks.ts).
 */
import ccxt, { type Exchange } from 'ccxt';
import type { VenueId } from '../domain/ids.js';
import {
  toBalances,
  toFundingRate,
  toMarketInfo,
  toOhlcv,
  toOrderBook,
  toPosition,
  toPublicTrade,
  toTicker,
  toTrade,
} from './ccxt-mappers.js';
import { CcxtOrders } from './ccxt-orders.js';
import {
  BadVenueResponse,
  classifyVenueError,
  isLocalRefusal,
  localError,
  VenueError,
  type VenueErrorInfo,
  type VenueOp,
} from './error-classifier.js';
import { type GatewayConfigInput, parseGatewayConfig } from './gateway-config.js';
import { installFetchGuard, isLoopbackUrl, isSameOrigin } from './loopback-guard.js';
import type { CallPriority, RateBudget } from './rate-budget.js';
import { installJsonGuard } from './response-guard.js';
import {
  createProExchange,
  type ProExchangeOptions,
  type StreamTarget,
  type WsTokenCache,
} from './streams/pro-exchange.js';
import { marketKindOf, SymbolMap } from './symbol-map.js';
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
import { type CostContext, type GatewayOp, pauseTargets, priorityOf } from './venue-limits.js';
import type { VenueQuirks } from './venue-quirks.js';
import { pointExchangeAt } from './venue-urls.js';

export interface CcxtGatewayOptions extends GatewayConfigInput {
  quirks: VenueQuirks;
  /** Shared by every instance trading on the same account (Binance spot + USDⓈ-M). */
  budget: RateBudget;
  /** Clock for receive timestamps and the accept window of unknown creates. */
  now?: () => number;
}

/** How many times a settlement read refused by the venue for rate is asked again (see `run`). */
const RATE_RETRIES = 2;

export class CcxtGateway implements VenueGateway {
  readonly venue: VenueId;
  readonly marketKinds: readonly MarketKind[];
  readonly quirks: VenueQuirks;
  private readonly ex: Exchange;
  private readonly budget: RateBudget;
  private readonly now: () => number;
  private readonly maxBudgetWaitMs: number;
  private readonly settlementBudgetWaitMs: number;
  private readonly guard: { refused: () => number } | undefined;
  private symbolMap = SymbolMap.fromMarkets([]);
  private infos: Record<MarketKind, Readonly<Record<string, MarketInfo>>> = { spot: {}, linear: {} };
  private loading: Promise<void> | undefined;
  private loaded = false;
  /** The instance that owns the markets state; a priority view (`atPriority`) delegates to it. */
  private readonly base: CcxtGateway = this;
  /** Set on a priority view only: the class its calls are charged as (orders and cancels stay `order`). */
  private readonly priority: CallPriority | undefined;
  private offsetMs: number | undefined;
  /** A -1021 said our timestamps are off: measure the venue clock before the next call. */
  private clockStale = false;
  readonly orders: CcxtOrders;
  /** Where and how the streams' ccxt.pro instances are built (streams/pro-exchange.ts). */
  private readonly streamTarget: StreamTarget;
  private readonly streamConfig: Record<string, unknown>;

  constructor(opts: CcxtGatewayOptions) {
    const cfg = parseGatewayConfig(opts.quirks.ccxtId, opts);
    this.quirks = opts.quirks;
    this.venue = opts.quirks.venue;
    this.marketKinds = opts.quirks.marketKinds;
    this.budget = opts.budget;
    this.now = opts.now ?? Date.now;
    this.maxBudgetWaitMs = cfg.maxBudgetWaitMs;
    this.settlementBudgetWaitMs = cfg.settlementBudgetWaitMs;
    // ccxt's REST throttle is off: the budget (rate-budget.ts) charges every call before it goes, by the venue's
    // own limits, orders and cancels first. ccxt's leaky bucket is one FIFO queue under it in which every call
    // waits out the cost of the calls before it, so an order queued behind a read's debt: 3–4 ms a paper order
    // (the stream tick→order bench, ccxt's tokens at -3..-4 on each hand-off), and live, at ccxt's own spacing,
    // 800 ms behind Binance's all-symbol open orders (cost 16 × 50 ms) and 3 s behind any Kraken private read.
    // `rateLimitMs` turns it back on at that spacing (given to the constructor: a later ex.rateLimit is ignored).
    const config: Record<string, unknown> = {
      enableRateLimit: cfg.rateLimitMs !== undefined,
      timeout: cfg.timeoutMs,
    };
    if (cfg.rateLimitMs !== undefined) config.rateLimit = cfg.rateLimitMs;
    if (cfg.apiKey !== undefined) config.apiKey = cfg.apiKey;
    if (cfg.secret !== undefined) config.secret = cfg.secret;
    this.ex = this.quirks.createExchange(config);
    installJsonGuard(this.ex);
    const recvWindow = (this.ex.options as Record<string, unknown>).recvWindow;
    this.streamConfig = { ...config, ...(recvWindow === undefined ? {} : { options: { recvWindow } }) };
    this.streamTarget =
      cfg.mode === 'paper'
        ? { mode: 'paper', base: cfg.simBaseUrl! }
        : { mode: 'live', base: cfg.baseUrl, testnet: cfg.testnet };
    if (cfg.mode === 'paper') {
      pointExchangeAt(this.ex, cfg.simBaseUrl!);
      this.guard = installFetchGuard(this.ex, isLoopbackUrl, 'paper mode: loopback hosts only');
    } else if (cfg.baseUrl !== undefined) {
      const base = cfg.baseUrl;
      pointExchangeAt(this.ex, base);
      this.guard = installFetchGuard(this.ex, (u) => isSameOrigin(u, base), `live base URL ${base} only`);
    } else if (cfg.testnet) {
      this.quirks.useTestnet(this.ex);
    }
    this.orders = new CcxtOrders(this.quirks, this.now);
  }

  /**
   * The same gateway whose calls are charged to the budget as `priority` (the account refresh asks for the
   * same balances and open orders as reconciliation, at a lower priority). Shares the ccxt instance, markets
   * and pending creates.
   */
  atPriority(priority: CallPriority): CcxtGateway {
    return Object.create(this.base, { priority: { value: priority } }) as CcxtGateway;
  }

  private priorityFor(op: GatewayOp): CallPriority {
    const p = priorityOf(op);
    return p === 'order' ? p : (this.priority ?? p);
  }

  /**
   * How long a call may wait for budget. Settlement and reconciliation wait for the budget rather than fail: a
   * refused step of a reconciliation wasted the calls before it and its retry 5 s later spent them again, so on
   * Kraken's starter counter (0.264 calls/s in the budget) reconciliation never finished (issue 14).
   */
  private budgetWaitFor(op: GatewayOp): number {
    return this.priorityFor(op) === 'settlement'
      ? Math.max(this.maxBudgetWaitMs, this.settlementBudgetWaitMs)
      : this.maxBudgetWaitMs;
  }

  /** The ccxt instance, for tests and benches inside src/venues and test/venues only. */
  get exchange(): Exchange {
    return this.ex;
  }

  /** A ccxt.pro instance of this venue and account for one stream session, on this instance's markets. */
  private streamLive = false;
  /**
   * True while this account's user-data stream is live: order updates and fills arrive by it, so optional REST
   * follow-ups (Kraken's QueryOrders after an id-only AddOrder answer) are skipped.
   */
  get userStreamLive(): boolean {
    return this.base.streamLive;
  }
  set userStreamLive(on: boolean) {
    this.base.streamLive = on;
  }

  /** Kraken's WebSockets token, shared by this account's stream sessions (pro-exchange.ts). */
  readonly wsTokens: WsTokenCache = {};

  async createStreamExchange(keepAliveMs: number): Promise<Exchange> {
    await this.loadMarkets();
    return createProExchange({
      ccxtId: this.quirks.ccxtId as ProExchangeOptions['ccxtId'],
      config: this.streamConfig,
      target: this.streamTarget,
      markets: this.ex.markets,
      keepAliveMs,
      rest: this.ex,
      chargeRest: () => this.spend('fetchBalances', { market: this.kind() }),
      tokens: this.base.wsTokens,
    });
  }

  /** Requests the fetch guard refused so far (paper mode / base-URL override), undefined when unguarded. */
  refusedRequests(): number | undefined {
    return this.guard?.refused();
  }

  pressure(): number {
    return this.budget.pressure();
  }

  /** Venue clock minus ours (ms) as last measured; undefined before any measurement. */
  clockOffsetMs(): number | undefined {
    return this.base.offsetMs;
  }

  /** True after a -1021 until the venue clock is measured again. */
  clockSyncNeeded(): boolean {
    return this.base.clockStale;
  }

  /**
   * Measures the venue's clock (GET /time). Where ccxt corrects timestamps (`adjustForTimeDifference`, Binance:
   * signed requests are refused outside recvWindow) the correction is renewed too. Kraken's nonce only has to
   * grow, so its offset is measured and shown, never applied (a smaller correction would shrink the nonce).
   */
  async syncClock(): Promise<number> {
    const base = this.base;
    const ex = base.ex;
    const offset = await this.run('fetchTime', { market: this.kind() }, async () => {
      if (ex.options?.adjustForTimeDifference === true) return -Number(await ex.loadTimeDifference());
      const before = Date.now();
      const server = Number(await ex.fetchTime());
      return Math.round(server - (before + Date.now()) / 2);
    });
    base.offsetMs = offset;
    base.clockStale = false;
    return offset;
  }

  /** Folds the venue's usage headers from the last response into the budget. */
  observeUsage(): void {
    this.quirks.observe(this.ex, this.budget);
  }

  /** Classifies with venue refinements and the Retry-After header of a 429/418. */
  classify(e: unknown, op: VenueOp, opName: GatewayOp): VenueErrorInfo {
    if (e instanceof VenueError) return e.info;
    const info = this.quirks.refineError(classifyVenueError(e, op, this.now()), op, opName);
    if (info.tag === 'rate_limit' || info.tag === 'ban') {
      // ccxt stores the failing response's headers before raising, so this is the 429/418's own Retry-After;
      // it beats a "banned until" read from the message, which is on the venue's clock.
      const ra = Number(this.ex.last_response_headers?.['Retry-After'] ?? Number.NaN);
      if (Number.isFinite(ra) && ra >= 0) info.retryAfterMs = ra * 1000;
      this.holdOff(info, opName);
    }
    // -1021: our timestamp is outside recvWindow. The account refresh measures the venue clock again on its next
    // run (not here: a request behind the caller's back would look like a retry and race the caller's next one).
    if (info.tag === 'nonce' && this.ex.options?.adjustForTimeDifference === true) this.base.clockStale = true;
    return info;
  }

  /**
   * The venue refused for rate: stop charging the limiters this call spends on (the venue's "class": Binance
   * weight or order count, Kraken's call counter, public limit or per-pair counter) until its Retry-After, or
   * fill them when it gave none. Our own refusals (BudgetExhausted) change nothing.
   */
  private holdOff(info: VenueErrorInfo, opName: GatewayOp): void {
    if (isLocalRefusal(info)) return;
    const targets = pauseTargets(this.quirks.cost(opName, { market: this.kind(), pair: '*' }), info.reason);
    if (targets.length === 0) return;
    if (info.retryAfterMs !== undefined && info.retryAfterMs > 0) {
      this.budget.pause(targets, this.budget.now() + info.retryAfterMs);
    } else {
      this.budget.saturate(targets);
    }
  }

  /**
   * Spends budget, runs one venue call, and turns any failure into a VenueError. A settlement or reconciliation
   * read the venue refused for rate is asked again (at most RATE_RETRIES times) once the budget lets it: the
   * refusal paused or filled the limiters it charges, so the retry waits out the venue's Retry-After or its
   * counter's drain (Kraken: 3.8 s a call on the starter tier) within the settlement wait. Without it, a boot
   * after a restart, whose budget starts empty while the venue's counter still holds the last process's calls,
   * failed its reconciliation on the first refusal and refused every order `not_reconciled` until the next pass.
   */
  async run<T>(opName: GatewayOp, ctx: CostContext, fn: () => Promise<T>): Promise<T> {
    const priority = this.priorityFor(opName);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.budget.acquire(this.quirks.cost(opName, ctx), this.budgetWaitFor(opName), priority);
        return await fn();
      } catch (e) {
        const err = e instanceof VenueError ? e : new VenueError(this.venue, this.classify(e, 'read', opName), e);
        const again =
          priority === 'settlement' &&
          attempt < RATE_RETRIES &&
          err.info.tag === 'rate_limit' &&
          !isLocalRefusal(err.info);
        if (!again) throw err;
      } finally {
        this.observeUsage();
      }
    }
  }

  /** Spends budget for a call without waiting; false when the budget is short (optional follow-ups). */
  trySpend(opName: GatewayOp, ctx: CostContext): boolean {
    return this.budget.tryAcquire(this.quirks.cost(opName, ctx), this.priorityFor(opName)).ok;
  }

  /** Spends budget, waiting at most maxBudgetWaitMs (throws BudgetExhausted). */
  async spend(opName: GatewayOp, ctx: CostContext): Promise<void> {
    await this.budget.acquire(this.quirks.cost(opName, ctx), this.budgetWaitFor(opName), this.priorityFor(opName));
  }

  async loadMarkets(reload = false): Promise<void> {
    if (this.base !== this) return this.base.loadMarkets(reload); // a view must not shadow the markets state
    if (this.loaded && !reload) return;
    this.loading ??= this.run('loadMarkets', { market: this.kind() }, async () => {
      const list = Object.values(await this.ex.loadMarkets(reload)) as Array<Parameters<typeof marketKindOf>[0]>;
      const map = SymbolMap.fromMarkets(list);
      const infos: Record<MarketKind, Record<string, MarketInfo>> = { spot: {}, linear: {} };
      for (const m of list) {
        const kind = marketKindOf(m);
        if (kind === undefined || !this.marketKinds.includes(kind)) continue;
        const { symbol } = map.fromVenue(m.symbol);
        if (map.venueSymbol(symbol, kind) !== m.symbol) continue;
        try {
          infos[kind][symbol] = toMarketInfo(m, symbol, kind);
        } catch {
          // One malformed market must not take the venue down; it simply is not tradable.
        }
      }
      if (this.marketKinds.every((k) => Object.keys(infos[k]).length === 0)) {
        throw new VenueError(this.venue, {
          kind: 'retryable',
          code: 'BadResponse',
          tag: 'bad_response',
          reason: 'no usable markets',
        });
      }
      this.symbolMap = map;
      // Frozen and handed out as is: markets() is on the tick and order paths (a copy per call was O(markets),
      // 1,000 symbols made the price book's valuation O(n²)); a reload builds a new record.
      this.infos = { spot: Object.freeze(infos.spot), linear: Object.freeze(infos.linear) };
      this.loaded = true;
      // ccxt measured the venue clock inside loadMarkets when it corrects for it.
      if (this.ex.options?.adjustForTimeDifference === true) {
        this.offsetMs = -Number(this.ex.options.timeDifference ?? 0);
      }
    }).finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }

  markets(market?: MarketKind): Readonly<Record<string, MarketInfo>> {
    return this.infos[market ?? this.kind()];
  }

  /** The symbol map (after loadMarkets). */
  symbols(): SymbolMap {
    return this.symbolMap;
  }

  /** Default market kind of this instance (its first). */
  kind(market?: MarketKind): MarketKind {
    const k = market ?? this.marketKinds[0] ?? 'spot';
    if (!this.marketKinds.includes(k)) {
      throw new VenueError(
        this.venue,
        localError(
          'NotSupported',
          'unsupported',
          `${this.quirks.ccxtId} serves ${this.marketKinds.join(', ')}, not ${k}`,
        ),
      );
    }
    return k;
  }

  /** ccxt symbol for a Bosun symbol, loading markets first; VenueError(BadSymbol) when unlisted. */
  async venueSymbol(symbol: string, market?: MarketKind): Promise<string> {
    const kind = this.kind(market);
    await this.loadMarkets();
    const s = this.symbolMap.venueSymbol(symbol, kind);
    if (s === undefined) {
      throw new VenueError(
        this.venue,
        localError('BadSymbol', 'bad_request', `${symbol} (${kind}) is not listed at ${this.quirks.ccxtId}`),
      );
    }
    return s;
  }

  async fetchBalances(market?: MarketKind): Promise<Balances> {
    const kind = this.kind(market);
    return this.run('fetchBalances', { market: kind }, async () => toBalances(await this.ex.fetchBalance()));
  }

  async fetchTickers(symbols: readonly string[], market?: MarketKind): Promise<Record<string, Ticker>> {
    const kind = this.kind(market);
    await this.loadMarkets();
    // Unlisted (e.g. delisted) symbols are simply absent from the answer: one bad name must not blind the feed
    // to the other 999.
    const wanted = symbols.flatMap((s) => this.symbolMap.venueSymbol(s, kind) ?? []);
    if (wanted.length === 0) return {};
    const all = this.quirks.allTickersAbove !== undefined && wanted.length > this.quirks.allTickersAbove;
    return this.run('fetchTickers', { market: kind, ...(all ? {} : { symbols: wanted.length }) }, async () => {
      const raw = await this.ex.fetchTickers(all ? undefined : wanted);
      const at = this.now();
      const out: Record<string, Ticker> = {};
      for (const s of wanted) {
        const t = raw[s];
        if (t === undefined) continue;
        const ticker = toTicker(t, this.symbolMap, at);
        out[ticker.symbol] = ticker;
      }
      // Listed symbols asked for and none answered: a broken answer, not a quiet market.
      if (Object.keys(out).length === 0) throw new BadVenueResponse(`no ticker among ${wanted.length} asked`);
      return out;
    });
  }

  async fetchOrderBook(symbol: string, depth: number, market?: MarketKind): Promise<OrderBook> {
    const kind = this.kind(market);
    const s = await this.venueSymbol(symbol, kind);
    return this.run('fetchOrderBook', { market: kind, depth }, async () => {
      const book = toOrderBook(
        await this.ex.fetchOrderBook(s, this.quirks.depthParam(depth)),
        symbol,
        kind,
        this.now(),
      );
      return { ...book, bids: book.bids.slice(0, depth), asks: book.asks.slice(0, depth) };
    });
  }

  async fetchTrades(symbol: string, limit: number, market?: MarketKind): Promise<PublicTrade[]> {
    const kind = this.kind(market);
    const s = await this.venueSymbol(symbol, kind);
    const raw = await this.run('fetchTrades', { market: kind, hasSymbol: true }, () =>
      this.ex.fetchTrades(s, undefined, limit),
    );
    return this.mapList(raw, 'fetchTrades', (t) => toPublicTrade(t, symbol));
  }

  createOrder(req: CreateOrderRequest): Promise<CreateOrderResult> {
    return this.orders.create(this, req);
  }

  resolveUnknown(clientOrderId: string, hint?: ResolveHint): Promise<ResolveResult> {
    return this.orders.resolve(this, clientOrderId, hint);
  }

  cancelOrder(ref: OrderRef): Promise<Order | null> {
    return this.orders.cancel(this, ref);
  }

  async cancelAllOrders(symbol?: string, market?: MarketKind): Promise<number> {
    let total = 0;
    for (const kind of market === undefined ? this.marketKinds : [this.kind(market)]) {
      total += await this.orders.cancelAll(this, symbol, kind);
    }
    return total;
  }

  fetchOrder(ref: OrderRef): Promise<Order> {
    return this.orders.fetch(this, ref);
  }

  async fetchOpenOrders(symbol?: string, market?: MarketKind): Promise<Order[]> {
    const out: Order[] = [];
    for (const kind of market === undefined ? this.marketKinds : [this.kind(market)]) {
      out.push(...(await this.orders.open(this, symbol, kind)));
    }
    return out;
  }

  async fetchMyTrades(query: TradesQuery): Promise<Trade[]> {
    const out: Trade[] = [];
    for (const kind of query.market === undefined ? this.marketKinds : [this.kind(query.market)]) {
      const s = query.symbol === undefined ? undefined : await this.venueSymbol(query.symbol, kind);
      const raw = await this.run('fetchMyTrades', { market: kind, hasSymbol: s !== undefined }, () =>
        this.ex.fetchMyTrades(s, query.since, query.limit),
      );
      out.push(...this.mapList(raw, 'fetchMyTrades', (t) => toTrade(t, this.symbolMap)));
    }
    return out;
  }

  async fetchOHLCV(
    symbol: string,
    timeframe: string,
    since: number,
    limit: number,
    market?: MarketKind,
  ): Promise<Ohlcv[]> {
    const kind = this.kind(market);
    const s = await this.venueSymbol(symbol, kind);
    return this.run('fetchOHLCV', { market: kind, limit }, async () => {
      const rows = await this.ex.fetchOHLCV(s, timeframe, since, limit);
      return rows.map(toOhlcv);
    });
  }

  async fetchFundingRate(symbol: string): Promise<FundingRate> {
    const s = await this.venueSymbol(symbol, 'linear');
    return this.run('fetchFundingRate', { market: 'linear' }, async () =>
      toFundingRate(await this.ex.fetchFundingRate(s), this.symbolMap, this.now()),
    );
  }

  async fetchFundingRates(symbols?: readonly string[]): Promise<Record<string, FundingRate>> {
    this.kind('linear');
    const wanted =
      symbols === undefined ? undefined : await Promise.all(symbols.map((s) => this.venueSymbol(s, 'linear')));
    return this.run('fetchFundingRates', { market: 'linear' }, async () => {
      const raw = await this.ex.fetchFundingRates(wanted);
      const at = this.now();
      const out: Record<string, FundingRate> = {};
      for (const [s, f] of Object.entries(raw)) {
        if (wanted !== undefined && !wanted.includes(s)) continue;
        if (this.symbolMap.fromVenue(s).market !== 'linear') continue;
        const rate = toFundingRate(f, this.symbolMap, at);
        out[rate.symbol] = rate;
      }
      return out;
    });
  }

  async fetchPositions(symbols?: readonly string[]): Promise<Position[]> {
    if (!this.marketKinds.includes('linear')) return []; // a spot-only venue holds no positions
    const wanted =
      symbols === undefined ? undefined : await Promise.all(symbols.map((s) => this.venueSymbol(s, 'linear')));
    const raw = await this.run('fetchPositions', { market: 'linear' }, () => this.ex.fetchPositions(wanted));
    return this.mapList(raw, 'fetchPositions', (p) => toPosition(p, this.symbolMap)).filter(
      (p): p is Position => p !== null,
    );
  }

  async fetchFundingPayments(since: number): Promise<FundingPayment[]> {
    this.kind('linear');
    const raw = await this.run('fetchFundingPayments', { market: 'linear' }, () =>
      this.ex.fetchFundingHistory(undefined, since, 1000),
    );
    return this.mapList(raw, 'fetchFundingPayments', (r) => {
      const x = r as { id?: unknown; symbol?: unknown; amount?: unknown; code?: unknown; timestamp?: unknown };
      const amount = Number(x.amount);
      const timestamp = Number(x.timestamp);
      if (typeof x.symbol !== 'string' || !Number.isFinite(amount) || !Number.isFinite(timestamp))
        throw new TypeError('fetchFundingPayments: payment without symbol, amount or time');
      if (x.id === undefined || x.id === null) throw new TypeError('fetchFundingPayments: payment without an id');
      return {
        id: String(x.id),
        symbol: this.symbolMap.fromVenue(x.symbol).symbol,
        amount,
        asset: typeof x.code === 'string' ? x.code : 'USDT',
        timestamp,
      };
    }).sort((a, b) => a.timestamp - b.timestamp);
  }

  async fetchFundingRateHistory(symbol: string, since: number, limit: number): Promise<FundingRateRecord[]> {
    const s = await this.venueSymbol(symbol, 'linear');
    const raw = await this.run('fetchFundingRateHistory', { market: 'linear' }, () =>
      this.ex.fetchFundingRateHistory(s, since, limit),
    );
    return this.mapList(raw, 'fetchFundingRateHistory', (r) => {
      const x = r as { fundingRate?: unknown; timestamp?: unknown };
      const rate = Number(x.fundingRate);
      const fundingTime = Number(x.timestamp);
      if (!Number.isFinite(rate) || !Number.isFinite(fundingTime))
        throw new TypeError('fetchFundingRateHistory: a rate without a number or a time');
      return { symbol, fundingTime, rate };
    }).sort((a, b) => a.fundingTime - b.fundingTime);
  }

  async configurePerp(symbol: string, o: { leverage: number; marginMode: 'cross' | 'isolated' }): Promise<void> {
    const s = await this.venueSymbol(symbol, 'linear');
    await this.run('configurePerp', { market: 'linear' }, async () => {
      try {
        await this.ex.setMarginMode(o.marginMode, s);
      } catch (e) {
        // Binance -4046 "No need to change margin type": the mode is already the one asked for.
        if (!(e instanceof ccxt.MarginModeAlreadySet)) throw e;
      }
      await this.ex.setLeverage(o.leverage, s);
    });
  }

  /** Maps one answer; a bad shape becomes a VenueError (retryable bad_response). */
  mapOne<T>(raw: unknown, opName: GatewayOp, map: (item: unknown) => T): T {
    try {
      return map(raw);
    } catch (e) {
      throw new VenueError(this.venue, this.classify(e, 'read', opName), e);
    }
  }

  /** Maps a list answer; a list that is not an array, or any bad item, is a bad response for the whole call. */
  mapList<T>(raw: unknown, opName: GatewayOp, map: (item: unknown) => T): T[] {
    try {
      if (!Array.isArray(raw)) throw new TypeError(`${opName}: expected a list`);
      return raw.map(map);
    } catch (e) {
      throw new VenueError(this.venue, this.classify(e, 'read', opName), e);
    }
  }

  async close(): Promise<void> {
    await this.ex.close();
    const dispatcher = (this.ex as unknown as { fetchDispatcher?: { close(): Promise<void> } }).fetchDispatcher;
    await dispatcher?.close();
  }
}
