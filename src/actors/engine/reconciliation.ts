import { AppError, errorMessage } from '../../domain/errors.js';
import { balanceDiffs } from '../../domain/portfolio.js';
import { TERMINAL } from '../../machines/order.machine.js';
import type { OrderRecord } from '../../store/index.js';
import type { ReconcileResult, ReconcileVenueResult } from '../../supervisor/trading-port.js';
import type { Balances, Order } from '../../venues/venue-gateway.js';
import { poll } from '../retry.js';
import type { EngineContext } from './engine-context.js';
import { kindOf, num, slotSymbolOf } from './engine-types.js';
import type { OrderLifecycle } from './order-lifecycle.js';

/**
 * Reconciliation against the venue (DESIGN §6), the same code at boot, periodically and on `POST
 * /reconcile/manual`: every order Bosun thinks is open resolved by clientOrderId, orders only the venue knows
 * adopted, trades since the ledger's cursor applied, then the ledger's balances compared with the venue's.
 *
 * Fail closed: a reconciliation that cannot settle — a call refused, or the venue's balances moving between the
 * two reads three times in a row — throws; the venue stays unreconciled (no new orders there) and its lag keeps
 * growing until one succeeds. Balances the journal cannot explain halt the venue.
 */
const totals = (b: Balances) => Object.fromEntries(Object.entries(b).map(([a, e]) => [a, e.total]));

