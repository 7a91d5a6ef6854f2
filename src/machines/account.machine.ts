import { assign, fromCallback, raise, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * account:<venue> — balances, open orders and equity at one venue, refreshed periodically by the effect slot
 * `refresher` (which also values the balances in USD and updates the portfolio metrics). DEGRADED after
 * `maxFailures` refreshes in a row fail; OK on the next good one.
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
}

export type AccountEvent =
  | { type: 'account.refreshed'; at: number; summary: AccountSummary }
  | { type: 'account.failed'; at: number; error: string }
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
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
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
    failClosed: input.failClosed,
    health: initialHealth(input.failClosed),
  }),
  states: {
    live: {
      type: 'parallel',
      on: { 'sup.shutdown': 'done' },
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
