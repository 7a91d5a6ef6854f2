import { fromPromise } from 'xstate';
import { clientOrderId, parseClientOrderId, sanitizeNode } from '../domain/client-order-id.js';
import { actorId } from '../domain/ids.js';
import type { Fill } from '../domain/portfolio.js';
import { snapDown } from '../domain/precision.js';
import type { Logger } from '../logging/logger.js';
import { type StopPassResult, stopValidatorMachine } from '../machines/stop-validator.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import { stopRepairAlert } from '../notify/alert-text.js';
import type { JournalStore, KvStore } from '../store/index.js';
import type { ChildSpec } from '../supervisor/policy.js';
import type { StopPositionView, StopsView } from '../supervisor/trading-port.js';
import { nextPhaseDelay } from '../venues/poll-schedule.js';
import type { MarketInfo, Order, VenueGateway } from '../venues/venue-gateway.js';
import { createGuardStates } from './guard-state.js';
import { createPerpStops, type PerpStopOptions, type PerpStopRecord } from './perp-stops.js';
import { protectiveStops, stopView } from './stop-views.js';

/**
 * The stop validator's effects (runbook "Missing server-side stop"). The stop book — one record per position, the
 * generation counter, entry prices — lives in LMDB and is the single source of truth: a stop's record is written
 * (status `pending`) and journaled before the create is sent, and its clientOrderId is derived from (venue,
 * symbol, generation) only, so a restart or an unknown create outcome resolves the same id by lookup first and
 * never sends a second stop for the position. Passes are serialised per venue across actor incarnations (a crashed
 * incarnation's pass may still be running when the supervisor restarts the actor).
 *
 * The engine does not place a stop after a fill; a buy fill asks for a pass at once (`noteFill` → `stopval.check`),
 * so a fresh position is protected within one venue round trip, not one interval.
 */
export interface StopAlert {
  key: string;
  text: string;
}

export interface StopValidatorDeps {
  venue: string;
  node: string;
  /**
   * This process's clientOrderId incarnation (the engine's): a stop's id carries it beside the book's generation,
   * so a fresh state directory or a restored backup (generation back at an older value) never re-sends an id the
   * venue already holds. Without it, the older format (tests of the older books).
   */
  incarnation?: string;
  /** The venue's gateway (the link's, once the venue link has replaced the raw one). */
  gateway: () => VenueGateway;
  kv: KvStore;
  journal: JournalStore;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  /** Symbols to watch besides those with a recorded position (TRADE_SYMBOLS). */
  symbols: () => readonly string[];
  /** Base quantity Bosun holds for its own trading: strategies + executor (the ledger, durable with each fill). */
  ownedPosition: (symbol: string) => number;
  /** Latest price, for a position whose entry price is unknown and to keep a stop below the market. */
  price: (symbol: string) => number | undefined;
  stopLossPct: number;
  repair: boolean;
  notifyEnabled: boolean;
  intervalMs: number;
  /**
   * Passes after the first run at this offset past each multiple of `intervalMs` on `now`'s clock, instead of
   * `intervalMs` after the last one (src/venues/poll-schedule.ts); undefined: every `intervalMs`.
   */
  phaseMs?: number;
  /** The notifier's entry point; default logs the alert. */
  notify?: (alert: StopAlert) => void;
  /** A stop filled at the venue: the ledger must apply its trades (reconciliation). */
  onTriggered?: (symbol: string) => void;
  /** Perpetual positions to protect too (USDⓈ-M, reduce-only stops: perp-stops.ts); absent: spot only. */
  perp?: PerpStopOptions;
}

type StopStatus = 'pending' | 'live' | 'unknown';

interface StopRecord {
  symbol: string;
  generation: number;
  clientOrderId: string;
  qty: number;
  stopPrice: number;
  status: StopStatus;
  sentAt: number;
  venueOrderId: string | null;
}

/** A venue's positions and their stops, as `GET /guards/stops` shows them (the port owns the shape). */
export type StopsVenueView = Pick<StopsView, 'venue' | 'positions' | 'stops'>;

