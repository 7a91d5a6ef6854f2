import { assign, fromCallback, raise, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * feed:<venue> — tickers by stream, REST polling as the fallback. The source (effect slot `poller`) delivers ticks
 * to the symbol actors and reports here every interval (`feed.polled`, streamed or polled alike). The feed is
 * DEGRADED when nothing arrived for `staleMs`, and OK again on the next good report. When it streams, the source
 * also reports the stream's state (`feed.stream`): while the stream is down the source polls REST and the feed is
 * DEGRADED "stream down, polling (<why>)", OK again once the stream is back. Degradation never restarts anything
 * (DESIGN §4).
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
  /** `off` when not streaming (STREAMS_ENABLED=false, or before the stream first went live). */
  stream: 'off' | 'live' | 'down';
  streamReason: string | undefined;
  /** Times the stream came back after being down. */
  streamRecoveries: number;
}

export type FeedEvent =
  | { type: 'feed.polled'; at: number; ticks: number }
  | { type: 'feed.failed'; at: number; error: string }
  | { type: 'feed.setSymbols'; symbols: string[] }
  | { type: 'feed.stream'; state: 'live' | 'down'; reason?: string; at: number }
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
    streamState: assign(({ context, event }) =>
      event.type === 'feed.stream'
        ? {
            stream: event.state,
            streamReason: event.reason,
            streamRecoveries: context.streamRecoveries + (event.state === 'live' && context.stream === 'down' ? 1 : 0),
          }
        : {},
    ),
    degradeStream: raise(({ context }) => ({
      type: 'health.degrade' as const,
      reason: `stream down, polling${context.streamReason ? ` (${context.streamReason})` : ''}`,
    })),
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
    notOk: ({ context }) => context.health.value !== 'OK' && !context.failClosed && context.stream !== 'down',
    streamDown: ({ context }) => context.stream === 'down' && !context.failClosed,
    streamGoesDown: ({ context, event }) =>
      event.type === 'feed.stream' && event.state === 'down' && !context.failClosed,
    /** The stream is back, ticks are fresh, and the feed is degraded for no other reason. */
    streamBack: ({ context, event }) =>
      event.type === 'feed.stream' &&
      event.state === 'live' &&
      context.health.value !== 'OK' &&
      !context.failClosed &&
      event.at - context.lastPollAt < context.staleMs,
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
    stream: 'off' as const,
    streamReason: undefined,
    streamRecoveries: 0,
    failClosed: input.failClosed,
    health: initialHealth(input.failClosed),
  }),
  states: {
    live: {
      type: 'parallel',
      on: {
        'sup.shutdown': 'done',
        'feed.stream': [
          { guard: 'streamGoesDown', actions: ['streamState', 'degradeStream'] },
          { guard: 'streamBack', actions: ['streamState', raise({ type: 'health.ok' })] },
          { actions: 'streamState' },
        ],
      },
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
                'feed.polled': [
                  { guard: 'streamDown', target: 'fresh', actions: ['polled', 'degradeStream'] },
                  { target: 'fresh', actions: ['polled', raise({ type: 'health.ok' })] },
                ],
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
