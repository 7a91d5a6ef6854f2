import type { AnyActorRef } from 'xstate';
import { actorId } from '../domain/ids.js';
import { type BarClosedEvent, tickPrice } from '../machines/symbol.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import { addTick, type BarState, initialBars } from '../strategies/bars.js';

/** A tick as the feeds hand it over; `t0` is the high-resolution receive time. */
export interface RoutedTick {
  venue: string;
  symbol: string;
  bid: number | null;
  ask: number | null;
  last: number | null;
  receivedAt: number;
  t0: number;
}

/** Closed bars a symbol may have waiting for delivery; past this the oldest is dropped (counted as coalesced). */
export const MAX_PENDING_BARS = 8;

/** Default time slice of one scheduled bar delivery (ms) before it yields the event loop. */
export const FLUSH_SLICE_MS = 2;

/** One symbol's data plane: its bar builder and the closed bars waiting for its actor. */
interface Lane {
  id: string;
  bars: BarState;
  /** Ticks since the last delivered bar. */
  ticks: number;
  /** Closed bars waiting for the actor; swapped with `spare` on delivery, so no array is made per delivery. */
  pending: BarClosedEvent[];
  spare: BarClosedEvent[];
  counter: { inc(n: number): void };
  /** Ticks not yet added to `strategy_ticks_total` (added at each scrape). */
  uncounted: number;
}

/**
 * The data plane of the symbol actors (DESIGN §5). Every tick is folded into its symbol's bar here, as plain code
 * (`addTick`, allocation-free), and only a closed bar becomes an XState event (`bar.closed`) for the symbol actor,
 * which runs the strategies and decides. Measured: an XState event costs 4–20 µs, a plain `addTick` ~0.1 µs, so
 * one event per tick made the actor pipeline ~250× the plain one in CPU per tick; per bar it is a small multiple.
 *
 * Back-pressure: closed bars wait in a per-symbol queue of at most MAX_PENDING_BARS and are delivered in time
 * slices of FLUSH_SLICE_MS per event-loop turn (in arrival order), so the backlog is bounded by the number of symbols however fast feeds push, and unlike
 * coalescing ticks no tick is lost to a bar. A symbol without a live actor (restarting, or stopped by the
 * scanner) keeps its bar building; its closed bars are dropped, as ticks to it were.
 */
export function createTickRouter(opts: {
  lookup: (systemId: string) => AnyActorRef | undefined;
  metrics: Metrics;
  /** Bar length (BAR_MS). */
  barMs: number;
  /** Every tick with a usable price, and that price (`tickPrice`: mid, else last). */
  onPrice?: (venue: string, symbol: string, price: number, tick: RoutedTick) => void;
  schedule?: (fn: () => void) => void;
  /**
   * Most time one scheduled delivery runs before it yields the event loop (ms, default FLUSH_SLICE_MS); what is
   * left is delivered in the next turn. The clock is `performance.now()` unless given (tests).
   */
  sliceMs?: number;
  clock?: () => number;
}) {
  // venue → symbol → lane: no string is built per tick.
  const lanes = new Map<string, Map<string, Lane>>();
  const dirty = new Set<Lane>();
  const all: Lane[] = [];
  // Tick counts reach prom-client when it is read, not per tick (a labelled inc allocates a key string each call).
  opts.metrics.onStrategyTicksCollect(() => {
    for (const l of all)
      if (l.uncounted > 0) {
        l.counter.inc(l.uncounted);
        l.uncounted = 0;
      }
  });
  const schedule = opts.schedule ?? setImmediate;
  const sliceMs = opts.sliceMs ?? FLUSH_SLICE_MS;
  const clock = opts.clock ?? (() => performance.now());
  let scheduled = false;
  let coalesced = 0;
  let delivered = 0;
  let ticks = 0;

  function lane(venue: string, symbol: string): Lane {
    let byVenue = lanes.get(venue);
    if (!byVenue) {
      byVenue = new Map();
      lanes.set(venue, byVenue);
    }
    let l = byVenue.get(symbol);
    if (!l) {
      l = {
        id: actorId.symbol(venue, symbol),
        bars: initialBars(opts.barMs),
        ticks: 0,
        pending: [],
        spare: [],
        counter: opts.metrics.strategyTicks.labels({ venue, symbol }),
        uncounted: 0,
      };
      all.push(l);
      byVenue.set(symbol, l);
    }
    return l;
  }

  /**
   * Delivers pending bars in lane order. Past the deadline it stops before the next lane (the first always runs, so
   * every slice makes progress) and returns false while lanes are left.
   */
  function deliver(deadline: number): boolean {
    let first = true;
    for (const l of dirty) {
      if (!first && clock() >= deadline) return false;
      first = false;
      dirty.delete(l);
      const ref = opts.lookup(l.id);
      // Swapped before sending: a bar pushed meanwhile (an effect that ticks) joins the other array.
      const events = l.pending;
      l.pending = l.spare;
      l.spare = events;
      if (ref)
        for (let i = 0; i < events.length; i++) {
          ref.send(events[i] as BarClosedEvent);
          delivered += 1;
        }
      events.length = 0;
    }
    return true;
  }

  function flush(): void {
    scheduled = false;
    deliver(Number.POSITIVE_INFINITY);
  }

  /**
   * The scheduled delivery runs in slices: a feed poll that closes every symbol's bar at once (1,000 bar events,
   * ~15 ms of strategies) would otherwise hold the event loop for all of it, and with it the LMDB commit
   * completions that hand earlier orders to the venue, timers and the ops API. A lane that did not fit waits one
   * turn, keeps its place in the order (Set insertion order), and new bars for it join its queue.
   */
  function scheduledFlush(): void {
    scheduled = false;
    if (!deliver(clock() + sliceMs) && !scheduled) {
      scheduled = true;
      schedule(scheduledFlush);
    }
  }

  return {
    push(t: RoutedTick): void {
      const l = lane(t.venue, t.symbol);
      ticks += 1;
      l.uncounted += 1;
      const price = tickPrice(t);
      if (price === null) return;
      opts.onPrice?.(t.venue, t.symbol, price, t);
      l.ticks += 1;
      const bar = addTick(l.bars, price, t.receivedAt);
      if (bar === null) return;
      if (l.pending.length >= MAX_PENDING_BARS) {
        l.pending.shift();
        coalesced += 1;
      }
      l.pending.push({ type: 'bar.closed', bar, price, receivedAt: t.receivedAt, t0: t.t0, ticks: l.ticks });
      l.ticks = 0;
      dirty.add(l);
      if (!scheduled) {
        scheduled = true;
        schedule(scheduledFlush);
      }
    },
    /** Delivers what is pending now (tests, shutdown). */
    flush,
    /** `ticks` folded into bars; `delivered` bar events; `coalesced` bars dropped to the backlog bound. */
    stats: () => ({ ticks, delivered, coalesced, pending: dirty.size }),
  };
}

export type TickRouter = ReturnType<typeof createTickRouter>;
