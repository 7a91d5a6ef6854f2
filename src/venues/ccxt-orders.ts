/**
 * The order paths of CcxtGateway: create, resolve-unknown, fetch, cancel, cancel-all. The invariant (DESIGN §5):
 * a create whose outcome is unknown (network error, timeout, 5xx, unparseable answer) is settled by looking its
 * clientOrderId up at the venue — never by sending it again. A lookup that finds nothing is conclusive only once
 * the venue can no longer accept the original request (`acceptWindowMs`).
 */
import type { CcxtGateway } from './ccxt-gateway.js';
import { type OrderContext, toOrder } from './ccxt-mappers.js';
import { localError, VenueError, type VenueErrorInfo } from './error-classifier.js';
import type {
  CreateOrderRequest,
  CreateOrderResult,
  MarketKind,
  Order,
  OrderRef,
  ResolveHint,
  ResolveResult,
} from './venue-gateway.js';
import { checkOrderRequest, type OrderBookVariant, type VenueQuirks } from './venue-quirks.js';

interface PendingCreate {
  symbol: string;
  market: MarketKind;
  sentAt: number | undefined;
}

/** Bounded so a long-running process does not grow without limit; old entries are only a convenience. */
const MAX_REMEMBERED = 10_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
}

const isNotFound = (e: unknown) => e instanceof VenueError && e.info.tag === 'not_found';

export class CcxtOrders {
  /** Creates whose outcome is unknown, by Bosun clientOrderId. */
  private readonly pending = new Map<string, PendingCreate>();
  /** Venue client id → Bosun clientOrderId (Kraken's UUIDs are one-way). */
  private readonly bosunIds = new Map<string, string>();

  constructor(
    private readonly quirks: VenueQuirks,
    private readonly now: () => number,
  ) {}

  /** Mapping context for orders read back from the venue. */
  context(gw: CcxtGateway, sent?: OrderContext['sent']): OrderContext {
    return {
      symbols: gw.symbols(),
      bosunClientId: (v) => this.bosunIds.get(v) ?? null,
      raw: (info) => this.quirks.rawOrderFields(info),
      ...(sent === undefined ? {} : { sent }),
    };
  }

  /** True while a create with this clientOrderId awaits resolution here. */
  isPending(clientOrderId: string): boolean {
    return this.pending.has(clientOrderId);
  }

  private venueClientId(clientOrderId: string): string {
    const v = this.quirks.venueClientId(clientOrderId);
    remember(this.bosunIds, v, clientOrderId);
    return v;
  }

  /** The book an order id belongs to and the venue's own id. */
  private splitId(id: string): { rawId: string; book: OrderBookVariant } {
    const books = this.quirks.orderBooks;
    const book = books.find((b) => b.prefix !== '' && id.startsWith(b.prefix)) ??
      books[0] ?? { prefix: '', params: {} };
    return { rawId: id.slice(book.prefix.length), book };
  }

  async create(gw: CcxtGateway, req: CreateOrderRequest): Promise<CreateOrderResult> {
    const problem = checkOrderRequest(req, gw.marketKinds) ?? this.quirks.checkClientId(req.clientOrderId);
    if (problem !== undefined)
      return { status: 'rejected', error: localError('InvalidRequest', 'bad_request', problem) };
    const vcid = this.venueClientId(req.clientOrderId);
    let ccxtSymbol: string;
    try {
      ccxtSymbol = await gw.venueSymbol(req.symbol, req.market);
      await gw.spend('createOrder', { market: req.market, pair: req.symbol });
    } catch (e) {
      // Nothing was sent: markets failed to load, the symbol is unlisted, or our own budget said no.
      return { status: 'rejected', error: gw.classify(e, 'read', 'createOrder') };
    }
    remember(this.pending, req.clientOrderId, { symbol: req.symbol, market: req.market, sentAt: this.now() });
    const args = this.quirks.orderArgs(req, vcid);
    const sent = { symbol: req.symbol, market: req.market, side: req.side, type: req.type, amount: req.amount };
    let order: Order;
    try {
      const raw = await gw.exchange.createOrder(ccxtSymbol, args.type, req.side, req.amount, args.price, args.params);
      order = toOrder(raw, this.context(gw, sent));
    } catch (e) {
      const error = gw.classify(e, 'create', 'createOrder');
      if (error.kind !== 'unknown_outcome') this.pending.delete(req.clientOrderId);
      return error.kind === 'unknown_outcome' ? { status: 'unknown', error } : { status: 'rejected', error };
    } finally {
      gw.observeUsage();
    }
    // An answer echoing another client id is not an answer about our request: settle it by lookup.
    if (order.venueClientOrderId !== null && order.venueClientOrderId !== vcid) {
      const error = gw.classify(
        new TypeError(`answer echoes client id ${order.venueClientOrderId}`),
        'create',
        'createOrder',
      );
      return { status: 'unknown', error };
    }
    this.pending.delete(req.clientOrderId);
    order = { ...order, clientOrderId: req.clientOrderId, venueClientOrderId: vcid };
    if (order.ackOnly) order = await this.refreshAck(gw, order, ccxtSymbol, sent);
    return { status: 'accepted', order };
  }

