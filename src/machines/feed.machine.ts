import { assign, fromCallback, raise, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * feed:<venue> — mark/ticker polling. The poller (effect slot `poller`) fetches tickers every interval and
 * delivers one tick per symbol per poll, stamped with its receive time, to the symbol actors (latest wins);
 * it reports each poll here. The feed is DEGRADED when no poll has succeeded for `staleMs`, and OK again on
 * the next good poll. Degradation never restarts anything (DESIGN §4).
 */
export interface FeedInput {
  venue: string;
  symbols: string[];
  intervalMs: number;
  staleMs: number;
  failClosed?: string;
}

export interface FeedContext extends HealthContext {
  venue: string;
  symbols: string[];
  intervalMs: number;
  staleMs: number;
  polls: number;
  failures: number;
  lastPollAt: number;
  lastError: string | undefined;
  ticks: number;
}

export type FeedEvent =
  | { type: 'feed.polled'; at: number; ticks: number }
  | { type: 'feed.failed'; at: number; error: string }
  | { type: 'feed.setSymbols'; symbols: string[] }
  | { type: 'sup.shutdown' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const feedMachine = setup({
  types: {} as { context: FeedContext; events: FeedEvent; input: FeedInput },
  actors: {
    /** Effect slot: polls tickers; provided by src/actors/feed.actors.ts. */
    poller: fromCallback<{ type: string }, { venue: string; symbols: string[]; intervalMs: number }>(() => () => {}),
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    polled: assign(({ context, event }) =>
      event.type === 'feed.polled'
        ? { polls: context.polls + 1, lastPollAt: event.at, ticks: context.ticks + event.ticks, lastError: undefined }
        : {},
    ),
    failed: assign(({ context, event }) =>
      event.type === 'feed.failed' ? { failures: context.failures + 1, lastError: event.error } : {},
    ),
    setSymbols: assign(({ event }) => (event.type === 'feed.setSymbols' ? { symbols: [...event.symbols] } : {})),
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
    notOk: ({ context }) => context.health.value !== 'OK' && !context.failClosed,
  },
  delays: { stale: ({ context }) => context.staleMs },
}).createMachine({
  id: 'feed',
  initial: 'live',
  context: ({ input }) => ({
    venue: input.venue,
    symbols: [...input.symbols],
    intervalMs: input.intervalMs,
    staleMs: input.staleMs,
    polls: 0,
    failures: 0,
    lastPollAt: 0,
    lastError: undefined,
    ticks: 0,
    failClosed: input.failClosed,
    health: initialHealth(input.failClosed),
  }),
  states: {
    live: {
      type: 'parallel',
      on: { 'sup.shutdown': 'done' },
      states: {
        health: healthRegion as never,
        polling: {
          invoke: {
            src: 'poller',
            input: ({ context }) => ({
              venue: context.venue,
              symbols: context.symbols,
              intervalMs: context.intervalMs,
            }),
          },
          on: {
            // A new symbol set re-enters the state so the poller restarts with it.
            'feed.setSymbols': { target: 'polling', reenter: true, actions: 'setSymbols' },
          },
          initial: 'fresh',
          states: {
            fresh: {
              after: { stale: { target: 'stale' } },
              on: {
                'feed.polled': [
                  { guard: 'notOk', target: 'fresh', reenter: true, actions: ['polled', raise({ type: 'health.ok' })] },
                  { target: 'fresh', reenter: true, actions: 'polled' },
                ],
                'feed.failed': { actions: 'failed' },
              },
            },
            stale: {
              entry: raise(({ context }) => ({
                type: 'health.degrade' as const,
                reason: `stale: no ticks for ${context.staleMs} ms${context.lastError ? ` (${context.lastError})` : ''}`,
              })),
              on: {
                'feed.polled': { target: 'fresh', actions: ['polled', raise({ type: 'health.ok' })] },
                'feed.failed': { actions: 'failed' },
              },
            },
          },
        },
      },
    },
    done: { type: 'final' },
  },
  output: () => ({ reason: 'normal' }),
});
