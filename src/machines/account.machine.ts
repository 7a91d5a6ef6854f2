import { assign, fromCallback, raise, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * account:<venue> — balances, open orders and equity at one venue, refreshed periodically by the effect slot
 * `refresher` (which also values the balances in USD and updates the portfolio metrics). DEGRADED after
 * `maxFailures` refreshes in a row fail; OK on the next good one. With user-data streams (one per market kind:
 * Binance spot and USDⓈ-M), a stream that was live and dropped makes the account DEGRADED "stream down, polling
 * (<market>: <why>)" while settlement reads REST in its place; OK again once every stream is back.
 */
export interface AccountInput {
  venue: string;
  intervalMs: number;
  maxFailures: number;
  failClosed?: string;
}

export interface AccountSummary {
  cashUsd: number;
  marketValueUsd: number;
  equityUsd: number;
  exposureUsd: number;
  openOrders: number;
  assets: number;
}

export interface AccountContext extends HealthContext {
  venue: string;
  intervalMs: number;
  maxFailures: number;
  summary: AccountSummary | undefined;
  lastRefreshAt: number;
  failuresInRow: number;
  lastError: string | undefined;
  /** Market kinds whose user-data stream dropped after being live, with why (empty: none down). */
  streamsDown: Array<{ market: string; reason: string }>;
}

export type AccountEvent =
  | { type: 'account.refreshed'; at: number; summary: AccountSummary }
  | { type: 'account.failed'; at: number; error: string }
  | { type: 'account.stream'; market: string; state: 'live' | 'down'; reason?: string; at: number }
  | { type: 'account.streamCheck' }
  | { type: 'sup.shutdown' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const accountMachine = setup({
  types: {} as { context: AccountContext; events: AccountEvent; input: AccountInput },
  actors: {
    /** Effect slot: refreshes balances/orders/equity; provided by src/actors/account.actors.ts. */
    refresher: fromCallback<{ type: string }, { venue: string; intervalMs: number }>(() => () => {}),
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    refreshed: assign(({ event }) =>
      event.type === 'account.refreshed'
        ? { summary: event.summary, lastRefreshAt: event.at, failuresInRow: 0, lastError: undefined }
        : {},
    ),
    failed: assign(({ context, event }) =>
      event.type === 'account.failed' ? { failuresInRow: context.failuresInRow + 1, lastError: event.error } : {},
    ),
    streamState: assign(({ context, event }) => {
      if (event.type !== 'account.stream') return {};
      const others = context.streamsDown.filter((d) => d.market !== event.market);
      return {
        streamsDown:
          event.state === 'down' ? [...others, { market: event.market, reason: event.reason ?? 'closed' }] : others,
      };
    }),
    degradeStream: raise(({ context }) => ({
      type: 'health.degrade' as const,
      reason: `stream down, polling (${context.streamsDown.map((d) => `${d.market}: ${d.reason}`).join('; ')})`,
    })),
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
    streamDown: ({ context }) => context.streamsDown.length > 0 && !context.failClosed,
    /** Every stream is back and the refresh is not failing: nothing keeps the account degraded. */
    allBack: ({ context }) =>
      context.streamsDown.length === 0 &&
      context.failuresInRow === 0 &&
      context.health.value === 'DEGRADED' &&
      !context.failClosed,
    tooManyFailures: ({ context }) => context.failuresInRow + 1 >= context.maxFailures,
    degraded: ({ context }) => context.health.value === 'DEGRADED',
  },
}).createMachine({
  id: 'account',
  initial: 'live',
  context: ({ input }) => ({
    venue: input.venue,
    intervalMs: input.intervalMs,
    maxFailures: input.maxFailures,
    summary: undefined,
    lastRefreshAt: 0,
    failuresInRow: 0,
    lastError: undefined,
    streamsDown: [],
    failClosed: input.failClosed,
    health: initialHealth(input.failClosed),
  }),
  states: {
    live: {
      type: 'parallel',
      on: {
        'sup.shutdown': 'done',
        'account.stream': { actions: ['streamState', raise({ type: 'account.streamCheck' })] },
        'account.streamCheck': [
          { guard: 'streamDown', actions: 'degradeStream' },
          { guard: 'allBack', actions: raise({ type: 'health.ok' }) },
        ],
      },
      states: {
        health: healthRegion as never,
        sync: {
          invoke: {
            id: 'refresher',
            src: 'refresher',
            input: ({ context }) => ({ venue: context.venue, intervalMs: context.intervalMs }),
          },
          on: {
            'account.refreshed': [
              { guard: 'streamDown', actions: ['refreshed', 'degradeStream'] },
              { guard: 'degraded', actions: ['refreshed', raise({ type: 'health.ok' })] },
              { actions: 'refreshed' },
            ],
            'account.failed': [
              {
                guard: 'tooManyFailures',
                actions: [
                  'failed',
                  raise(({ context }) => ({
                    type: 'health.degrade' as const,
                    reason: `refresh_failing: ${context.failuresInRow} in a row (${context.lastError ?? 'error'})`,
                  })),
                ],
              },
              { actions: 'failed' },
            ],
          },
        },
      },
    },
    done: { type: 'final' },
  },
  output: () => ({ reason: 'normal' }),
});
