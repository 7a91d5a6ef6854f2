import type { AnyActorRef } from 'xstate';
import { actorId } from '../domain/ids.js';
import type { Metrics } from '../metrics/metrics.js';

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

/**
 * Delivers ticks to symbol actors with back-pressure by coalescing (DESIGN §5): ticks wait in a map keyed by
 * symbol (latest wins) and are delivered in one batch per event-loop turn, so however fast feeds push, the backlog
 * is bounded by the number of symbols and a busy loop sees only the newest price.
 */
export function createTickRouter(opts: {
  lookup: (systemId: string) => AnyActorRef | undefined;
  metrics: Metrics;
  onPrice?: (venue: string, symbol: string, tick: RoutedTick) => void;
  schedule?: (fn: () => void) => void;
}) {
  const pending = new Map<string, RoutedTick>();
  const counters = new Map<string, { inc(): void }>();
  const schedule = opts.schedule ?? setImmediate;
  let scheduled = false;
  let coalesced = 0;
  let delivered = 0;

  function flush(): void {
    scheduled = false;
    for (const [id, t] of pending) {
      pending.delete(id);
      const ref = opts.lookup(id);
      if (!ref) continue;
      opts.onPrice?.(t.venue, t.symbol, t);
      ref.send({ type: 'venue.tick', ...t });
      let c = counters.get(id);
      if (!c) {
        c = opts.metrics.strategyTicks.labels({ venue: t.venue, symbol: t.symbol });
        counters.set(id, c);
      }
      c.inc();
      delivered += 1;
    }
  }

  return {
    push(t: RoutedTick): void {
      const id = actorId.symbol(t.venue, t.symbol);
      if (pending.has(id)) coalesced += 1;
      pending.set(id, t);
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    /** Delivers what is pending now (tests, shutdown). */
    flush,
    stats: () => ({ coalesced, delivered, pending: pending.size }),
  };
}

export type TickRouter = ReturnType<typeof createTickRouter>;