/** What the validator keeps in LMDB (`stopval:<venue>:book`). */
export interface StopBook {
  /** Last generation used on this venue (every stop's id carries one; never reused). */
  gen: number;
  stops: Record<string, StopRecord>;
  /** When a position was first seen without a stop (missing once it stays so for an interval). */
  firstSeen: Record<string, number>;
  /** Average entry of what is held, from fills (strategy-owned and adopted orders). */
  entries: Record<string, { qty: number; cost: number }>;
  /** Base bought through orders adopted by reconciliation (not in the strategy position). */
  adopted: Record<string, number>;
  /** Venue ids of the stops placed, newest last (so their fills count as the strategies'). */
  ownedIds: string[];
  /** Perpetual positions' reduce-only stops, by symbol (perp-stops.ts). */
  perpStops?: Record<string, PerpStopRecord>;
  perpFirstSeen?: Record<string, number>;
}

const EMPTY: StopBook = { gen: 0, stops: {}, firstSeen: {}, entries: {}, adopted: {}, ownedIds: [] };
const STOP_TYPES = new Set(['stop_loss', 'stop_loss_limit']);
const MAX_OWNED = 500;

export function stopBookKey(venue: string): string {
  return `stopval:${venue}:book`;
}

/**
 * A restart "from the last snapshot" keeps the context (counters, health) but enters the machine afresh: a
 * restored XState snapshot has lost its `after` timer and its in-flight invoke, and would never validate again.
 * The stop book itself is in LMDB, so nothing of the protection lives only in the snapshot.
 */
export function restartable<T extends typeof stopValidatorMachine>(logic: T, venue: string, intervalMs: number): T {
  const wrapped = Object.create(logic) as T;
  (wrapped as { restoreSnapshot: unknown }).restoreSnapshot = (snap: { context?: unknown }, scope: unknown) =>
    logic.getInitialSnapshot(
      scope as never,
      {
        venue,
        intervalMs,
        persisted: (snap?.context ?? {}) as never,
        failClosed: (snap?.context as { failClosed?: string } | undefined)?.failClosed,
      } as never,
    );
  return wrapped;
}

