import { performance } from 'node:perf_hooks';
import { setup } from 'xstate';
import { healthActions, healthGuards, healthRegion, initialHealth } from '../../src/machines/health.js';
import { createSupervisor } from '../../src/supervisor/supervisor.js';

/**
 * A minimal trading leaf for benchmarks: the shared health region plus a `trading` region that follows the
 * governance broadcast (`gov.trading`), as every trading actor does. Trading state is separate from health
 * (DESIGN §3): a kill turns the trading region HALTED without touching health. Crashes on `bench.crash`.
 */
type Gov = { global: { state: 'ACTIVE' | 'REDUCING' | 'HALTED' } };

/** Bench probe: when each leaf entered trading HALTED (performance.now()). */
export const haltedAt = new Map<string, number>();

export const tradingLeaf = setup({
  types: {} as {
    context: { health: { value: 'OK' | 'DEGRADED' | 'HALTED'; reason: string } };
    input: { failClosed?: string } | undefined;
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    boom: () => {
      throw new Error('bench crash');
    },
    probe: ({ self }) => {
      haltedAt.set((self as unknown as { systemId: string }).systemId, performance.now());
    },
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
    halted: ({ event }) => (event as unknown as { governance: Gov }).governance.global.state === 'HALTED',
    reducing: ({ event }) => (event as unknown as { governance: Gov }).governance.global.state === 'REDUCING',
  },
}).createMachine({
  id: 'leaf',
  type: 'parallel',
  context: ({ input }) => ({ health: initialHealth(input?.failClosed) }),
  on: { 'bench.crash': { actions: 'boom' } },
  states: {
    health: healthRegion as never,
    trading: {
      initial: 'ACTIVE',
      on: {
        'gov.trading': [
          { guard: 'halted', target: '.HALTED' },
          { guard: 'reducing', target: '.REDUCING' },
          { target: '.ACTIVE' },
        ],
      },
      states: { ACTIVE: {}, REDUCING: {}, HALTED: { entry: 'probe' } },
    },
  },
});

/**
 * 1,000 leaves as the runtime lays symbols out: buckets of at most 100 under one symbols supervisor (XState's
 * spawn copies the parent's children record, so one flat supervisor of 1,000 costs ~5 ms per respawn).
 */
export function shardedSymbols(n: number, prefix: string, intensity: number) {
  const BUCKET = 100;
  const buckets = Math.ceil(n / BUCKET);
  const bucket = (b: number) =>
    createSupervisor({
      strategy: 'one_for_one',
      intensity,
      periodMs: 60_000,
      logics: { leaf: tradingLeaf },
      children: Array.from({ length: Math.min(BUCKET, n - b * BUCKET) }, (_, i) => ({
        id: `sym:${prefix}:S${b * BUCKET + i}`,
        src: 'leaf',
        shutdownMs: 0,
        critical: false,
      })),
    });
  return createSupervisor({
    strategy: 'one_for_one',
    intensity: 10,
    periodMs: 60_000,
    logics: Object.fromEntries(Array.from({ length: buckets }, (_, b) => [`bucket${b}`, bucket(b)])),
    children: Array.from({ length: buckets }, (_, b) => ({
      id: `symbols:${prefix}:${b}`,
      src: `bucket${b}`,
      shutdownMs: 0,
    })),
  });
}
