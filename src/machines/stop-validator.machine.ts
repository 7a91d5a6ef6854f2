import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * stopval:<venue> — the stop validator (DESIGN §8, runbook "Missing server-side stop"). Every interval it asks its
 * `validate` effect to check that each open position has a live server-side stop at the venue and, when repair
 * is on, to place the missing ones. The effect owns the stop book (persisted, journaled before every send); this
 * machine owns the rhythm and the health: OK when every position is covered, DEGRADED while one is not (or the
 * venue cannot be read), HALTED after a crash loop (fail closed: it keeps validating, but says it is not trusted).
 */
export interface StopValidatorInput {
  venue: string;
  intervalMs: number;
  persisted?: Partial<StopValidatorContext> | undefined;
  failClosed?: string;
}

/** What one pass found (the effect's output). */
export interface StopPassResult {
  at: number;
  positions: number;
  covered: number;
  /** Positions found without a live stop this pass (counted in stop_validator_missing_total). */
  missing: string[];
  /** Stops placed this pass. */
  placed: string[];
  /** Positions still unprotected after the pass (repair off, refused, or outcome pending). */
  unprotected: string[];
}

export interface StopValidatorContext extends HealthContext {
  venue: string;
  intervalMs: number;
  passes: number;
  lastPassAt: number | null;
  lastError: string;
  missingTotal: number;
  placedTotal: number;
  last: StopPassResult | null;
  /** A check was asked for while a pass ran. */
  recheck: boolean;
}

export type StopValidatorEvent =
  | { type: 'stopval.check' }
  | { type: 'sup.shutdown' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

/** Health a pass leads to: the reason names the first unprotected symbols so the alert says what to look at. */
export function stopHealth(r: StopPassResult): { value: 'OK' | 'DEGRADED'; reason: string } {
  if (r.unprotected.length === 0) return { value: 'OK', reason: '' };
  const names = r.unprotected.slice(0, 3).join(',');
  return { value: 'DEGRADED', reason: `missing_stop: ${names}${r.unprotected.length > 3 ? ',…' : ''}` };
}

export function stopValidatorView(ctx: unknown) {
  const c = ctx as StopValidatorContext;
  return {
    venue: c.venue,
    health: c.health,
    passes: c.passes,
    lastPassAt: c.lastPassAt,
    lastError: c.lastError,
    missingTotal: c.missingTotal,
    placedTotal: c.placedTotal,
    last: c.last,
  };
}

export const stopValidatorMachine = setup({
  types: {} as { context: StopValidatorContext; events: StopValidatorEvent; input: StopValidatorInput },
  actors: {
    /** Effect slot: one validation pass (fetch open orders, compare with positions, repair). */
    validate: fromPromise<StopPassResult, { venue: string }>(async () => {
      throw new Error('stop validator: validate effect not provided');
    }),
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    /** Effect slot: metrics, persistence and alerts after a pass. */
    'stopval.publish': () => {},
    applyPass: enqueueActions(({ context: c, event, enqueue }) => {
      const r = (event as unknown as { output: StopPassResult }).output;
      enqueue.assign({
        passes: c.passes + 1,
        lastPassAt: r.at,
        lastError: '',
        missingTotal: c.missingTotal + r.missing.length,
        placedTotal: c.placedTotal + r.placed.length,
        last: r,
      });
      // A crash-looped guard stays HALTED until restarted fresh: a pass does not make it trusted again.
      if (c.failClosed) return;
      const h = stopHealth(r);
      enqueue.raise(h.value === 'OK' ? { type: 'health.ok' } : { type: 'health.degrade', reason: h.reason });
    }),
    passFailed: enqueueActions(({ context: c, event, enqueue }) => {
      const err = (event as unknown as { error: unknown }).error;
      const msg = (err instanceof Error ? err.message : String(err)).slice(0, 200);
      enqueue.assign({ lastError: msg });
      if (!c.failClosed) enqueue.raise({ type: 'health.degrade', reason: `validation_failed: ${msg}` });
    }),
  },
  delays: {
    interval: ({ context }) => context.intervalMs,
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
    recheck: ({ context }) => context.recheck,
  },
}).createMachine({
  id: 'stopValidator',
  initial: 'running',
  context: ({ input }) => {
    const p = input.persisted ?? {};
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    return {
      venue: input.venue,
      intervalMs: Math.max(1, input.intervalMs),
      passes: n(p.passes),
      lastPassAt: typeof p.lastPassAt === 'number' ? p.lastPassAt : null,
      lastError: '',
      missingTotal: n(p.missingTotal),
      placedTotal: n(p.placedTotal),
      last: null,
      recheck: false,
      failClosed: input.failClosed,
      health: initialHealth(input.failClosed),
    } as StopValidatorContext;
  },
  states: {
    running: {
      type: 'parallel',
      on: { 'sup.shutdown': 'done' },
      states: {
        health: healthRegion as never,
        cycle: {
          // A (re)start validates at once: protection is checked right after a reconnect or a restart.
          initial: 'validating',
          states: {
            idle: {
              always: { guard: 'recheck', target: 'validating', actions: assign({ recheck: false }) },
              after: { interval: 'validating' },
              on: { 'stopval.check': 'validating' },
            },
            validating: {
              invoke: {
                src: 'validate',
                input: ({ context }) => ({ venue: context.venue }),
                onDone: { target: 'idle', actions: ['applyPass', 'stopval.publish'] },
                onError: { target: 'idle', actions: ['passFailed', 'stopval.publish'] },
              },
              // A check asked for during a pass (a fill just landed) runs right after it.
              on: { 'stopval.check': { actions: assign({ recheck: true }) } },
            },
          },
        },
      },
    },
    done: { type: 'final' },
  },
  output: () => ({ reason: 'normal' }),
});
