import { clientOrderId } from '../domain/client-order-id.js';
import { snapDown, snapUp } from '../domain/precision.js';
import type { Logger } from '../logging/logger.js';
import type { StopPassResult } from '../machines/stop-validator.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { JournalStore } from '../store/index.js';
import type { StopPositionView } from '../supervisor/trading-port.js';
import type { MarketInfo, Order, Position, VenueGateway } from '../venues/venue-gateway.js';
import { stopView } from './stop-views.js';

/**
 * The stop validator's perpetual side (Binance USDⓈ-M, one-way mode): every perpetual position Bosun holds keeps one
 * live protective stop at the venue — a reduce-only STOP_MARKET on the closing side (a sell below a long, a buy
 * above a short) for the quantity Bosun holds, at STOP_LOSS_PCT from the entry. Placed, resized, flipped and
 * cancelled by the same rules as the spot stops (stop-validator.actors.ts): recorded and journaled before it is
 * sent under an id from the shared generation counter, an unknown create settled by its clientOrderId before any
 * other, cancelled when the position is gone. It is not in the orders store, so no kill and not the fatal path
 * cancel it (money-path invariant I7). Reduce-only locks no margin, so a strategy exit does not release it first;
 * and the venue exempts reduce-only orders from MIN_NOTIONAL (-4164 "… unless you choose reduce only"), so a
 * small position is still protected.
 */
export interface PerpStopRecord {
  symbol: string;
  generation: number;
  clientOrderId: string;
  /** The closing side: sell for a long, buy for a short. */
  side: 'buy' | 'sell';
  qty: number;
  stopPrice: number;
  status: 'pending' | 'live' | 'unknown';
  sentAt: number;
  venueOrderId: string | null;
}

/** The book's perpetual part (`stopval:<venue>:book`, beside the spot stops; the generation is shared). */
export interface PerpStopBook {
  gen: number;
  perpStops?: Record<string, PerpStopRecord>;
  perpFirstSeen?: Record<string, number>;
  /** clientOrderIds of perpetual stops seen triggered, newest last (each journaled `order.stop.triggered` once). */
  perpTriggered?: string[];
  ownedIds: string[];
}

export interface PerpStopOptions {
  /** Bosun's signed share of a perpetual (strategies, hedge, guard): > 0 long, < 0 short. */
  position: (symbol: string) => number;
  /** Perpetuals to watch besides those with a recorded stop. */
  symbols: () => readonly string[];
  /** Average entry of the venue's net position (the perp book's), for the view; absent: unknown. */
  entry?: (symbol: string) => number | undefined;
  /** The venue's positions as this pass read them (the liquidation rail keeps the venue's liquidation price). */
  onPositions?: (positions: readonly Position[]) => void;
}

export interface PerpStopDeps {
  venue: string;
  node: string;
  incarnation?: string;
  journal: JournalStore;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  stopLossPct: number;
  repair: boolean;
  intervalMs: number;
  perp: PerpStopOptions;
  isOurs: (o: Order) => boolean;
  onTriggered?: (symbol: string) => void;
  notify: (symbol: string, text: string, repair: boolean) => void;
}

const STOP_TYPES = new Set(['stop_loss', 'stop_loss_limit']);
const MAX_OWNED = 500;
const MAX_TRIGGERED = 100;
const cidOf = (o: Order) => o.clientOrderId ?? o.venueClientOrderId;
const signedOf = (p: Position | undefined) => (p === undefined ? 0 : p.side === 'short' ? -p.amount : p.amount);

/** What to protect: Bosun's share, capped by the venue's net position on the same side (one-way mode nets). */
export function protectedQty(owned: number, venueNet: number): number {
  if (owned === 0 || Math.sign(owned) !== Math.sign(venueNet)) return 0;
  return Math.sign(owned) * Math.min(Math.abs(owned), Math.abs(venueNet));
}

/** The trigger: STOP_LOSS_PCT beyond the entry on the losing side, and never on the wrong side of the mark. */
export function perpStopPrice(long: boolean, entry: number, mark: number | null, pct: number, tick: number): number {
  const f = pct / 100;
  if (long) {
    let p = entry * (1 - f);
    if (mark !== null && p >= mark) p = mark * (1 - f);
    return snapDown(p, tick);
  }
  let p = entry * (1 + f);
  if (mark !== null && p <= mark) p = mark * (1 + f);
  return snapUp(p, tick);
}

