import { assign, fromCallback, setup } from 'xstate';
import { healthActions, healthGuards, healthRegion, initialHealth } from '../../src/machines/health.js';

/**
 * A supervised test leaf: logs start and disposal through a callback child (so orphans are observable),
 * crashes on `test.crash` (an action that throws), drains on `sup.shutdown` after `drainMs` (or never when
 * stubborn), and carries the shared health region.
 */
export interface WorkerInput {
  name: string;
  drainMs?: number;
  stubborn?: boolean;
  failClosed?: string;
}

export function makeWorker(log: string[], live: Set<string>) {
  const resource = fromCallback<{ type: string }, { name: string }>(({ input }) => {
    log.push(`start:${input.name}`);
    live.add(input.name);
    return () => {
      log.push(`stop:${input.name}`);
      live.delete(input.name);
    };
  });
  return setup({
    types: {} as {
      context: {
        name: string;
        drainMs: number;
        stubborn: boolean;
        count: number;
        abnormal: boolean;
        health: { value: 'OK' | 'DEGRADED' | 'HALTED'; reason: string };
      };
      input: WorkerInput;
    },
    actors: { resource },
    actions: {
      ...healthActions,
      boom: () => {
        throw new Error('boom');
      },
    } as never,
    guards: healthGuards as never,
    delays: { drain: ({ context }) => context.drainMs },
  }).createMachine({
    id: 'worker',
    context: ({ input }: { input: WorkerInput }) => ({
      name: input.name,
      drainMs: input.drainMs ?? 0,
      stubborn: input.stubborn ?? false,
      count: 0,
      abnormal: false,
      health: initialHealth(input.failClosed),
    }),
    initial: 'live',
    states: {
      live: {
        type: 'parallel',
        states: {
          health: healthRegion,
          work: {
            initial: 'running',
            states: {
              running: {
                invoke: {
                  src: 'resource',
                  input: ({ context }: { context: { name: string } }) => ({ name: context.name }),
                },
                on: {
                  'test.crash': { actions: 'boom' },
                  'test.inc': {
                    actions: assign({ count: ({ context }: { context: { count: number } }) => context.count + 1 }),
                  },
                  'test.finish': '#worker.done',
                  'test.fail': { target: '#worker.done', actions: assign({ abnormal: true }) },
                  'sup.shutdown': [
                    {
                      guard: ({ context }: { context: { stubborn: boolean } }) => context.stubborn,
                      target: 'ignoring',
                    },
                    { target: 'draining' },
                  ],
                },
              },
              ignoring: {
                invoke: {
                  src: 'resource',
                  input: ({ context }: { context: { name: string } }) => ({ name: context.name }),
                },
              },
              draining: {
                invoke: {
                  src: 'resource',
                  input: ({ context }: { context: { name: string } }) => ({ name: context.name }),
                },
                after: { drain: '#worker.done' },
              },
            },
          },
        },
      },
      done: { type: 'final' },
    },
    output: ({ context }: { context: { abnormal: boolean } }) => ({ reason: context.abnormal ? 'abnormal' : 'normal' }),
  } as never);
}
