import { errorMessage } from '../../domain/errors.js';
import { TERMINAL } from '../../machines/order.machine.js';
import type { OrderRecord } from '../../store/index.js';
import type { MarketKind, Order, Trade } from '../../venues/venue-gateway.js';
import type { EngineContext } from './engine-context.js';
import { kindOf } from './engine-types.js';
import type { OrderLifecycle } from './order-lifecycle.js';

/**
 * Settlement from the venue's user-data stream (issue 14 item 1: fills and order updates arrive by stream). A fill
 * goes to the ledger through the same `applyTrades` as a REST read, once per venue trade id, so stream, settlement
 * and reconciliation can see the same trade in any order. An order update is kept until the order's own settlement
 * applies it (it may arrive before the create's answer, which must land first: the order machine never moves
 * backwards, but a stale record written after it would). While a venue's stream is live, settlement waits for the
 * stream before asking REST; REST stays for recovery, reconciliation, gap fills and when the stream is down.
 * Each market kind of a venue has its own stream (Binance spot by the WebSocket API, USDⓈ-M by a listenKey), live
 * or down on its own: a perpetual's fills go to the perp book (perp-settlement.ts), a spot order's to the ledger.
 */
export interface StreamFill {
  trade: Trade;
  clientOrderId: string | null;
}

/** How long settlement waits for the stream to bring an order to its end before it reads REST (ms). */
export const STREAM_SETTLE_WAIT_MS = 3_000;

const liveKey = (venue: string, market: MarketKind) => `${venue}|${market}`;