export function createPerpStops(deps: PerpStopDeps) {
  const { venue, journal, log, now } = deps;

  async function cancel(gw: VenueGateway, o: Order, why: string): Promise<void> {
    await gw.cancelOrder({ symbol: o.symbol, market: 'linear', id: o.id });
    await journal.append({
      type: 'order.stop.cancel',
      venue,
      market: 'linear',
      symbol: o.symbol,
      clientOrderId: cidOf(o),
      why,
    });
    log.info({ symbol: o.symbol, clientOrderId: cidOf(o), why }, 'perpetual stop cancelled');
  }

  /** One pass over the venue's perpetuals; counts go into `result` beside the spot ones. */
  async function pass(
    gw: VenueGateway,
    b: PerpStopBook,
    result: StopPassResult,
    save: (b: PerpStopBook) => Promise<unknown>,
  ): Promise<void> {
    if (!gw.marketKinds.includes('linear')) return;
    const markets = gw.markets('linear');
    b.perpStops ??= {};
    b.perpFirstSeen ??= {};
    const stops = b.perpStops;
    const firstSeen = b.perpFirstSeen;
    const watched = [...new Set([...deps.perp.symbols(), ...Object.keys(stops)])].filter(
      (s) => markets[s] !== undefined && (deps.perp.position(s) !== 0 || stops[s] !== undefined),
    );
    if (watched.length === 0) return;
    const positions = await gw.fetchPositions(watched);
    deps.perp.onPositions?.(positions);
    for (const symbol of watched) {
      const m = markets[symbol] as MarketInfo;
      const vp = positions.find((p) => p.symbol === symbol);
      const signed = protectedQty(deps.perp.position(symbol), signedOf(vp));
      const qty = snapDown(Math.abs(signed), m.stepSize);
      const side: 'buy' | 'sell' = signed > 0 ? 'sell' : 'buy';
      const open = (await gw.fetchOpenOrders(symbol, 'linear')).filter(
        (o) => o.symbol === symbol && o.status === 'open' && STOP_TYPES.has(o.type),
      );
      const ours = open.filter(deps.isOurs);
      if (!(qty > 0) || qty < m.minQty) {
        for (const o of ours) await cancel(gw, o, 'position_closed').catch(() => undefined);
        delete stops[symbol];
        delete firstSeen[symbol];
        continue;
      }
      result.positions += 1;
      const done = await settle(gw, b, symbol, open, ours, result);
      if (done === 'unknown') continue;
      let rec = stops[symbol];
      const covering = open.filter((o) => o.side === side && o.remaining >= qty - m.stepSize / 2);
      if (covering.length > 0) {
        const keep = covering.find((o) => cidOf(o) === rec?.clientOrderId) ?? covering.find(deps.isOurs) ?? covering[0];
        for (const o of ours) if (o !== keep) await cancel(gw, o, o.side === side ? 'duplicate' : 'flipped');
        if (keep && deps.isOurs(keep) && rec?.clientOrderId !== cidOf(keep)) {
          rec = {
            symbol,
            generation: rec?.generation ?? b.gen,
            clientOrderId: cidOf(keep) as string,
            side,
            qty: keep.remaining,
            stopPrice: keep.stopPrice ?? 0,
            status: 'live',
            sentAt: keep.timestamp ?? now(),
            venueOrderId: keep.id,
          };
          stops[symbol] = rec;
        }
        delete firstSeen[symbol];
        result.covered += 1;
        continue;
      }
      // Not covered: a lost stop may have done its job (triggered: the position is reconciled, not re-protected).
      const t = now();
      firstSeen[symbol] ??= t;
      const lost = rec !== undefined && !ours.some((o) => cidOf(o) === rec?.clientOrderId);
      if (lost && rec) {
        const r = await gw.resolveUnknown(rec.clientOrderId, { symbol, market: 'linear', sentAt: rec.sentAt });
        if (r.status === 'found' && r.order.filled > 0) {
          await triggered(b, symbol, rec.clientOrderId, null, r.order.filled);
          deps.onTriggered?.(symbol);
          continue;
        }
      }
      const missing = lost || t - (firstSeen[symbol] as number) >= deps.intervalMs;
      if (missing) {
        deps.metrics.stopValidatorMissing.inc({ venue, symbol });
        result.missing.push(symbol);
      }
      if (!deps.repair) {
        result.unprotected.push(symbol);
        if (missing)
          deps.notify(symbol, `${qty} ${signed > 0 ? 'long' : 'short'} perpetual held without a stop`, false);
        continue;
      }
      // Ours that no longer cover (resized, or on the side of a position that flipped): replaced.
      for (const o of ours) await cancel(gw, o, o.side === side ? 'resize' : 'flipped');
      const entry = vp?.entryPrice ?? vp?.markPrice ?? null;
      if (entry === null || !(entry > 0)) {
        result.unprotected.push(symbol);
        continue;
      }
      await place(gw, b, { symbol, side, qty, m, entry, mark: vp?.markPrice ?? null, missing }, result, save);
    }
  }

  /** A stop whose create outcome is not known yet: settled by clientOrderId before anything else. */
  async function settle(
    gw: VenueGateway,
    b: PerpStopBook,
    symbol: string,
    open: Order[],
    ours: Order[],
    result: StopPassResult,
  ): Promise<'unknown' | 'ok'> {
    const stops = b.perpStops as Record<string, PerpStopRecord>;
    const rec = stops[symbol];
    if (!rec || rec.status === 'live') return 'ok';
    const seen = open.find((o) => cidOf(o) === rec.clientOrderId);
    const r = seen
      ? ({ status: 'found', order: seen } as const)
      : await gw.resolveUnknown(rec.clientOrderId, { symbol, market: 'linear', sentAt: rec.sentAt });
    if (r.status === 'still_unknown') {
      result.unprotected.push(symbol);
      return 'unknown'; // never a second stop while the first may exist
    }
    if (r.status === 'found' && r.order.status === 'open') {
      stops[symbol] = { ...rec, status: 'live', venueOrderId: r.order.id };
      if (!open.includes(r.order)) {
        open.push(r.order);
        ours.push(r.order);
      }
    } else stops[symbol] = { ...rec, status: 'live' };
    await journal.append({
      type: 'order.stop.resolved',
      venue,
      market: 'linear',
      symbol,
      clientOrderId: rec.clientOrderId,
      found: r.status,
    });
    return 'ok';
  }

  async function place(
    gw: VenueGateway,
    b: PerpStopBook,
    p: {
      symbol: string;
      side: 'buy' | 'sell';
      qty: number;
      m: MarketInfo;
      entry: number;
      mark: number | null;
      missing: boolean;
    },
    result: StopPassResult,
    save: (b: PerpStopBook) => Promise<unknown>,
  ): Promise<void> {
    const stops = b.perpStops as Record<string, PerpStopRecord>;
    const stopPrice = perpStopPrice(p.side === 'sell', p.entry, p.mark, deps.stopLossPct, p.m.tickSize);
    const generation = b.gen + 1;
    const cid = clientOrderId({
      node: deps.node,
      venue,
      symbol: p.symbol,
      strategy: 'stop',
      seq: generation,
      ...(deps.incarnation ? { incarnation: deps.incarnation } : {}),
    });
    const next: PerpStopRecord = {
      symbol: p.symbol,
      generation,
      clientOrderId: cid,
      side: p.side,
      qty: p.qty,
      stopPrice,
      status: 'pending',
      sentAt: now(),
      venueOrderId: null,
    };
    b.gen = generation;
    stops[p.symbol] = next;
    // Recorded and journaled before it is sent: after a crash the id is looked up, never re-sent under a new one.
    await save(b);
    await journal.append({ type: 'order.stop.intent', venue, market: 'linear', ...next, repair: p.missing });
    const res = await gw.createOrder({
      clientOrderId: cid,
      symbol: p.symbol,
      side: p.side,
      type: 'stop_loss',
      amount: p.qty,
      stopPrice,
      reduceOnly: true,
      market: 'linear',
    });
    if (res.status === 'accepted') {
      stops[p.symbol] = { ...next, status: 'live', venueOrderId: res.order.id };
      b.ownedIds = [...b.ownedIds, res.order.id].slice(-MAX_OWNED);
      delete b.perpFirstSeen?.[p.symbol];
      result.placed.push(p.symbol);
      await journal.append({
        type: 'order.stop.ack',
        venue,
        market: 'linear',
        symbol: p.symbol,
        clientOrderId: cid,
        venueOrderId: res.order.id,
      });
      log.info({ symbol: p.symbol, side: p.side, qty: p.qty, stopPrice, clientOrderId: cid }, 'perpetual stop placed');
      if (p.missing)
        deps.notify(p.symbol, `${p.side} ${p.qty} reduce-only stop ${stopPrice} (gen ${generation})`, true);
    } else if (res.status === 'rejected') {
      delete stops[p.symbol];
      result.unprotected.push(p.symbol);
      await journal.append({
        type: 'order.stop.reject',
        venue,
        market: 'linear',
        symbol: p.symbol,
        clientOrderId: cid,
        reason: res.error.reason.slice(0, 300),
      });
      log.error({ symbol: p.symbol, reason: res.error.reason }, 'venue refused the perpetual stop');
    } else {
      stops[p.symbol] = { ...next, status: 'unknown' };
      result.unprotected.push(p.symbol);
      await journal.append({
        type: 'order.stop.unknown',
        venue,
        market: 'linear',
        symbol: p.symbol,
        clientOrderId: cid,
        reason: res.error.reason.slice(0, 300),
      });
    }
  }

  /**
   * A stop of ours filled (its trade seen by the engine, or the pass found it gone and filled): its record goes, the
   * position is re-protected by the next pass if anything is left, and `order.stop.triggered` is journaled once.
   * `orderId` is the triggered order's venue id (Binance gives it an id of its own), kept so its other trades are
   * known as the stop's without another lookup. True when the book changed.
   */
  async function triggered(
    b: PerpStopBook,
    symbol: string,
    cid: string,
    orderId: string | null,
    filled: number,
  ): Promise<boolean> {
    const rec = b.perpStops?.[symbol];
    const current = rec !== undefined && rec.clientOrderId === cid;
    if (current) {
      delete b.perpStops?.[symbol];
      delete b.perpFirstSeen?.[symbol];
    }
    if (orderId !== null && !b.ownedIds.includes(orderId)) b.ownedIds = [...b.ownedIds, orderId].slice(-MAX_OWNED);
    const seen = b.perpTriggered ?? [];
    if (seen.includes(cid)) return current;
    b.perpTriggered = [...seen, cid].slice(-MAX_TRIGGERED);
    await journal.append({
      type: 'order.stop.triggered',
      venue,
      market: 'linear',
      symbol,
      clientOrderId: cid,
      venueOrderId: orderId,
      filled,
    });
    log.warn({ symbol, clientOrderId: cid, venueOrderId: orderId, filled }, 'perpetual stop triggered');
    return true;
  }

  /** Bosun's perpetual positions and their recorded stops, for `GET /guards/stops`. */
  function view(b: PerpStopBook): StopPositionView[] {
    const stops = b.perpStops ?? {};
    const out: StopPositionView[] = [];
    for (const symbol of new Set([...deps.perp.symbols(), ...Object.keys(stops)])) {
      const signed = deps.perp.position(symbol);
      const r = stops[symbol];
      if (signed === 0 && r === undefined) continue;
      out.push({
        market: 'perp',
        symbol,
        side: signed < 0 || (signed === 0 && r?.side === 'buy') ? 'short' : 'long',
        qty: Math.abs(signed),
        entryPrice: deps.perp.entry?.(symbol) ?? null,
        stop: r ? stopView(r, r.side, true) : null,
        unprotectedSince: b.perpFirstSeen?.[symbol] ?? null,
      });
    }
    return out;
  }

  /** `save` makes the book durable (the validator's write) before a stop's create is sent. */
  return { pass, view, triggered };
}

export type PerpStops = ReturnType<typeof createPerpStops>;
