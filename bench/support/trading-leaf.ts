import { performance } from 'node:perf_hooks';
import { setup } from 'xstate';
import { healthActions, healthGuards, healthRegion, initialHealth } from '../../src/machines/health.js';

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
