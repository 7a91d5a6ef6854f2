import { enqueueActions, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * breaker:<venue>:venue — the venue error-rate breaker (VENUE_ERROR_BREAKER_PCT over the last
 * VENUE_ERROR_WINDOW requests). Once tripped it stays tripped (a money guard does not re-arm itself on a few lucky
 * requests) until an operator resets it — Bosun's `RiskRails.record_result(True)` — which clears the window.
 */
export interface VenueBreakerInput {
  venue: string;
  tripPct: number;
  window: number;
  minSamples: number;
  persisted?: Partial<VenueBreakerContext> | undefined;
  failClosed?: string;
}

export interface VenueBreakerContext extends HealthContext {
  venue: string;
  tripPct: number;
  window: number;
  minSamples: number;
  /** Last outcomes, oldest first: 1 = error, 0 = ok. */
  outcomes: number[];
  errors: number;
  errorPct: number;
  tripped: boolean;
  reason: string;
  since: number | null;
  resets: number;
}

export type VenueBreakerEvent =
  | { type: 'breaker.result'; ok: boolean; at: number }
  | { type: 'breaker.reset'; at: number; by: string }
  | { type: 'limits.update'; tripPct: number }
  | { type: 'sup.shutdown' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const VENUE_BREAKER_DEFAULTS = { tripPct: 50, window: 20, minSamples: 10 } as const;

export function venueBreakerView(ctx: unknown) {
  const c = ctx as VenueBreakerContext;
  // A guard restarted fail-closed (crash loop) counts as tripped until an operator resets it.
  const failClosed = c.failClosed ? `crash_loop: ${c.failClosed}` : '';
  return {
    tripped: c.tripped || failClosed !== '',
    reason: c.tripped ? c.reason : failClosed,
    since: c.since,
    errorPct: c.errorPct,
    samples: c.outcomes.length,
  };
}

export const venueBreakerMachine = setup({
  types: {} as { context: VenueBreakerContext; events: VenueBreakerEvent; input: VenueBreakerInput },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    /** Effect slot: `venue_error_rate_pct` and persistence. */
    'breaker.publish': () => {},
    update: enqueueActions(({ context: c, event, enqueue }) => {
      if (event.type === 'breaker.reset') {
        enqueue.assign({
          outcomes: [],
          errors: 0,
          errorPct: 0,
          tripped: false,
          reason: '',
          since: null,
          resets: c.resets + 1,
        });
        if (c.tripped) enqueue.raise({ type: 'health.ok' });
        enqueue('breaker.publish');
        return;
      }
      if (event.type === 'limits.update') {
        enqueue.assign({ tripPct: event.tripPct });
        return;
      }
      if (event.type !== 'breaker.result') return;
      const outcomes =
        c.outcomes.length >= c.window ? c.outcomes.slice(c.outcomes.length - c.window + 1) : [...c.outcomes];
      outcomes.push(event.ok ? 0 : 1);
      let errors = 0;
      for (const o of outcomes) errors += o;
      const errorPct = (errors / outcomes.length) * 100;
      const trips = !c.tripped && outcomes.length >= c.minSamples && errorPct >= c.tripPct;
      const reason = trips ? `venue_error_rate: ${Math.round(errorPct)}%` : c.reason;
      enqueue.assign({ outcomes, errors, errorPct, ...(trips ? { tripped: true, reason, since: event.at } : {}) });
      if (trips) enqueue.raise({ type: 'health.halt', reason });
      if (trips || Math.round(errorPct) !== Math.round(c.errorPct)) enqueue('breaker.publish');
    }),
  },
  guards: { ...(healthGuards as unknown as Record<string, never>) },
}).createMachine({
  id: 'venueBreaker',
  initial: 'running',
  context: ({ input }) => {
    const p = input.persisted ?? {};
    const tripped = p.tripped === true;
    const reason = tripped ? (typeof p.reason === 'string' && p.reason ? p.reason : 'venue_error_rate') : '';
    return {
      venue: input.venue,
      tripPct: input.tripPct,
      window: Math.max(1, input.window),
      minSamples: Math.max(1, Math.min(input.minSamples, input.window)),
      outcomes: [],
      errors: 0,
      errorPct: 0,
      tripped,
      reason,
      since: typeof p.since === 'number' ? p.since : null,
      resets: typeof p.resets === 'number' ? p.resets : 0,
      failClosed: input.failClosed,
      health: input.failClosed
        ? initialHealth(input.failClosed)
        : tripped
          ? { value: 'HALTED', reason }
          : initialHealth(),
    } as VenueBreakerContext;
  },
  states: {
    running: {
      type: 'parallel',
      on: {
        'sup.shutdown': 'done',
        'breaker.result': { actions: 'update' },
        'breaker.reset': { actions: 'update' },
        'limits.update': { actions: 'update' },
      },
      states: { health: healthRegion as never },
    },
    done: { type: 'final' },
  },
  output: () => ({ reason: 'normal' }),
});
