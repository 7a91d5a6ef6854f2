import { raise, setup } from 'xstate';
import { healthActions, healthGuards, healthRegion, initialHealth } from '../../src/machines/health.js';

/**
 * A minimal trading leaf for benchmarks: the shared health region plus the reaction every trading actor has
 * to `gov.trading` (HALTED when governance halts it). Crashes on `bench.crash`.
 */
type Gov = { global: { state: string; reason: string } };

export const tradingLeaf = setup({
  types: {} as {
    context: { health: { value: 'OK' | 'DEGRADED' | 'HALTED'; reason: string }; n: number };
    input: { failClosed?: string } | undefined;
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    boom: () => {
      throw new Error('bench crash');
    },
  },
  guards: { ...(healthGuards as unknown as Record<string, never>) },
}).createMachine({
  id: 'leaf',
  type: 'parallel',
  context: ({ input }) => ({ health: initialHealth(input?.failClosed), n: 0 }),
  states: {
    health: healthRegion as never,
    trading: {
      on: {
        'bench.crash': { actions: 'boom' },
        'gov.trading': {
          actions: raise(({ event }) => {
            const g = (event as unknown as { governance: Gov }).governance.global;
            return g.state === 'HALTED'
              ? { type: 'health.halt' as const, reason: `trading_halted: ${g.reason}` }
              : { type: 'health.ok' as const };
          }),
        },
      },
    },
  },
});
