import { assign, fromCallback, raise, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * Heartbeat: proves the event loop is alive (`metrics_heartbeat` refreshed every tick, so a stuck runtime shows
 * a stale heartbeat) and degrades when the event-loop delay p99 passes the limit. The ticker is an effect slot.
 */
export interface HeartbeatInput {
  /** Event-loop delay p99 above this (ms) degrades the heartbeat. */
  maxLoopDelayMs: number;
  failClosed?: string;
}

export interface HeartbeatContext extends HealthContext {
  maxLoopDelayMs: number;
  lastLoopDelayMs: number;
  beats: number;
}

export type HeartbeatEvent =
  | { type: 'hb.tick'; loopDelayP99Ms: number }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const heartbeatMachine = setup({
  types: {} as { context: HeartbeatContext; events: HeartbeatEvent; input: HeartbeatInput },
  actors: {
    /** Effect slot: emits `hb.tick` periodically (provided by src/actors/heartbeat.actors.ts). */
    ticker: fromCallback(() => () => {}),
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    'hb.count': assign(({ context, event }) => ({
      beats: context.beats + 1,
      lastLoopDelayMs: event.type === 'hb.tick' ? event.loopDelayP99Ms : context.lastLoopDelayMs,
    })),
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
    slow: ({ context, event }) => event.type === 'hb.tick' && event.loopDelayP99Ms > context.maxLoopDelayMs,
    degraded: ({ context }) => context.health.value === 'DEGRADED',
  },
}).createMachine({
  id: 'heartbeat',
  type: 'parallel',
  context: ({ input }) => ({
    maxLoopDelayMs: input.maxLoopDelayMs,
    lastLoopDelayMs: 0,
    beats: 0,
    health: initialHealth(input.failClosed),
  }),
  states: {
    health: healthRegion as never,
    beat: {
      invoke: { src: 'ticker' },
      on: {
        'hb.tick': [
          {
            guard: 'slow',
            actions: [
              'hb.count',
              raise(({ event }) => ({
                type: 'health.degrade' as const,
                reason: `event_loop_delay_p99 ${Math.round((event as { loopDelayP99Ms: number }).loopDelayP99Ms)}ms`,
              })),
            ],
          },
          { guard: 'degraded', actions: ['hb.count', raise({ type: 'health.ok' })] },
          { actions: 'hb.count' },
        ],
      },
    },
  },
});
