import { errorMessage } from '../../domain/errors.js';
import type { Fill } from '../../domain/portfolio.js';
import { orderTransition, statusFromVenue, TERMINAL } from '../../machines/order.machine.js';
import type { OrderRecord } from '../../store/index.js';
import type { Order, Trade } from '../../venues/venue-gateway.js';
import { poll } from '../retry.js';
import type { EngineContext } from './engine-context.js';
import { kindOf, num, ownerOf, slotSymbolOf } from './engine-types.js';
import { createPerpSettlement } from './perp-settlement.js';
import { measureSlippage, observeSlippage } from './slippage.js';

/**
 * An order's life after its intent (DESIGN §5, §6): the venue's answers applied through the order machine (never
 * backwards), fills from the venue's trades into the ledger once each, unknown creates resolved by clientOrderId
 * (never re-sent), and `finish`, which frees the slot and the reservation only after the order's fills are in
 * the ledger.
 */
export type OrderLifecycle = ReturnType<typeof createOrderLifecycle>;

/** Settled orders remembered per process (a late stream copy of one is not settled again). */
const SETTLED_KEEP = 20_000;

const isTerminal = (rec: OrderRecord) => TERMINAL.has(rec.status);

export function createOrderLifecycle(ctx: EngineContext) {
  const { deps } = ctx;
  const { journal, orders, book, metrics, log, now } = deps;
  const settling = new Set<string>();
  /**
   * Orders whose settlement finished in this process (terminal, every fill in the ledger): a late stream copy of a
   * fill or order update asks again, and would finish it (`order.settled`, the hooks) a second time. The newest
   * SETTLED_KEEP are kept; an older one asked again only settles again, which is what happened before.
   */
  const settled = new Set<string>();
  const markSettled = (cid: string) => {
    settled.add(cid);
    if (settled.size > SETTLED_KEEP) settled.delete(settled.values().next().value as string);
  };
  /** Orders being resolved in the background (unknown outcome, or inside the venue's accept window). */
  const resolving = new Set<string>();
  const perp = createPerpSettlement(ctx);

  /** The record and its journal entry are issued in one turn: lmdb-js commits them in one transaction. */
  async function persist(record: OrderRecord, entry: { type: string; [k: string]: unknown }): Promise<OrderRecord> {
    const [, saved] = await Promise.all([journal.append(entry), orders.put(record)]);
    return saved;
  }

  /**
   * Records an order found at the venue that this store did not place (reconciliation's adoption, an
   * Idempotency-Key's earlier order): its state as the venue reports it, `adoptedAt` now (its trades before the
   * store's first-boot baseline are in that baseline), journaled `order.adopted`. No fill is applied here.
   */
  function adopt(
    o: Order,
    own: Pick<OrderRecord, 'clientOrderId' | 'venue' | 'strategy' | 'reason' | 'quote'> &
      Partial<Pick<OrderRecord, 'idempotencyKey' | 'requestHash'>>,
  ): Promise<OrderRecord> {
    const at = now();
    const rec: OrderRecord = {
      ...own,
      symbol: o.symbol,
      side: o.side,
      status: statusFromVenue(o.status, o.filled, o.amount),
      type: o.type,
      amount: o.amount,
      filled: o.filled,
      averagePrice: o.average,
      venueOrderId: o.id,
      createdAt: o.timestamp ?? at,
      updatedAt: at,
      adoptedAt: at,
    };
    // The record's own `type` is the order type: spread first, or the entry is not an `order.*` entry.
    return persist(rec, { ...rec, type: 'order.adopted', orderType: rec.type });
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

  /** Moves a record to what the venue says about the order (never backwards: the order machine decides). */
  async function applyVenueOrder(rec: OrderRecord, o: Order, entryType: string): Promise<OrderRecord> {
    let status = rec.status;
    let filled = rec.filled;
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
    if (status === rec.status && filled === rec.filled && rec.venueOrderId === o.id) return rec;
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

  /** Frees the order's slot and reservation: only once its fills are in the ledger (or it has none). */
  function finish(rec: OrderRecord, filled: boolean): void {
    const slot = ctx.slots.slotOf(rec.venue, slotSymbolOf(rec.symbol, kindOf(rec)), rec.side, rec.strategy);
    ctx.slots.free(slot, rec.clientOrderId);
    ctx.slots.release(rec.clientOrderId);
    ctx.cancelOnAck.delete(rec.clientOrderId);
    ctx.stream?.forget(rec.clientOrderId);
    deps.notify(rec.venue, rec.symbol, {
      type: 'order.settled',
      side: rec.side,
      clientOrderId: rec.clientOrderId,
      filled,
      at: now(),
    });
  }

  /** Fills of an order come from the venue's trades (exact amounts and fees), applied once by trade id. */
  async function settle(rec: OrderRecord): Promise<void> {
    if (settling.has(rec.clientOrderId) || settled.has(rec.clientOrderId)) return;
    settling.add(rec.clientOrderId);
    const gw = ctx.venues.get(rec.venue);
    const own: Trade[] = [];
    try {
      if (!gw) return;
      // The user-data stream first (while it is live): no REST call when it brings the order and its fills.
      const streamed = await ctx.stream?.settled(orders.get(rec.clientOrderId) ?? rec);
      if (streamed) {
        markSettled(rec.clientOrderId);
        finish(streamed, streamed.filled > 0);
        // Whoever waits for settled orders (the maker) hears of it whichever way the order settled.
        for (const hook of ctx.onSettled) hook(streamed);
        return;
      }
      const r = await poll({ attempts: 20, backoff: { firstMs: 50, maxMs: 2_000 }, sleep: ctx.sleep }, async () => {
        let current = orders.get(rec.clientOrderId) ?? rec;
        if (!isTerminal(current)) {
          const o = await gw.gateway.fetchOrder({
            symbol: current.symbol,
            clientOrderId: current.clientOrderId,
            market: kindOf(current),
          });
          current = await applyVenueOrder(current, o, 'order.update');
        }
        // Terminal is not enough: the reservation may go only once the ledger holds every fill of the order.
        const inLedger = current.filled > 0 ? await applyTradesFor(current, own) : 0;
        return { done: isTerminal(current) && inLedger >= current.filled * (1 - 1e-9), value: current };
      });
      if (r.done && r.value) {
        const done = await recordSlippage(r.value, own);
        markSettled(rec.clientOrderId);
        finish(done, done.filled > 0);
        for (const hook of ctx.onSettled) hook(done);
      }
    } catch (e) {
      log.warn(
        { clientOrderId: rec.clientOrderId, err: errorMessage(e) },
        'settlement failed; reconciliation will finish it',
      );
      deps.onVenueResult?.(rec.venue, false);
    } finally {
      settling.delete(rec.clientOrderId);
    }
  }

  /**
   * A filled order's slippage against its arrival prices (slippage.ts), once: on the record (`GET /orders`), in
   * the journal (`order.slippage`, mirrored to orders.jsonl) and in `order_slippage_bps`.
   */
  async function recordSlippage(rec: OrderRecord, trades: readonly Trade[]): Promise<OrderRecord> {
    if (rec.slippage !== undefined && rec.slippage !== null) return rec;
    const s = measureSlippage(rec, trades);
    if (!s) return rec;
    const slippage = { ...s };
    const next = await update(rec, { status: rec.status, slippage }, 'order.slippage', {
      strategy: rec.strategy ?? null,
      market: kindOf(rec),
      slippage,
    });
    observeSlippage(metrics, next, s);
    return next;
  }

  /** Applies an order's trades; returns the base amount of its trades the ledger now holds (`own` gets them). */
  async function applyTradesFor(rec: OrderRecord, ownOut: Trade[] = []): Promise<number> {
    const gw = ctx.venues.get(rec.venue);
    // A perpetual's fills change a position at the venue and the perp book (when there is one), never the spot ledger.
    if (kindOf(rec) === 'linear') return perp.applyTradesFor(rec);
    if (!gw || !rec.venueOrderId) return 0;
    const since = rec.createdAt - 60_000;
    const trades = await gw.gateway.fetchMyTrades({ symbol: rec.symbol, since, market: 'spot' });
    // Only this order's trades, matched against this order: never a scan of every order in LMDB per fill.
    const own = trades.filter((t) => t.orderId === rec.venueOrderId);
    ownOut.splice(0, ownOut.length, ...own);
    await applyTrades(rec.venue, own, new Map([[rec.venueOrderId as string, rec]]));
    return own.reduce((sum, t) => sum + (book.hasTrade(rec.venue, t.id) ? t.amount : 0), 0);
  }

  /**
   * Applies venue trades to the ledger once each; unknown orders' trades are manual trades (applied, flagged). A
   * manual trade from before the venue's first-boot baseline is already in the baseline's balances: skipped.
   */
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
    const baselineAt = book.baselineAt(venue);
    const writes: Promise<unknown>[] = [];
    let n = 0;
    for (const t of [...trades].sort((a, b) => a.timestamp - b.timestamp || a.id.localeCompare(b.id))) {
      if (book.hasTrade(venue, t.id)) {
        // Held, perhaps only in memory: the caller counts it once the first copy's commit has landed.
        const first = ctx.fillCommits.pending('spot', venue, t.id);
        if (first) writes.push(first);
        continue;
      }
      const m = ctx.market(venue, t.symbol);
      if (!m) continue;
      const rec = t.orderId ? byVenueId.get(t.orderId) : undefined;
      // Before the first-boot baseline: in its balances already, unless this store placed the order (a trade of
      // its own, whose venue timestamp may read a little early on a skewed clock).
      if ((rec === undefined || rec.adoptedAt !== undefined) && t.timestamp <= baselineAt) continue;
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
      ctx.noteFill(fill);
      const strategy = rec?.strategy !== undefined ? rec.strategy : stopFill ? 'stop' : 'external';
      const entry = journal.append({ type: 'order.fill', ...fill, external: rec === undefined && !stopFill, strategy });
      writes.push(ctx.fillCommits.track('spot', venue, t.id, Promise.all([w, entry])));
      deps.onFill?.(fill, strategy);
      if (rec === undefined && !stopFill)
        log.warn({ venue, tradeId: t.id, symbol: t.symbol }, 'manual trade on the venue applied to the ledger');
      else if (rec?.strategy === 'trend') metrics.trendTrades.inc();
    }
    await Promise.all(writes);
    return n;
  }

  /** An unknown create: look it up by clientOrderId (never re-send), a few times, then leave it to reconciliation. */
  async function resolveLater(rec: OrderRecord): Promise<void> {
    if (resolving.has(rec.clientOrderId)) return;
    resolving.add(rec.clientOrderId);
    try {
      await poll(
        { attempts: 12, backoff: { firstMs: 250, maxMs: 4_000 }, sleep: ctx.sleep, delayFirst: true },
        async () => {
          const latest = orders.get(rec.clientOrderId) ?? rec;
          if (isTerminal(latest)) return { done: true, value: latest };
          return { done: await resolveOne(latest).catch(() => false), value: latest };
        },
      );
    } catch (e) {
      // Fire-and-forget: a throw here (the store closed under a pending resolution at shutdown) was an unhandled
      // rejection. The order stays unknown in LMDB; boot recovery resolves it.
      log.warn({ err: errorMessage(e), clientOrderId: rec.clientOrderId }, 'unknown order: resolution abandoned');
    } finally {
      resolving.delete(rec.clientOrderId);
    }
  }

  async function resolveOne(rec: OrderRecord): Promise<boolean> {
    const gw = ctx.venues.get(rec.venue);
    if (!gw) return false;
    const r = await gw.gateway.resolveUnknown(rec.clientOrderId, {
      symbol: rec.symbol,
      market: kindOf(rec),
      sentAt: rec.createdAt,
    });
    const latest = orders.get(rec.clientOrderId) ?? rec;
    if (r.status === 'found') {
      const next = await applyVenueOrder(latest, r.order, 'order.resolved');
      await cancelIfAsked(next);
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

  /**
   * A kill that met this order while its create was on the wire (or still unknown) asked for it to be cancelled:
   * now that the venue has answered with the order, cancel it (a resting entry must not outlive the kill).
   */
  async function cancelIfAsked(rec: OrderRecord): Promise<void> {
    if (!ctx.cancelOnAck.has(rec.clientOrderId) || isTerminal(rec)) return;
    ctx.cancelOnAck.delete(rec.clientOrderId);
    const gw = ctx.venues.get(rec.venue);
    try {
      await gw?.gateway.cancelOrder({
        symbol: rec.symbol,
        clientOrderId: rec.clientOrderId,
        market: kindOf(rec),
      });
    } catch (e) {
      log.warn({ clientOrderId: rec.clientOrderId, err: errorMessage(e) }, 'cancel after the kill failed');
    }
  }

  return {
    perp,
    persist,
    adopt,
    update,
    applyVenueOrder,
    finish,
    settle,
    applyTrades,
    resolveLater,
    resolveOne,
    cancelIfAsked,
    isResolving: (cid: string) => resolving.has(cid),
  };
}
