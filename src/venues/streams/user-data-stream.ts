/**
 * The private stream of one venue account as a typed event source: order updates, fills with the venue's trade
 * ids (the same ids REST `fetchMyTrades` returns, so stream and REST dedupe on them), balances, and gaps.
 *
 * Streams are not replayed by the venues: whatever happens while a stream is not subscribed is never sent. So the
 * one rule for a consumer is the `gap` event: it comes each time the subscription is confirmed (at the first
 * start, `since: null`, and after every reconnect, `since` = the last time the old stream was heard from), and
 * only then. Anything from `until` on arrives by stream; anything in [since, until] must be read by REST
 * (`fetchMyTrades({ since })` less a clock margin, and `fetchOpenOrders`), deduplicated on trade id. The gap is
 * reported after the subscription is confirmed, so a fill is always in the stream or in the REST window or both.
 *
 * Venue dialects (ccxt.pro 4.5): Binance spot subscribes on the WebSocket API (`userDataStream.subscribe.signature`,
 * no listenKey: Binance retired spot listenKeys for it); Kraken v2 subscribes `executions` and `balances` with a
 * token from GetWebSocketsToken; Binance USDⓈ-M connects to `/private/ws?listenKey=…` after
 * `POST /fapi/v1/listenKey` (no subscribe message: the open connection is the subscription), and ccxt keeps the
 * key alive with `PUT /fapi/v1/listenKey` every LISTEN_KEY_REFRESH_MS (pro-exchange.ts).
 */
import type { Exchange } from 'ccxt';
import type { CcxtGateway } from '../ccxt-gateway.js';
import { type OrderContext, toBalances, toOrder, toTrade } from '../ccxt-mappers.js';
import type { Balances, MarketKind, Order, Trade } from '../venue-gateway.js';
import {
  type SessionContext,
  SessionRestart,
  StreamRunner,
  type StreamStatus,
  type StreamTiming,
} from './stream-runner.js';

export type UserDataEvent =
  /** An order changed (new, partly filled, filled, canceled, expired), as the venue reports it. */
  | { type: 'order'; order: Order; at: number }
  /** One execution; `trade.id` is the venue's trade id, `trade.orderId` the venue order id. */
  | { type: 'fill'; trade: Trade; clientOrderId: string | null; at: number }
  /** Balances of the assets the venue reported in this update (totals; free/used where the venue says). */
  | { type: 'balance'; balances: Balances; at: number }
  /**
   * The stream was not listening in [since, until]: REST must fill it. `since: null` at the first start
   * (nothing before is known from the stream: reconcile fully).
   */
  | { type: 'gap'; since: number | null; until: number; reason: string };

export interface UserDataHandlers {
  onEvent(e: UserDataEvent): void;
  onStatus(s: StreamStatus): void;
}

/** The port: one venue account's private stream. */
export interface UserDataStream {
  readonly venue: string;
  readonly market: MarketKind;
  start(h: UserDataHandlers): void;
  status(): StreamStatus;
  stop(): Promise<void>;
}

const KRAKEN_WS_STATUS: Record<string, string> = {
  pending_new: 'open',
  new: 'open',
  partially_filled: 'open',
  filled: 'closed',
  canceled: 'canceled',
  expired: 'expired',
};

/** Trade ids remembered against stream re-deliveries (ccxt caches) and REST overlap. */
const SEEN_TRADES = 10_000;

export class CcxtUserDataStream implements UserDataStream {
  readonly venue: string;
  private handlers: UserDataHandlers | undefined;
  private runner: StreamRunner | undefined;
  private lastHeard: number | null = null;
  private readonly seen = new Set<string>();
  private readonly now: () => number;

  constructor(
    private readonly gw: CcxtGateway,
    readonly market: MarketKind,
    private readonly opts: {
      timing: StreamTiming;
      now?: () => number;
      random?: () => number;
      /** Why the account cannot use this market (a spot-only key's USDⓈ-M): no session is attempted then. */
      unavailable?: () => string | undefined;
    },
  ) {
    this.venue = gw.venue;
    this.now = opts.now ?? Date.now;
    if (market !== 'spot' && gw.venue !== 'binance')
      throw new RangeError(`${gw.venue} ${market}: no user-data stream for this market`);
  }