export function createStopValidator(deps: StopValidatorDeps) {
  const { venue, kv, journal, metrics, now } = deps;
  const id = actorId.stopValidator(venue);
  const log = deps.log.child({ actor: id });
  const node = sanitizeNode(deps.node);
  const notify = deps.notify ?? ((a: StopAlert) => log.info({ key: a.key }, `notify (no notifier wired): ${a.text}`));
  let lock: Promise<unknown> = Promise.resolve();

  const load = (): StopBook => ({ ...EMPTY, ...(kv.get<StopBook>(stopBookKey(venue)) ?? {}) });
  const save = (b: StopBook) => kv.put(stopBookKey(venue), b);

  const isOursCid = (cid: string | null | undefined): boolean => {
    const p = cid ? parseClientOrderId(cid) : null;
    // Ids with an incarnation carry the node cut to 10 characters (client-order-id.ts).
    return p !== null && p.node === (p.incarnation ? node.slice(0, 10) : node) && p.strategyCode === 's';
  };
  const isOurs = (o: Order): boolean => isOursCid(o.clientOrderId ?? o.venueClientOrderId);
  /** Venue order id → the clientOrderId the venue holds for it (null: none), as looked up for a perpetual trade. */
  const looked = new Map<string, string | null>();
  const cidOf = (o: Order) => o.clientOrderId ?? o.venueClientOrderId;
  const perpStops = deps.perp
    ? createPerpStops({
        venue,
        node: deps.node,
        ...(deps.incarnation ? { incarnation: deps.incarnation } : {}),
        journal,
        metrics,
        log,
        now,
        stopLossPct: deps.stopLossPct,
        repair: deps.repair,
        intervalMs: deps.intervalMs,
        perp: deps.perp,
        isOurs,
        ...(deps.onTriggered ? { onTriggered: deps.onTriggered } : {}),
        notify: (symbol, text, repair) => {
          if (!deps.notifyEnabled) return;
          if (repair) notify(stopRepairAlert(venue, `${symbol} perpetual`, text));
          else
            notify({
              key: `stopval:${venue}:${symbol}:perp`,
              text: `🛡 Missing stop: ${venue} ${symbol} ${text} (repair off)`,
            });
        },
      })
    : undefined;

  function positions(b: StopBook): Array<{ symbol: string; qty: number; entry: number | null }> {
    const syms = new Set<string>([...deps.symbols(), ...Object.keys(b.stops), ...Object.keys(b.adopted)]);
    const out = [];
    for (const symbol of syms) {
      const qty = deps.ownedPosition(symbol) + Math.max(0, b.adopted[symbol] ?? 0);
      const e = b.entries[symbol];
      out.push({ symbol, qty, entry: e && e.qty > 0 ? e.cost / e.qty : null });
    }
    return out;
  }

  async function cancelOurs(gw: VenueGateway, o: Order, why: string): Promise<void> {
    await gw.cancelOrder({ symbol: o.symbol, market: 'spot', id: o.id });
    await journal.append({ type: 'order.stop.cancel', venue, symbol: o.symbol, clientOrderId: cidOf(o), why });
    log.info({ symbol: o.symbol, clientOrderId: cidOf(o), why }, 'stop cancelled');
  }

  /** One pass over every position of the venue. */
  async function pass(): Promise<StopPassResult> {
    const gw = deps.gateway();
    await gw.loadMarkets();
    const markets = gw.markets('spot');
    const b = load();
    const result: StopPassResult = { at: now(), positions: 0, covered: 0, missing: [], placed: [], unprotected: [] };
    // Symbols with something held or a stop on record (a flat symbol with no stop costs no request).
    const all = positions(b).filter(
      (p) => markets[p.symbol] !== undefined && (p.qty > 0 || b.stops[p.symbol] !== undefined),
    );
    // Binance charges 6 weight per symbol and 80 for all at once: ask per symbol there (as reconciliation does).
    const open: Order[] = [];
    if (venue === 'binance') for (const p of all) open.push(...(await gw.fetchOpenOrders(p.symbol, 'spot')));
    else open.push(...(await gw.fetchOpenOrders(undefined, 'spot')));
    const balances = await gw.fetchBalances('spot');

    for (const p of all) {
      const m = markets[p.symbol] as MarketInfo;
      const stops = open.filter(
        (o) => o.symbol === p.symbol && o.side === 'sell' && o.status === 'open' && STOP_TYPES.has(o.type),
      );
      const ours = stops.filter(isOurs);
      const held = balances[m.base]?.total ?? 0;
      const qty = snapDown(Math.min(p.qty, held), m.stepSize);
      const mark = deps.price(p.symbol);
      const ref = mark ?? p.entry ?? 0;
      if (!(qty > 0) || qty < m.minQty || (ref > 0 && qty * ref < m.minNotional)) {
        // Nothing (or dust) held: nothing to protect; our stops for it only lock balance.
        for (const o of ours) await cancelOurs(gw, o, 'position_closed').catch(() => undefined);
        delete b.stops[p.symbol];
        delete b.firstSeen[p.symbol];
        if (!(p.qty > 0)) delete b.entries[p.symbol];
        continue;
      }
      result.positions += 1;

      // 1. A stop whose create outcome is not known yet: settle it by clientOrderId before anything else.
      let rec = b.stops[p.symbol];
      if (rec && rec.status !== 'live') {
        const seen = stops.find((o) => cidOf(o) === rec?.clientOrderId);
        const r = seen
          ? ({ status: 'found', order: seen } as const)
          : await gw.resolveUnknown(rec.clientOrderId, { symbol: p.symbol, market: 'spot', sentAt: rec.sentAt });
        if (r.status === 'still_unknown') {
          result.unprotected.push(p.symbol);
          continue; // never a second stop while the first may exist
        }
        if (r.status === 'found' && r.order.status === 'open') {
          rec = { ...rec, status: 'live', venueOrderId: r.order.id };
          if (!stops.includes(r.order)) {
            stops.push(r.order);
            ours.push(r.order);
          }
        } else rec = { ...rec, status: 'live' }; // it existed once and is gone: judged below as a lost stop
        b.stops[p.symbol] = rec;
        await journal.append({
          type: 'order.stop.resolved',
          venue,
          symbol: p.symbol,
          clientOrderId: rec.clientOrderId,
          found: r.status,
        });
      }

      // 2. Covered: a live sell stop for at least the quantity held. Keep exactly one of ours.
      const covering = stops.filter((o) => o.remaining >= qty - m.stepSize / 2);
      if (covering.length > 0) {
        const keep = covering.find((o) => cidOf(o) === rec?.clientOrderId) ?? covering.find(isOurs) ?? covering[0];
        for (const o of ours) if (o !== keep) await cancelOurs(gw, o, 'duplicate');
        if (keep && isOurs(keep) && rec?.clientOrderId !== cidOf(keep)) {
          const g = parseClientOrderId(cidOf(keep) as string)?.seq ?? b.gen;
          rec = {
            symbol: p.symbol,
            generation: g,
            clientOrderId: cidOf(keep) as string,
            qty: keep.remaining,
            stopPrice: keep.stopPrice ?? 0,
            status: 'live',
            sentAt: keep.timestamp ?? now(),
            venueOrderId: keep.id,
          };
          b.stops[p.symbol] = rec;
        }
        delete b.firstSeen[p.symbol];
        result.covered += 1;
        continue;
      }

      // 3. Not covered. A stop Bosun had is gone (dropped, expired, cancelled behind its back), or the position
      //    has gone a whole interval without one: that is a missing stop.
      const t = now();
      b.firstSeen[p.symbol] ??= t;
      // Lost: the stop recorded for the position is not at the venue. Still there but short of the quantity (the
      // position grew) is a resize, not a missing stop.
      const lost = rec !== undefined && !ours.some((o) => cidOf(o) === rec?.clientOrderId);
      if (lost && rec) {
        // Gone from the open orders: it may have done its job. A triggered stop sold the position; the ledger
        // learns it at the next reconciliation, which is asked for now (a new stop would sell other holdings).
        const r = await gw.resolveUnknown(rec.clientOrderId, { symbol: p.symbol, market: 'spot', sentAt: rec.sentAt });
        if (r.status === 'found' && r.order.filled > 0) {
          delete b.stops[p.symbol];
          delete b.firstSeen[p.symbol];
          await journal.append({
            type: 'order.stop.triggered',
            venue,
            symbol: p.symbol,
            clientOrderId: rec.clientOrderId,
            filled: r.order.filled,
          });
          log.warn({ symbol: p.symbol, filled: r.order.filled }, 'server-side stop triggered: reconciling');
          deps.onTriggered?.(p.symbol);
          continue;
        }
      }
      const missing = lost || t - (b.firstSeen[p.symbol] as number) >= deps.intervalMs;
      if (missing) {
        metrics.stopValidatorMissing.inc({ venue, symbol: p.symbol });
        result.missing.push(p.symbol);
        log.warn(
          { symbol: p.symbol, qty, lost: rec?.clientOrderId ?? null },
          'position without a live server-side stop',
        );
      }
      if (!deps.repair) {
        result.unprotected.push(p.symbol);
        if (missing && deps.notifyEnabled)
          notify({
            key: `stopval:${venue}:${p.symbol}`,
            text: `🛡 Missing stop: ${venue} ${p.symbol} ${qty} held without a server-side stop (repair off)`,
          });
        continue;
      }
      // Ours that no longer cover (the position grew) hold the base locked: free it before the new stop.
      for (const o of ours) await cancelOurs(gw, o, 'resize');
      const entry = p.entry ?? mark;
      if (entry === undefined || !(entry > 0)) {
        result.unprotected.push(p.symbol);
        log.warn({ symbol: p.symbol }, 'no price to place a stop at yet');
        continue;
      }
      const pct = deps.stopLossPct / 100;
      let stopPrice = entry * (1 - pct);
      // A stop at or above the market fires at once (Binance refuses it): keep the same distance below the market.
      if (mark !== undefined && stopPrice >= mark) stopPrice = mark * (1 - pct);
      stopPrice = snapDown(stopPrice, m.tickSize);
      const generation = b.gen + 1;
      const cid = clientOrderId({
        node: deps.node,
        venue,
        symbol: p.symbol,
        strategy: 'stop',
        seq: generation,
        ...(deps.incarnation ? { incarnation: deps.incarnation } : {}),
      });
      const next: StopRecord = {
        symbol: p.symbol,
        generation,
        clientOrderId: cid,
        qty,
        stopPrice,
        status: 'pending',
        sentAt: t,
        venueOrderId: null,
      };
      b.gen = generation;
      b.stops[p.symbol] = next;
      // Journaled before it is sent: after a crash the id is looked up, never re-sent under a new one.
      await save(b);
      await journal.append({ type: 'order.stop.intent', venue, ...next, repair: missing });
      const res = await gw.createOrder({
        clientOrderId: cid,
        symbol: p.symbol,
        side: 'sell',
        type: 'stop_loss',
        amount: qty,
        stopPrice,
        market: 'spot',
      });
      if (res.status === 'accepted') {
        b.stops[p.symbol] = { ...next, status: 'live', venueOrderId: res.order.id };
        b.ownedIds = [...b.ownedIds, res.order.id].slice(-MAX_OWNED);
        delete b.firstSeen[p.symbol];
        result.placed.push(p.symbol);
        await journal.append({
          type: 'order.stop.ack',
          venue,
          symbol: p.symbol,
          clientOrderId: cid,
          venueOrderId: res.order.id,
        });
        log.info({ symbol: p.symbol, qty, stopPrice, clientOrderId: cid, repair: missing }, 'server-side stop placed');
        if (missing && deps.notifyEnabled)
          notify(stopRepairAlert(venue, p.symbol, `sell ${qty} stop ${stopPrice} (gen ${generation})`));
      } else if (res.status === 'rejected') {
        delete b.stops[p.symbol];
        result.unprotected.push(p.symbol);
        await journal.append({
          type: 'order.stop.reject',
          venue,
          symbol: p.symbol,
          clientOrderId: cid,
          reason: res.error.reason.slice(0, 300),
        });
        log.error({ symbol: p.symbol, reason: res.error.reason }, 'venue refused the stop');
      } else {
        b.stops[p.symbol] = { ...next, status: 'unknown' };
        result.unprotected.push(p.symbol);
        await journal.append({
          type: 'order.stop.unknown',
          venue,
          symbol: p.symbol,
          clientOrderId: cid,
          reason: res.error.reason.slice(0, 300),
        });
      }
      await save(b);
    }
    if (perpStops) await perpStops.pass(gw, b, result, (x) => save(x as StopBook));
    await save(b);
    return result;
  }

  /** Serialised: a pass of a crashed incarnation finishes before the next one reads the book. */
  function serialised(): Promise<StopPassResult> {
    const run = lock.then(pass, pass);
    lock = run.catch(() => undefined);
    return run;
  }

  // Its counters, handed back at every spawn (guard-state.ts), under the key the guards use.
  const states = createGuardStates({ kv, prefix: 'guard:', log });
  const phaseMs = deps.phaseMs;
  const provided = stopValidatorMachine.provide({
    actors: { validate: fromPromise(() => serialised()) },
    ...(phaseMs === undefined
      ? {}
      : { delays: { interval: ({ context }) => nextPhaseDelay(now(), context.intervalMs, phaseMs) } }),
    actions: {
      'stopval.publish': ({ context }) => {
        states.publish(id, {
          passes: context.passes,
          missingTotal: context.missingTotal,
          placedTotal: context.placedTotal,
          lastPassAt: context.lastPassAt,
        });
      },
    },
  });

  const machine = restartable(provided, venue, deps.intervalMs);

  return {
    id,
    machine,
    /** The child to put under `venue:<v>` (or `guards:<v>`): a money guard, restarted from its snapshot. */
    child(): { spec: ChildSpec; logics: Record<string, unknown> } {
      return {
        spec: {
          id,
          src: id,
          flavour: 'guard',
          shutdownMs: 0,
          input: states.spawnInput(id, { venue, intervalMs: deps.intervalMs }),
        },
        logics: { [id]: machine },
      };
    },
    /** Entry prices and adopted quantities from fills; true when the fill changed a protected position. */
    async noteFill(fill: Fill, strategy: string): Promise<boolean> {
      if (fill.venue !== venue) return false;
      const owned = strategy !== 'operator' && strategy !== 'external';
      // An adopted order's fill carries its clientOrderId; a manual trade's carries none (not Bosun's position).
      const adopted = strategy === 'external' && fill.clientOrderId !== null;
      if (!owned && !adopted) return false;
      const b = load();
      const e = b.entries[fill.symbol] ?? { qty: 0, cost: 0 };
      if (fill.side === 'buy') b.entries[fill.symbol] = { qty: e.qty + fill.amount, cost: e.cost + fill.cost };
      else if (e.qty > 0) {
        const sold = Math.min(fill.amount, e.qty);
        b.entries[fill.symbol] = { qty: e.qty - sold, cost: e.cost - (e.cost / e.qty) * sold };
      }
      if (adopted)
        b.adopted[fill.symbol] = Math.max(
          0,
          (b.adopted[fill.symbol] ?? 0) + (fill.side === 'buy' ? fill.amount : -fill.amount),
        );
      await save(b);
      return true;
    },
    /**
     * A perpetual trade of no Bosun order: true when it is the fill of a perpetual stop this validator placed, which
     * is then recorded as triggered. The stream names the order's clientOrderId; a REST trade names only the order's
     * venue id, and Binance gives a triggered algo order a regular id of its own (`actualOrderId`), so an id not
     * seen before is looked up at the venue once (that order keeps the stop's clientOrderId). A failed lookup
     * throws: the trade is applied by a later run, never applied as no one's.
     */
    async perpStopFill(t: {
      symbol: string;
      orderId: string | null;
      clientOrderId: string | null;
      amount: number;
    }): Promise<boolean> {
      if (!perpStops) return false;
      let cid = t.clientOrderId;
      if (cid === null && t.orderId !== null) {
        const id = t.orderId;
        if (!looked.has(id)) {
          const o = await deps.gateway().fetchOrder({ symbol: t.symbol, market: 'linear', id });
          looked.set(id, cidOf(o) ?? null);
        }
        cid = looked.get(id) ?? null;
      }
      if (!isOursCid(cid)) return false;
      const run = lock.then(async () => {
        const b = load();
        if (await perpStops.triggered(b, t.symbol, cid as string, t.orderId, t.amount)) await save(b);
      });
      lock = run.catch(() => undefined);
      await run;
      return true;
    },
    /** True for a stop this validator placed (reconciliation does not adopt it; its fills are the strategies'). */
    owns(o: { id?: string | null; clientOrderId?: string | null }): boolean {
      const p = o.clientOrderId ? parseClientOrderId(o.clientOrderId) : null;
      if (p && p.node === node && p.strategyCode === 's') return true;
      return typeof o.id === 'string' && load().ownedIds.includes(o.id);
    },
    /**
     * Cancels this validator's stops on a symbol before a strategy sell (the stop locks the base it would sell);
     * the next pass re-protects what is left, as a fresh placement rather than a missing stop.
     */
    release(symbol: string): Promise<void> {
      const run = lock.then(async () => {
        const b = load();
        // Every stop this validator sends is recorded before it is sent: no record, nothing of ours to release.
        if (b.stops[symbol] === undefined) return;
        const gw = deps.gateway();
        const open = await gw.fetchOpenOrders(symbol, 'spot');
        for (const o of open)
          if (o.side === 'sell' && STOP_TYPES.has(o.type) && isOurs(o)) await cancelOurs(gw, o, 'exit');
        const rec = b.stops[symbol];
        // A stop whose outcome is still unknown stays recorded: the next pass settles it by its id.
        if (rec && rec.status === 'live') delete b.stops[symbol];
        delete b.firstSeen[symbol];
        await save(b);
      });
      lock = run.catch(() => undefined);
      return run;
    },
    /** Positions and their recorded stops, spot and perpetual, for `GET /guards/stops` (as the last pass left them). */
    view(): StopsVenueView {
      const b = load();
      const spot = positions(b)
        .filter((p) => p.qty > 0 || b.stops[p.symbol] !== undefined)
        .map((p): StopPositionView => {
          const r = b.stops[p.symbol];
          return {
            market: 'spot',
            symbol: p.symbol,
            side: 'long',
            qty: p.qty,
            entryPrice: p.entry,
            stop: r ? stopView(r, 'sell', false) : null,
            unprotectedSince: b.firstSeen[p.symbol] ?? null,
          };
        });
      const all = [...spot, ...(perpStops?.view(b) ?? [])];
      return { venue, positions: all, stops: protectiveStops(all) };
    },
    book: load,
    /** One pass outside the actor (tests, the route): serialised with the actor's own. */
    pass: serialised,
  };
}

export type StopValidator = ReturnType<typeof createStopValidator>;
