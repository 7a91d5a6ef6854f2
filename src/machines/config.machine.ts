import { assign, enqueueActions, fromCallback, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * config — the hot-reloaded operator files (ops/*.json, policies.yaml). The watcher (effect slot) reports each
 * load or rejection; a rejected file keeps its last good version in force and the actor DEGRADED with the
 * reason until a good version arrives. A config problem never halts trading by itself: the last good
 * config is still a valid config.
 */
export interface FileStatus {
  ok: boolean;
  source: 'file' | 'default' | 'none';
  hash: string;
  error?: string | undefined;
  at: number;
  reloads: number;
  errors: number;
}

export interface ConfigContext extends HealthContext {
  files: Record<string, FileStatus>;
}

export type ConfigEvent =
  | { type: 'config.loaded'; name: string; source: 'file' | 'default'; hash: string; at: number }
  | { type: 'config.rejected'; name: string; message: string; fallback: 'last-good' | 'default' | 'none'; at: number }
  | { type: 'sup.shutdown' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

function judge(files: Record<string, FileStatus>): { value: 'OK' | 'DEGRADED'; reason: string } {
  const bad = Object.entries(files).filter(([, f]) => !f.ok);
  if (bad.length === 0) return { value: 'OK', reason: '' };
  return { value: 'DEGRADED', reason: bad.map(([n, f]) => `${n}: ${f.error ?? 'invalid'}`).join('; ') };
}

export const configMachine = setup({
  types: {} as { context: ConfigContext; events: ConfigEvent; input: { failClosed?: string } | undefined },
  actors: {
    /** Effect slot: the file watcher (src/actors/config.actors.ts). */
    watcher: fromCallback(() => () => {}),
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    loaded: assign(({ context, event }) => {
      if (event.type !== 'config.loaded') return {};
      const prev = context.files[event.name];
      const f: FileStatus = {
        ok: true,
        source: event.source,
        hash: event.hash,
        at: event.at,
        reloads: (prev?.reloads ?? 0) + 1,
        errors: prev?.errors ?? 0,
      };
      return { files: { ...context.files, [event.name]: f } };
    }),
    rejected: assign(({ context, event }) => {
      if (event.type !== 'config.rejected') return {};
      const prev = context.files[event.name];
      const f: FileStatus = {
        ok: false,
        source: prev?.source ?? (event.fallback === 'default' ? 'default' : 'none'),
        hash: prev?.hash ?? '',
        error: event.message,
        at: event.at,
        reloads: prev?.reloads ?? 0,
        errors: (prev?.errors ?? 0) + 1,
      };
      return { files: { ...context.files, [event.name]: f } };
    }),
    rejudge: enqueueActions(({ context, enqueue }) => {
      if (context.failClosed) return;
      const h = judge(context.files);
      if (h.value === context.health.value && h.reason === context.health.reason) return;
      enqueue.raise(h.value === 'OK' ? { type: 'health.ok' } : { type: 'health.degrade', reason: h.reason });
    }),
  },
  guards: { ...(healthGuards as unknown as Record<string, never>) },
}).createMachine({
  id: 'config',
  initial: 'live',
  context: ({ input }) => ({ files: {}, failClosed: input?.failClosed, health: initialHealth(input?.failClosed) }),
  states: {
    live: {
      type: 'parallel',
      on: { 'sup.shutdown': 'done' },
      states: {
        health: healthRegion as never,
        watch: {
          invoke: { src: 'watcher' },
          on: {
            'config.loaded': { actions: ['loaded', 'rejudge'] },
            'config.rejected': { actions: ['rejected', 'rejudge'] },
          },
        },
      },
    },
    done: { type: 'final' },
  },
  output: () => ({ reason: 'normal' }),
});
