import { enqueueActions, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * breaker:equity — the equity floor and drawdown breaker (DESIGN §8). Trips when equity falls below the floor
 * (`equity_floor`) or the drawdown from the peak reaches the limit (`drawdown`); while tripped no new entries
 * pass the rails. It resets by itself only after the buffer has been positive, with no trip condition, for
 * `cooldownSec` without a break (EQUITY_COOLDOWN_SEC); a drawdown reset rebases the peak to the current equity.
 * An operator reset clears it at once, but only while the buffer is positive. Time is the events' `at`.
 * A persisted tripped state starts tripped (fail closed).
 */
export interface EquityBreakerInput {
  floorUsd: number;
  maxDrawdownPct: number;
  cooldownSec: number;
  persisted?: Partial<EquityBreakerContext> | undefined;
  failClosed?: string;
}

export interface EquityBreakerContext extends HealthContext {
  floorUsd: number;
  maxDrawdownPct: number;
  cooldownSec: number;
  peakUsd: number;
  equityUsd: number;
  bufferUsd: number;
  drawdownPct: number;
  tripped: boolean;
  reason: '' | 'equity_floor' | 'drawdown';
  since: number | null;
  clearSince: number | null;
  lastResetRefused: string | null;
  updates: number;
}

export type EquityBreakerEvent =
  | { type: 'equity.update'; equityUsd: number; at: number }
  | { type: 'breaker.reset'; at: number; by: string }
  | { type: 'limits.update'; floorUsd: number; maxDrawdownPct: number; cooldownSec: number }
  | { type: 'sup.shutdown' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const EQUITY_BREAKER_DEFAULTS = { floorUsd: 1_000, maxDrawdownPct: 10, cooldownSec: 900 } as const;

export function equityBreakerView(ctx: unknown) {
  const c = ctx as EquityBreakerContext;
  // A guard restarted fail-closed (crash loop) counts as tripped until an operator resets it.
  const failClosed = c.failClosed ? `crash_loop: ${c.failClosed}` : '';
  return {
    tripped: c.tripped || failClosed !== '',
    reason: c.tripped ? (c.reason as string) : failClosed,
    since: c.since,
    bufferUsd: c.bufferUsd,
    drawdownPct: c.drawdownPct,
    peakUsd: c.peakUsd,
  };
}

function condition(c: Pick<EquityBreakerContext, 'bufferUsd' | 'drawdownPct' | 'maxDrawdownPct' | 'updates'>) {
  if (c.updates === 0) return '' as const;
  if (c.bufferUsd < 0) return 'equity_floor' as const;
  if (c.drawdownPct >= c.maxDrawdownPct) return 'drawdown' as const;
  return '' as const;
}

export const equityBreakerMachine = setup({
  types: {} as { context: EquityBreakerContext; events: EquityBreakerEvent; input: EquityBreakerInput },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    /** Effect slot: metrics and persistence. */
    'breaker.publish': () => {},
    update: enqueueActions(({ context: c, event, enqueue }) => {
      let next: Partial<EquityBreakerContext> = {};
      if (event.type === 'equity.update') {
        if (!Number.isFinite(event.equityUsd)) return;
        const peakUsd = Math.max(c.peakUsd, event.equityUsd);
        const bufferUsd = event.equityUsd - c.floorUsd;
        const drawdownPct = peakUsd > 0 ? ((peakUsd - event.equityUsd) / peakUsd) * 100 : 0;
        next = { equityUsd: event.equityUsd, peakUsd, bufferUsd, drawdownPct, updates: c.updates + 1 };
      } else if (event.type === 'limits.update') {
        next = {
          floorUsd: event.floorUsd,
          maxDrawdownPct: event.maxDrawdownPct,
          cooldownSec: event.cooldownSec,
          bufferUsd: c.equityUsd - event.floorUsd,
        };
      } else if (event.type === 'breaker.reset') {
        if (c.tripped && c.bufferUsd > 0) {
          next = {
            tripped: false,
            reason: '',
            since: null,
            clearSince: null,
            peakUsd: c.equityUsd,
            drawdownPct: 0,
            lastResetRefused: null,
          };
          enqueue.assign(next);
          enqueue.raise({ type: 'health.ok' });
          enqueue('breaker.publish');
        } else if (c.tripped) {
          enqueue.assign({ lastResetRefused: `buffer ${c.bufferUsd.toFixed(2)} USD is not positive (${event.by})` });
        }
        return;
      }
      const m = { ...c, ...next };
      const at = event.type === 'equity.update' ? event.at : null;
      // While tripped only the buffer decides (the issue: it resets once the buffer is positive again for the
      // cooldown); the drawdown is measured from a peak that the reset rebases.
      const trip = m.tripped ? (m.updates > 0 && m.bufferUsd < 0 ? 'equity_floor' : '') : condition(m);
      if (trip !== '' && !m.tripped) {
        next = { ...next, tripped: true, reason: trip, since: at, clearSince: null };
        enqueue.assign(next);
        enqueue.raise({ type: 'health.halt', reason: trip });
      } else if (trip !== '' && m.tripped) {
        next = { ...next, clearSince: null };
        enqueue.assign(next);
      } else if (m.tripped && at !== null) {
        const clearSince = m.clearSince ?? at;
        if (at - clearSince >= m.cooldownSec * 1000) {
          next = { ...next, tripped: false, reason: '', since: null, clearSince: null };
          if (c.reason === 'drawdown') next = { ...next, peakUsd: m.equityUsd, drawdownPct: 0 };
          enqueue.assign(next);
          enqueue.raise({ type: 'health.ok' });
        } else enqueue.assign({ ...next, clearSince });
      } else enqueue.assign(next);
      enqueue('breaker.publish');
    }),
  },
  guards: { ...(healthGuards as unknown as Record<string, never>) },
}).createMachine({
  id: 'equityBreaker',
  initial: 'running',
  context: ({ input }) => {
    const p = input.persisted ?? {};
    const tripped = p.tripped === true;
    const reason = tripped ? (p.reason === 'drawdown' ? 'drawdown' : 'equity_floor') : '';
    return {
      floorUsd: input.floorUsd,
      maxDrawdownPct: input.maxDrawdownPct,
      cooldownSec: input.cooldownSec,
      peakUsd: typeof p.peakUsd === 'number' ? p.peakUsd : 0,
      equityUsd: typeof p.equityUsd === 'number' ? p.equityUsd : 0,
      bufferUsd: typeof p.bufferUsd === 'number' ? p.bufferUsd : 0,
      drawdownPct: typeof p.drawdownPct === 'number' ? p.drawdownPct : 0,
      tripped,
      reason,
      since: typeof p.since === 'number' ? p.since : null,
      clearSince: null,
      lastResetRefused: null,
      updates: 0,
      failClosed: input.failClosed,
      health: input.failClosed
        ? initialHealth(input.failClosed)
        : tripped
          ? { value: 'HALTED', reason }
          : initialHealth(),
    } as EquityBreakerContext;
  },
  states: {
    running: {
      type: 'parallel',
      on: {
        'sup.shutdown': 'done',
        'equity.update': { actions: 'update' },
        'limits.update': { actions: 'update' },
        'breaker.reset': { actions: 'update' },
      },
      states: { health: healthRegion as never },
    },
    done: { type: 'final' },
  },
  output: () => ({ reason: 'normal' }),
});