  /** Kraken acknowledges with an id only: one best-effort QueryOrders for status and fills, if budget allows. */
  private async refreshAck(
    gw: CcxtGateway,
    ack: Order,
    ccxtSymbol: string,
    sent: OrderContext['sent'],
  ): Promise<Order> {
    // With the user-data stream live the order's status and fills come by stream (stream-settlement.ts).
    if (gw.userStreamLive || !gw.trySpend('fetchOrder', { market: ack.market })) return ack;
    try {
      const { rawId, book } = this.splitId(ack.id);
      const full = toOrder(await gw.exchange.fetchOrder(rawId, ccxtSymbol, book.params), this.context(gw, sent));
      return full.ackOnly
        ? ack
        : { ...full, clientOrderId: ack.clientOrderId, venueClientOrderId: ack.venueClientOrderId };
    } catch {
      return ack; // the order exists; its fills arrive with the next fetchOrder/fetchOpenOrders
    }
  }

  /** Looks a venue client id up in every book of the venue (one budgeted call per book). */
  private async findAnywhere(gw: CcxtGateway, kind: MarketKind, ccxtSymbol: string, vcid: string): Promise<unknown> {
    for (const book of this.quirks.orderBooks) {
      const hit = await gw.run('fetchOrder', { market: kind }, () =>
        this.quirks.findByClientId(gw.exchange, ccxtSymbol, vcid, book),
      );
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  async resolve(gw: CcxtGateway, clientOrderId: string, hint?: ResolveHint): Promise<ResolveResult> {
    const p =
      this.pending.get(clientOrderId) ??
      (hint === undefined ? undefined : { symbol: hint.symbol, market: hint.market ?? gw.kind(), sentAt: hint.sentAt });
    if (p === undefined) {
      const reason = `no pending create ${clientOrderId} here; pass a hint with its symbol`;
      return { status: 'still_unknown', error: localError('ArgumentsRequired', 'bad_request', reason) };
    }
    const vcid = this.venueClientId(clientOrderId);
    let order: Order | undefined;
    try {
      const raw = await this.findAnywhere(gw, p.market, await gw.venueSymbol(p.symbol, p.market), vcid);
      order = raw === undefined ? undefined : gw.mapOne(raw, 'fetchOrder', (o) => toOrder(o, this.context(gw)));
    } catch (e) {
      return { status: 'still_unknown', error: gw.classify(e, 'read', 'fetchOrder') };
    }
    if (order !== undefined) {
      this.pending.delete(clientOrderId);
      return { status: 'found', order: { ...order, clientOrderId, venueClientOrderId: vcid } };
    }
    const age = p.sentAt === undefined ? Number.POSITIVE_INFINITY : this.now() - p.sentAt;
    if (age < this.quirks.acceptWindowMs) {
      const wait = Math.ceil(this.quirks.acceptWindowMs - age);
      const error: VenueErrorInfo = {
        kind: 'retryable',
        code: 'AcceptWindowOpen',
        tag: 'network',
        reason: `not found, but the venue may still accept it for ${wait} ms`,
        retryAfterMs: wait,
      };
      return { status: 'still_unknown', error };
    }
    this.pending.delete(clientOrderId);
    return { status: 'not_found' };
  }

  async fetch(gw: CcxtGateway, ref: OrderRef): Promise<Order> {
    const kind = gw.kind(ref.market);
    const s = await gw.venueSymbol(ref.symbol, kind);
    let raw: unknown;
    if (ref.id !== undefined) {
      const { rawId, book } = this.splitId(ref.id);
      raw = await gw.run('fetchOrder', { market: kind }, () => gw.exchange.fetchOrder(rawId, s, book.params));
    } else {
      raw = await this.findAnywhere(gw, kind, s, this.venueClientId(this.requireClientId(ref)));
      if (raw === undefined) {
        const reason = `no order with clientOrderId ${ref.clientOrderId} on ${ref.symbol}`;
        throw new VenueError(this.quirks.venue, localError('OrderNotFound', 'not_found', reason));
      }
    }
    return gw.mapOne(raw, 'fetchOrder', (o) => toOrder(o, this.context(gw)));
  }

  private requireClientId(ref: OrderRef): string {
    if (ref.clientOrderId === undefined) {
      throw new VenueError(
        this.quirks.venue,
        localError('ArgumentsRequired', 'bad_request', 'order ref needs id or clientOrderId'),
      );
    }
    return ref.clientOrderId;
  }

  async cancel(gw: CcxtGateway, ref: OrderRef): Promise<Order | null> {
    const kind = gw.kind(ref.market);
    const s = await gw.venueSymbol(ref.symbol, kind);
    const echo = (raw: unknown): Order | null => {
      // Kraken's CancelOrder answers only a count: there is no order to map.
      const r = raw as Record<string, unknown> | null;
      const echoed = typeof r?.id === 'string' && r.id !== '' && typeof r.status === 'string';
      return echoed ? gw.mapOne(raw, 'cancelOrder', (o) => toOrder(o, this.context(gw))) : null;
    };
    const ctx = { market: kind, pair: ref.symbol };
    if (ref.id !== undefined) {
      const { rawId, book } = this.splitId(ref.id);
      return gw.run('cancelOrder', ctx, async () => echo(await gw.exchange.cancelOrder(rawId, s, book.params)));
    }
    const idParams = this.quirks.clientIdParams(this.venueClientId(this.requireClientId(ref)));
    const books = this.quirks.orderBooks;
    for (const [i, book] of books.entries()) {
      try {
        const params = { ...book.params, ...idParams };
        return await gw.run('cancelOrder', ctx, async () => echo(await gw.exchange.cancelOrder('', s, params)));
      } catch (e) {
        if (!isNotFound(e) || i === books.length - 1) throw e;
      }
    }
    return null;
  }

  /** Cancels all on one kind, working around each venue's scope (Binance per symbol, Kraken global only). */
  async cancelAll(gw: CcxtGateway, symbol: string | undefined, kind: MarketKind): Promise<number> {
    if (this.quirks.cancelAllScope === 'global_only') {
      if (symbol === undefined) {
        const raw = await gw.run('cancelAllOrders', { market: kind }, () => gw.exchange.cancelAllOrders());
        return this.quirks.cancelAllCount(raw) ?? 0;
      }
      // CancelAll would hit every pair: cancel this symbol's orders one by one instead.
      let n = 0;
      for (const o of await gw.fetchOpenOrders(symbol, kind)) {
        try {
          await this.cancel(gw, { symbol, market: kind, id: o.id });
          n++;
        } catch (e) {
          if (!isNotFound(e)) throw e; // filled or canceled meanwhile
        }
      }
      return n;
    }
    // Binance cancels per symbol and per book, answers -2011 for a symbol without open orders, and USDⓈ-M
    // reports no count: list first, cancel where something is open, report what was listed.
    const open = await gw.fetchOpenOrders(symbol, kind);
    for (const s of new Set(open.map((o) => o.symbol))) {
      const venueSymbol = await gw.venueSymbol(s, kind);
      for (const book of this.quirks.orderBooks) {
        if (!open.some((o) => o.symbol === s && this.splitId(o.id).book === book)) continue;
        try {
          await gw.run('cancelAllOrders', { market: kind }, () =>
            gw.exchange.cancelAllOrders(venueSymbol, book.params),
          );
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    return open.length;
  }

  /** Open orders of one kind across the venue's books. */
  async open(gw: CcxtGateway, symbol: string | undefined, kind: MarketKind): Promise<Order[]> {
    const s = symbol === undefined ? undefined : await gw.venueSymbol(symbol, kind);
    const out: Order[] = [];
    for (const book of this.quirks.orderBooks) {
      const raw = await gw.run('fetchOpenOrders', { market: kind, hasSymbol: s !== undefined }, () =>
        gw.exchange.fetchOpenOrders(s, undefined, undefined, book.params),
      );
      out.push(...gw.mapList(raw, 'fetchOpenOrders', (o) => toOrder(o, this.context(gw))));
    }
    return out;
  }
}
