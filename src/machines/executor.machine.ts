import { assign, fromPromise, raise, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * The executor (DESIGN §3 `executor`, EXEC_INTERVAL_SEC): every interval one rebalance (capital allocations →
 * orders through the engine's rails). A failed rebalance is retried at most `maxAttempts` times in all, with
 * doubling back-off; after the last failure the executor goes DEGRADED and waits for the next interval. So
 * "executor spamming retries" (runbook) cannot happen: between two intervals there are at most `maxAttempts`
 * rebalance calls, whatever fails. `exec.stop` parks it (no rebalance until `exec.start`).
 */
export interface ExecutorInput {
  intervalMs: number;
  maxAttempts: number;
  backoffMs: number;
  /** Start parked (the operator stopped it before a restart). */
  stopped?: boolean;
  failClosed?: string;
}

export interface ExecutorContext extends HealthContext {
  intervalMs: number;
  maxAttempts: number;
  backoffMs: number;
  /** Attempts made in the current rebalance (0 between rebalances). */
  attempt: number;
  rebalances: number;
  failures: number;
  lastError: string | null;
  stopped: boolean;
}

export type ExecutorEvent =
  | { type: 'exec.stop' }
  | { type: 'exec.start' }
  | { type: 'exec.runNow' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export interface RebalanceResult {
  orders: number;
}

export const executorMachine = setup({
  types: {} as { context: ExecutorContext; events: ExecutorEvent; input: ExecutorInput },
  actors: {
    /** Effect slot: one rebalance (src/actors/executor.actors.ts); rejects when it could not finish. */
    rebalance: fromPromise<RebalanceResult, { attempt: number }>(async () => ({ orders: 0 })),
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    'exec.attempt': assign(({ context }) => ({ attempt: context.attempt + 1 })),
    'exec.succeeded': assign(({ context }) => ({ attempt: 0, rebalances: context.rebalances + 1, lastError: null })),
    'exec.failed': assign(({ context, event }) => {
      const err = (event as unknown as { error?: unknown }).error;
      return {
        failures: context.failures + 1,
        lastError: (err instanceof Error ? err.message : String(err)).slice(0, 200),
      };
    }),
    'exec.resetAttempts': assign({ attempt: 0 }),
    'exec.park': assign({ stopped: true, attempt: 0 }),
    'exec.unpark': assign({ stopped: false }),
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
    canRetry: ({ context }) => context.attempt < context.maxAttempts,
    startParked: ({ context }) => context.stopped,
  },
  delays: {
    interval: ({ context }) => context.intervalMs,
    backoff: ({ context }) => context.backoffMs * 2 ** Math.max(0, context.attempt - 1),
  },
}).createMachine({
  id: 'executor',
  type: 'parallel',
  context: ({ input }) => ({
    intervalMs: input.intervalMs,
    maxAttempts: Math.max(1, input.maxAttempts),
    backoffMs: input.backoffMs,
    attempt: 0,
    rebalances: 0,
    failures: 0,
    lastError: null,
    stopped: input.stopped === true,
    health: initialHealth(input.failClosed),
  }),
  states: {
    health: healthRegion as never,
    run: {
      initial: 'init',
      states: {
        init: { always: [{ guard: 'startParked', target: 'stopped' }, { target: 'waiting' }] },
        waiting: {
          after: { interval: 'rebalancing' },
          on: { 'exec.runNow': 'rebalancing' },
        },
        rebalancing: {
          entry: 'exec.attempt',
          invoke: {
            src: 'rebalance',
            input: ({ context }) => ({ attempt: context.attempt }),
            onDone: { target: 'waiting', actions: ['exec.succeeded', raise({ type: 'health.ok' })] },
            onError: [
              { guard: 'canRetry', target: 'backoff', actions: 'exec.failed' },
              {
                target: 'waiting',
                actions: [
                  'exec.failed',
                  raise(({ context }) => ({
                    type: 'health.degrade' as const,
                    reason:
                      `retries_exhausted: ${context.maxAttempts} attempts failed (${context.lastError ?? ''})`.slice(
                        0,
                        200,
                      ),
                  })),
                  'exec.resetAttempts',
                ],
              },
            ],
          },
        },
        backoff: { after: { backoff: 'rebalancing' } },
        stopped: {
          on: { 'exec.start': { target: 'waiting', actions: ['exec.unpark', raise({ type: 'health.ok' })] } },
        },
      },
      on: {
        'exec.stop': { target: '.stopped', actions: ['exec.park', raise({ type: 'health.ok', reason: 'stopped' })] },
      },
    },
  },
});