export function createReconciliation(ctx: EngineContext, life: OrderLifecycle) {
  const { deps } = ctx;
  const { orders, book, inputs, log, now } = deps;
  const running = new Map<string, Promise<ReconcileVenueResult>>();
  /** Venues whose last reconciliation failed (no new orders there until one succeeds). */
  const unreconciled = new Set<string>(ctx.venues.keys());
  /** Last successful reconciliation per venue; before the first, the engine's start (the lag counts from it). */
  const startedAt = now();
  const lastOk = new Map<string, number>();

  /**
   * Every open or unknown order of Bosun's keeps its slot until it is resolved (nothing else goes out on that
   * side), and every open buy its reservation: at boot, before anything is accepted, the orders a crash left (and
   * adopted manual ones) count against the caps.
   */
  function takeSlots(venue?: string): void {
    for (const rec of orders.listOpen()) {
      if (venue !== undefined && rec.venue !== venue) continue;
      const slot = ctx.slots.slotOf(rec.venue, slotSymbolOf(rec.symbol, kindOf(rec)), rec.side, rec.strategy);
      // An adopted manual order counts against the caps (it may fill) but does not silence the strategies.
      if (rec.strategy !== 'external' && ctx.slots.holder(slot) === undefined) ctx.slots.take(slot, rec.clientOrderId);
      const m = ctx.market(rec.venue, rec.symbol, kindOf(rec));
      const price = num(rec.limitPrice) || num(rec.price);
      if (m && rec.side === 'buy' && rec.reduceOnly !== true)
        ctx.slots.reserve(rec.clientOrderId, {
          venue: rec.venue,
          base: m.base,
          usd: Math.max(0, rec.amount - rec.filled) * price,
        });
    }
  }

  /** Step 1: resolve Bosun's open orders; returns the ones that became terminal (finished after their trades). */
  async function resolveOpen(venue: string, out: ReconcileVenueResult): Promise<OrderRecord[]> {
    const gw = ctx.venues.get(venue);
    const done: OrderRecord[] = [];
    if (!gw) return done;
    for (const rec of orders.listOpen()) {
      if (rec.venue !== venue) continue;
      if (rec.status === 'intent' || rec.status === 'submitted' || rec.status === 'unknown') {
        // A create still on the wire in this process is answered by its own path.
        if (ctx.handoffs.has(rec.clientOrderId)) continue;
        // Inside the venue's accept window a lookup is not conclusive: keep resolving in the background (the
        // order keeps its slot) instead of holding readiness for up to 15 s.
        if (await life.resolveOne(rec)) out.ordersResolved += 1;
        else void life.resolveLater(rec);
        continue;
      }
      // An adopted order may have no client id at the venue (`ext-<venue>-<id>`): ask by the venue's id.
      const byId = rec.strategy === 'external' && typeof rec.venueOrderId === 'string';
      const o = await gw.gateway.fetchOrder({
        symbol: rec.symbol,
        ...(byId ? { id: rec.venueOrderId as string } : { clientOrderId: rec.clientOrderId }),
        market: kindOf(rec),
      });
      const next = await life.applyVenueOrder(rec, o, 'order.update');
      if (TERMINAL.has(next.status)) {
        out.ordersResolved += 1;
        done.push(next);
      }
    }
    return done;
  }

  /** Step 2: orders the venue has and Bosun does not: adopt them (the stop validator protects what they open). */
  async function adopt(venue: string, followed: ReadonlySet<string>, out: ReconcileVenueResult): Promise<void> {
    const gw = ctx.venues.get(venue);
    if (!gw) return;
    const known = new Set<string>();
    for (const r of orders.list()) {
      if (r.venue !== venue) continue;
      known.add(r.clientOrderId);
      if (typeof r.venueOrderId === 'string') known.add(`id:${r.venueOrderId}`);
    }
    const open: Order[] = [];
    // Binance charges 6 weight for one symbol's open orders and 80 for every symbol's at once: the cheaper of the
    // two (past 13 symbols, the one call), keeping only the followed symbols' orders as the per-symbol reads did.
    const tradable = [...followed].filter((s) => ctx.market(venue, s));
    if (venue === 'binance' && tradable.length * 6 <= 80) {
      for (const sym of tradable) open.push(...(await gw.gateway.fetchOpenOrders(sym, 'spot')));
    } else {
      const all = await gw.gateway.fetchOpenOrders(undefined, 'spot');
      open.push(...(venue === 'binance' ? all.filter((o) => followed.has(o.symbol)) : all));
    }
    for (const o of open) {
      const cidAtVenue = o.clientOrderId ?? o.venueClientOrderId;
      if ((cidAtVenue && known.has(cidAtVenue)) || known.has(`id:${o.id}`)) continue;
      if (deps.stops?.owns(venue, { id: o.id, clientOrderId: cidAtVenue })) continue;
      const cid = cidAtVenue ?? `ext-${venue}-${o.id}`;
      await life.adopt(o, {
        clientOrderId: cid,
        venue,
        strategy: 'external',
        reason: 'adopted',
        quote: (o.price ?? 0) * o.amount,
      });
      log.warn({ venue, clientOrderId: cid, symbol: o.symbol }, 'adopted an order the venue has and Bosun did not');
      out.ordersAdopted += 1;
    }
  }

  /**
   * Followed spot symbols Bosun had an order on since `since` (or still has one open): their trades are read first.
   */
  function activeSymbols(venue: string, followed: ReadonlySet<string>, since: number): string[] {
    const out = new Set<string>();
    for (const r of orders.list()) {
      if (r.venue !== venue || kindOf(r) !== 'spot' || !followed.has(r.symbol) || !ctx.market(venue, r.symbol))
        continue;
      if (!TERMINAL.has(r.status) || r.updatedAt >= since) out.add(r.symbol);
    }
    return [...out];
  }

  /**
   * While an asset's venue balance (`venueTotals`) differs from the ledger, the followed symbols not read yet that
   * trade it: a manual trade, or a fill the stream and REST both missed, shows as a difference. First the symbols
   * whose base differs (a manual ETH buy moves ETH and USDT: ETHUSDT explains both); only a difference left after
   * them reads every symbol with the asset on either side (`quoted`: a quote asset's difference, every symbol
   * quoted in it).
   */
  function unexplainedSymbols(
    venue: string,
    followed: ReadonlySet<string>,
    venueTotals: Record<string, number>,
    read: ReadonlySet<string>,
    quoted: boolean,
  ): string[] {
    const assets = new Set(balanceDiffs(book.ledger().venues[venue]?.balances ?? {}, venueTotals).map((d) => d.asset));
    if (assets.size === 0) return [];
    return [...followed].filter((s) => {
      const m = read.has(s) ? undefined : ctx.market(venue, s);
      return m !== undefined && (assets.has(m.base) || (quoted && assets.has(m.quote)));
    });
  }

  /** Step 3: trades since the ledger's cursor, then balances; repeated while the venue moves under us. */
  async function settleBalances(venue: string, followed: ReadonlySet<string>, out: ReconcileVenueResult) {
    const gw = ctx.venues.get(venue);
    if (!gw) return;
    // Up to three tries back to back: the venue's balances must not move between the two reads.
    const r = await poll({ attempts: 3, backoff: { firstMs: 0, maxMs: 0 }, sleep: ctx.sleep }, async () => {
      // Taken before the first read: once this pass explains the balances, every trade before it is in the ledger.
      const passAt = now();
      const before = totals(await gw.gateway.fetchBalances('spot'));
      // From where the trades are accounted for (the last clean pass or baseline), less 10 minutes for the venue's
      // clock and late prints; a store from before that record reads from its latest fill, as it always did.
      const cursor = book.reconciledThrough(venue) || (book.ledger().venues[venue]?.lastTradeAt ?? 0);
      const since = Math.max(0, cursor - 10 * 60_000);
      if (venue === 'kraken') {
        // Kraken returns every pair's trades in one call (and charges its private counter per call).
        const trades = await gw.gateway.fetchMyTrades({ since, market: 'spot' });
        out.fillsApplied += await life.applyTrades(venue, trades);
      } else {
        // Binance has trade history per symbol only (20 weight each): read it where something happened, not for
        // every followed symbol (1,000 symbols cost 20,000 weight a pass, against 6,000 a minute).
        const read = new Set<string>();
        let next = activeSymbols(venue, followed, since);
        for (;;) {
          for (const s of next) {
            read.add(s);
            const trades = await gw.gateway.fetchMyTrades({ symbol: s, since, market: 'spot' });
            out.fillsApplied += await life.applyTrades(venue, trades);
          }
          next = unexplainedSymbols(venue, followed, before, read, false);
          if (next.length === 0) next = unexplainedSymbols(venue, followed, before, read, true);
          if (next.length === 0) break;
        }
      }
      const after = totals(await gw.gateway.fetchBalances('spot'));
      return { done: JSON.stringify(before) === JSON.stringify(after), value: { after, passAt } };
    });
    if (r.done && r.value) {
      const ledger = book.ledger().venues[venue]?.balances ?? {};
      out.mismatches = balanceDiffs(ledger, r.value.after).map(
        (d) => `${d.asset}: ledger ${d.ledger} venue ${d.venue}`,
      );
      // Explained: the next pass reads trades from here. Not explained: the cursor stays where it was.
      if (out.mismatches.length === 0) await book.markReconciled(venue, r.value.passAt);
      return;
    }
    throw new AppError(
      'VENUE_UNAVAILABLE',
      `${venue}: balances moved between the two reads three times in a row; not reconciled (retried later)`,
    );
  }

  async function reconcileVenue(venue: string): Promise<ReconcileVenueResult> {
    const gw = ctx.venues.get(venue);
    if (!gw) throw new AppError('NOT_FOUND', `no venue '${venue}'`);
    const out: ReconcileVenueResult = { fillsApplied: 0, ordersResolved: 0, ordersAdopted: 0, mismatches: [] };
    await gw.gateway.loadMarkets();
    takeSlots(venue);
    const finished = await resolveOpen(venue, out);
    const followed = new Set<string>(deps.symbols[venue] ?? []);
    for (const r of orders.list()) if (r.venue === venue) followed.add(r.symbol);
    await adopt(venue, followed, out);
    await settleBalances(venue, followed, out);
    const perps = await life.perp.reconcile(venue);
    out.fillsApplied += perps.fills;
    out.mismatches.push(...perps.mismatches);
    // Their fills are in the ledger now (step 3): their slots and reservations may go.
    for (const rec of finished) life.finish(orders.get(rec.clientOrderId) ?? rec, rec.filled > 0);
    if (out.mismatches.length > 0) {
      log.error(
        { venue, mismatches: out.mismatches },
        'reconciliation cannot explain the venue balances: halting the venue',
      );
      await inputs.haltVenue(venue, 'reconcile_mismatch');
    }
    return out;
  }

  async function reconcileOne(v: string, result: ReconcileResult): Promise<void> {
    let p = running.get(v);
    if (!p) {
      const started = deps.hr();
      p = reconcileVenue(v).finally(() => {
        running.delete(v);
        log.debug({ venue: v, ms: Math.round(deps.hr() - started) }, 'reconciled');
      });
      running.set(v, p);
    }
    try {
      const r = await p;
      result.venues[v] = r;
      result.fillsApplied += r.fillsApplied;
      unreconciled.delete(v);
      lastOk.set(v, now());
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
  }

  return {
    takeSlots,
    /** Venues are independent: reconciled side by side; a second call while one runs joins it. */
    async reconcileAll(): Promise<ReconcileResult> {
      const result: ReconcileResult = { fillsApplied: 0, venues: {}, at: now() };
      await Promise.all([...ctx.venues.keys()].map((v) => reconcileOne(v, result)));
      return result;
    },
    /** One venue (a user-data stream's gap fill); joins a run in progress like reconcileAll. */
    async reconcileVenue(venue: string): Promise<ReconcileResult> {
      const result: ReconcileResult = { fillsApplied: 0, venues: {}, at: now() };
      await reconcileOne(venue, result);
      return result;
    },
    /** When the venue last reconciled successfully (undefined: never in this process). */
    reconciledAt: (venue: string): number | undefined => lastOk.get(venue),
    isUnreconciled: (venue: string) => unreconciled.has(venue),
    unreconciledVenues: () => [...unreconciled],
    /** The oldest venue's last success (0 before any venue has reconciled). */
    lastReconcileAt(): number {
      let oldest = Number.POSITIVE_INFINITY;
      for (const v of ctx.venues.keys()) oldest = Math.min(oldest, lastOk.get(v) ?? 0);
      return Number.isFinite(oldest) ? oldest : 0;
    },
    /** Seconds since every venue was last reconciled (from the engine's start for one never reconciled). */
    lagSeconds(): number {
      let oldest = Number.POSITIVE_INFINITY;
      for (const v of ctx.venues.keys()) oldest = Math.min(oldest, lastOk.get(v) ?? startedAt);
      return Number.isFinite(oldest) ? Math.max(0, (now() - oldest) / 1000) : 0;
    },
  };
}
