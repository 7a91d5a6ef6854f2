import { fromCallback, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * The notifier actor (DESIGN §3, under `core`): owns the Telegram delivery loop while it runs and mirrors its
 * state in the shared health region (DEGRADED with the reason while Telegram fails). The queue itself lives
 * outside the actor, in LMDB, so `alert()` keeps accepting while the actor restarts. The pump is an effect slot.
 */
export interface NotifierInput {
  failClosed?: string;
}

export type NotifierContext = HealthContext;

export type NotifierEvent =
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const notifierMachine = setup({
  types: {} as { context: NotifierContext; events: NotifierEvent; input: NotifierInput },
  actors: {
    /** Effect slot: delivers queued alerts and sends `health.*` on changes (src/notify/notifier.actors.ts). */
    pump: fromCallback(() => () => {}),
  },
  actions: { ...(healthActions as unknown as Record<string, never>) },
  guards: { ...(healthGuards as unknown as Record<string, never>) },
}).createMachine({
  id: 'notifier',
  type: 'parallel',
  context: ({ input }) => ({ health: initialHealth(input?.failClosed) }),
  states: {
    health: healthRegion as never,
    deliver: { invoke: { src: 'pump' } },
  },
});