export function createStreamSettlement(ctx: EngineContext, life: OrderLifecycle) {
  const { orders, book, log, metrics } = ctx.deps;
  /** `venue|market` of every live stream. */
  const live = new Set<string>();
  /** Latest streamed order update per clientOrderId, applied by the order's settlement. */
  const updates = new Map<string, Order>();
  /** Base amount of each order's trades the ledger holds, counted as the stream reports them. */
  const applied = new Map<string, Map<string, number>>();
  const waiters = new Map<string, Set<() => void>>();

  const wake = (cid: string) => {
    for (const w of waiters.get(cid) ?? []) w();
  };

  function byVenueOrderId(venue: string, id: string | null): OrderRecord | undefined {
    if (id === null) return undefined;
    for (const r of orders.listOpen()) if (r.venue === venue && r.venueOrderId === id) return r;
    return undefined;
  }

  function recordOf(venue: string, cid: string | null, venueOrderId: string | null): OrderRecord | undefined {
    const rec = cid === null ? undefined : orders.get(cid);
    return rec?.venue === venue ? rec : byVenueOrderId(venue, venueOrderId);
  }

  /** The ledger holds the trade: the spot ledger, or the perp book for a perpetual (none: nothing to hold). */
  const held = (venue: string, t: Trade) =>
    t.market === 'linear' ? (ctx.deps.perps?.hasTrade(venue, t.id) ?? true) : book.hasTrade(venue, t.id);

  async function onFill(venue: string, f: StreamFill): Promise<void> {
    const rec = recordOf(venue, f.clientOrderId, f.trade.orderId);
    // The fill names its order (clientOrderId, venue id): it may arrive before the create's answer has put the
    // venue id in the record, and must still count as that order's, not as a manual trade.
    const id = f.trade.orderId ?? (typeof rec?.venueOrderId === 'string' ? rec.venueOrderId : null);
    const known = rec && id !== null ? new Map([[id, rec]]) : undefined;
    // Without a record it is a manual trade or a stop's fill: applyTrades knows (every order of the venue).
    const n =
      f.trade.market === 'linear'
        ? await life.perp.applyTrades(venue, [f.trade], known, f.clientOrderId)
        : await life.applyTrades(venue, [f.trade], known);
    if (n > 0) metrics.streamFills.inc({ venue, market: f.trade.market });
    if (!rec || !held(venue, f.trade)) return;
    let m = applied.get(rec.clientOrderId);
    if (!m) {
      m = new Map();
      applied.set(rec.clientOrderId, m);
    }
    m.set(f.trade.id, f.trade.amount);
    wake(rec.clientOrderId);
    if (!TERMINAL.has(rec.status) || rec.venueOrderId === null) return;
    void life.settle(rec);
  }

  function onOrder(venue: string, o: Order): void {
    const rec = recordOf(venue, o.clientOrderId, o.id);
    if (!rec) return;
    updates.set(rec.clientOrderId, o);
    wake(rec.clientOrderId);
    // An order that ended with nobody settling it (a resting limit filled later): its settlement starts now. Not
    // before the create's answer is in the record (venueOrderId set), which starts it anyway; not while it rests
    // (settlement would fall back to REST polls for an order that is simply open).
    if (o.status !== 'open' && rec.venueOrderId !== null && rec.venueOrderId !== undefined) void life.settle(rec);
  }

  const inLedger = (rec: OrderRecord) => {
    // Without a perp book a perpetual's fills move the venue's position only: nothing to wait for.
    if (kindOf(rec) === 'linear' && ctx.deps.perps === undefined) return rec.filled;
    let sum = 0;
    const cid = rec.clientOrderId;
    for (const a of applied.get(cid)?.values() ?? []) sum += a;
    return sum;
  };

  /**
   * Settlement's stream phase: applies the stream's latest update and returns the record once it is terminal with
   * every fill in the ledger; undefined when the stream is not live for its venue, or after `waitMs` without it.
   */
  async function settled(rec: OrderRecord, waitMs = STREAM_SETTLE_WAIT_MS): Promise<OrderRecord | undefined> {
    const venue = rec.venue;
    const key = liveKey(venue, kindOf(rec));
    if (!live.has(key)) return undefined;
    const cid = rec.clientOrderId;
    const deadline = ctx.deps.now() + waitMs;
    for (;;) {
      let current = orders.get(cid) ?? rec;
      const u = updates.get(cid);
      if (u !== undefined && !TERMINAL.has(current.status))
        current = await life.applyVenueOrder(current, u, 'order.update');
      if (TERMINAL.has(current.status) && inLedger(current) >= current.filled * (1 - 1e-9)) {
        updates.delete(cid);
        applied.delete(cid);
        return current;
      }
      const left = deadline - ctx.deps.now();
      if (left <= 0 || !live.has(key)) return undefined;
      await new Promise<void>((resolve) => {
        const set = waiters.get(cid) ?? new Set();
        waiters.set(cid, set);
        const done = () => {
          set.delete(done);
          if (set.size === 0) waiters.delete(cid);
          resolve();
        };
        set.add(done);
        void ctx.sleep(Math.min(left, 250)).then(done);
      });
    }
  }

  return {
    settled,
    /** The order is settled (by any path): nothing more to keep for it. */
    forget(cid: string): void {
      updates.delete(cid);
      applied.delete(cid);
    },
    /** One user-data event of a venue (fills to the ledger at once; order updates kept for settlement). */
    onEvent(venue: string, e: { type: 'order'; order: Order } | ({ type: 'fill' } & StreamFill)): void {
      if (e.type === 'order') onOrder(venue, e.order);
      else
        onFill(venue, e).catch((err: unknown) =>
          log.warn({ venue, tradeId: e.trade.id, err: errorMessage(err) }, 'streamed fill not applied; REST will'),
        );
    },
    /** A user-data stream of the venue went live or down (down: settlement of its kind reads REST as before). */
    setLive(venue: string, on: boolean, market: MarketKind = 'spot'): void {
      if (on) live.add(liveKey(venue, market));
      else live.delete(liveKey(venue, market));
    },
    isLive: (venue: string, market: MarketKind = 'spot') => live.has(liveKey(venue, market)),
  };
}