  start(h: UserDataHandlers): void {
    if (this.runner !== undefined) return;
    this.handlers = h;
    this.runner = new StreamRunner(
      this.opts.timing,
      (ctx) => this.session(ctx),
      (s) => {
        this.gw.userStreamLive = s.state === 'live';
        this.handlers?.onStatus(s);
      },
      this.now,
      this.opts.random,
    );
    this.runner.start();
  }

  status(): StreamStatus {
    return this.runner?.status() ?? { state: 'stopped', reason: null, at: this.now(), reconnects: 0, failures: 0 };
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    this.runner = undefined;
    this.gw.userStreamLive = false;
  }

  private emit(e: UserDataEvent): void {
    this.handlers?.onEvent(e);
  }

  private heard(): void {
    this.lastHeard = this.now();
  }

  private async session(ctx: SessionContext): Promise<void> {
    const off = this.opts.unavailable?.();
    // Retried with the runner's backoff, so a key that gains the permission streams again; nothing is sent.
    if (off !== undefined) throw new Error(off);
    const ex = await this.gw.createStreamExchange(this.opts.timing.keepAliveMs);
    const since = this.lastHeard;
    try {
      const loops = await this.subscribe(ex, ctx);
      const until = this.now();
      this.heard();
      ctx.live();
      this.emit({
        type: 'gap',
        since,
        until,
        reason: since === null ? 'stream started: nothing before is known' : 'stream reconnected',
      });
      await Promise.race([...loops, ctx.stopped]);
    } finally {
      // The last sign of life decides where the next gap starts: the last event, or the last pong answered.
      for (const c of Object.values(ex.clients ?? {}) as Array<{ lastPong?: number }>) {
        if (typeof c.lastPong === 'number' && c.lastPong > (this.lastHeard ?? 0)) this.lastHeard = c.lastPong;
      }
      await ex.close().catch(() => undefined);
    }
  }

  /**
   * Subscribes, and resolves once the venue confirmed it and every watch is waiting: an event before that moment
   * may sit in ccxt's cache unannounced until the next one, so the gap reported ends there, not at the ack.
   */
  private async subscribe(ex: Exchange, ctx: SessionContext): Promise<Promise<never>[]> {
    if (this.venue === 'binance' && this.market === 'linear') {
      // The listenKey stream: both watches share one connection, subscribed once it is open (no ack exists).
      const loops = [this.orders(ex, ctx), this.trades(ex, ctx)];
      await Promise.race([
        waiting(ex, (c) => c.isConnected === true && ['orders', 'myTrades'].every((h) => h in c.futures)),
        ...loops,
      ]);
      return loops;
    }
    if (this.venue === 'binance') {
      // As the first caller, resolves on the WebSocket API's `{"status":200,"result":{"subscriptionId":…}}`.
      await (ex as unknown as { authenticate(p: object): Promise<unknown> }).authenticate({ type: 'spot' });
      const loops = [this.orders(ex, ctx), this.trades(ex, ctx), this.balances(ex, ctx, undefined)];
      await Promise.race([
        waiting(ex, (c) => ['orders', 'myTrades', 'spot:balance'].every((h) => h in c.futures)),
        ...loops,
      ]);
      return loops;
    }
    // Kraken: `executions` first, then `balances` on the same connection. The balances snapshot can only come
    // after the venue processed both subscribe requests (in order), so it confirms the executions one too.
    const orders = this.orders(ex, ctx);
    const trades = this.trades(ex, ctx);
    await Promise.race([waiting(ex, (c) => 'executions' in c.subscriptions), orders, trades]);
    const first = await Promise.race([ex.watchBalance(), orders, trades]);
    const balances = this.balances(ex, ctx, first);
    await Promise.race([
      waiting(ex, (c) => ['orders', 'myTrades', 'balances'].every((h) => h in c.futures)),
      orders,
      trades,
      balances,
    ]);
    return [orders, trades, balances];
  }

