import { assign, fromCallback, raise, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * The symbol scanner (DESIGN §3 `scanner`): a health region plus the pass loop, an effect slot provided by
 * src/actors/scanner.actors.ts. A pass that fails degrades the scanner (the last shortlist stays in force: symbol
 * actors are never stopped because a pass failed); the next good pass makes it OK again.
 */
export interface ScannerInput {
  enabled: boolean;
  failClosed?: string;
}

export interface ScannerContext extends HealthContext {
  enabled: boolean;
  passes: number;
  failures: number;
  lastPassAt: number | null;
  lastError: string | null;
}

export type ScannerEvent =
  | { type: 'scan.done'; at: number; shortlisted: number }
  | { type: 'scan.failed'; at: number; error: string }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const scannerMachine = setup({
  types: {} as { context: ScannerContext; events: ScannerEvent; input: ScannerInput },
  actors: {
    /** Effect slot: runs passes (interval, state-file touch, `scan.rescan`) and sends back `scan.done|failed`. */
    passes: fromCallback(() => () => {}),
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    'scan.recordDone': assign(({ context, event }) => ({
      passes: context.passes + 1,
      lastPassAt: event.type === 'scan.done' ? event.at : context.lastPassAt,
      lastError: null,
    })),
    'scan.recordFailed': assign(({ context, event }) => ({
      failures: context.failures + 1,
      lastError: event.type === 'scan.failed' ? event.error : context.lastError,
    })),
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
  },
}).createMachine({
  id: 'scanner',
  type: 'parallel',
  context: ({ input }) => ({
    enabled: input.enabled,
    passes: 0,
    failures: 0,
    lastPassAt: null,
    lastError: null,
    health: initialHealth(input.failClosed),
  }),
  states: {
    health: healthRegion as never,
    scan: {
      invoke: { id: 'passes', src: 'passes' },
      on: {
        'scan.done': { actions: ['scan.recordDone', raise({ type: 'health.ok' })] },
        'scan.failed': {
          actions: [
            'scan.recordFailed',
            raise(({ event }) => ({
              type: 'health.degrade' as const,
              reason: `scan_failed: ${(event as { error: string }).error}`.slice(0, 200),
            })),
          ],
        },
      },
    },
  },
});