  private async orders(ex: Exchange, ctx: SessionContext): Promise<never> {
    const context = this.orderContext();
    for (;;) {
      const list = await ex.watchOrders();
      if (!ctx.alive()) throw new SessionRestart();
      this.heard();
      const at = this.now();
      for (const raw of list) {
        try {
          this.emit({ type: 'order', order: toOrder(this.normalizeOrder(raw), context), at });
        } catch (e) {
          // Fail closed: an update we cannot read is a hole in what we know; REST fills it.
          this.emit({ type: 'gap', since: at, until: at, reason: `unreadable order update: ${String(e)}` });
        }
      }
    }
  }

  private async trades(ex: Exchange, ctx: SessionContext): Promise<never> {
    const map = this.gw.symbols();
    const context = this.orderContext();
    for (;;) {
      const list = await ex.watchMyTrades();
      if (!ctx.alive()) throw new SessionRestart();
      this.heard();
      const at = this.now();
      for (const raw of list) {
        try {
          const trade = toTrade(raw, map);
          if (this.seen.has(trade.id)) continue;
          this.remember(trade.id);
          const info = (raw as { info?: Record<string, unknown> }).info ?? {};
          const venueCid = String(info.c ?? info.cl_ord_id ?? '');
          const cid = venueCid === '' ? null : (context.bosunClientId(venueCid) ?? venueCid);
          this.emit({ type: 'fill', trade, clientOrderId: cid, at });
        } catch (e) {
          this.emit({ type: 'gap', since: at, until: at, reason: `unreadable fill: ${String(e)}` });
        }
      }
    }
  }

  private async balances(ex: Exchange, ctx: SessionContext, first: unknown): Promise<never> {
    let raw = first;
    for (;;) {
      if (raw !== undefined) {
        try {
          this.emit({ type: 'balance', balances: toBalances(raw), at: this.now() });
        } catch {
          // Balances are refreshed by REST anyway (account actor); a bad update only loses this one.
        }
      }
      raw = await ex.watchBalance();
      if (!ctx.alive()) throw new SessionRestart();
      this.heard();
    }
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > SEEN_TRADES) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private orderContext(): OrderContext {
    const base = this.gw.orders.context(this.gw);
    const quirks = this.gw.quirks;
    return {
      ...base,
      // Stream payloads name things differently from REST: translate into what the quirk reads.
      raw: (info) => {
        const i = (info ?? {}) as Record<string, unknown>;
        if (this.venue === 'binance') {
          const orig = typeof i.C === 'string' && i.C !== '' ? { origClientOrderId: i.C } : {};
          return quirks.rawOrderFields({ type: i.o, time: i.O, ...orig });
        }
        const fields = quirks.rawOrderFields({ descr: { ordertype: i.order_type } });
        return typeof i.cl_ord_id === 'string' ? { ...fields, clientOrderId: i.cl_ord_id } : fields;
      },
    };
  }

  /** ccxt's Kraken v2 order parse keeps the venue's status words and no fill size: fix them from `info`. */
  private normalizeOrder(raw: unknown): unknown {
    if (this.venue !== 'kraken') return raw;
    const o = raw as Record<string, unknown> & { info?: Record<string, unknown> };
    const info = o.info ?? {};
    const status = KRAKEN_WS_STATUS[String(info.order_status)] ?? o.status;
    const filled = typeof info.cum_qty === 'number' ? info.cum_qty : o.filled;
    const amount = typeof info.order_qty === 'number' ? info.order_qty : o.amount;
    return { ...o, status, filled, amount, remaining: undefined };
  }
}

interface WsClientView {
  subscriptions: Record<string, unknown>;
  futures: Record<string, unknown>;
  isConnected?: boolean;
}

/** Resolves once one of ccxt's connections satisfies `ready` (checked every event-loop turn, 10 s at most). */
async function waiting(ex: Exchange, ready: (c: WsClientView) => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const clients = Object.values(ex.clients ?? {}) as Partial<WsClientView>[];
    if (clients.some((c) => c.subscriptions !== undefined && c.futures !== undefined && ready(c as WsClientView)))
      return;
    if (Date.now() > deadline) throw new Error(`stream subscription not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
