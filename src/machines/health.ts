import { assign, enqueueActions } from 'xstate';

/**
 * The shared health region (DESIGN §3): every entity machine embeds `healthRegion` as a parallel region and
 * spreads `healthActions`/`healthGuards` into its `setup`. Health is exactly OK | DEGRADED | HALTED with a
 * reason; it is reported to the parent supervisor only when it changes (edge-triggered).
 */
export type Health = 'OK' | 'DEGRADED' | 'HALTED';

export const HEALTH_RANK: Record<Health, number> = { OK: 0, DEGRADED: 1, HALTED: 2 };

export interface HealthInfo {
  value: Health;
  reason: string;
}

export interface HealthContext {
  health: HealthInfo;
  /** Set from input when a money-guarding actor is restarted after a second crash in the window. */
  failClosed?: string | undefined;
}

export type HealthEvent =
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

/** What a child sends its supervisor (sendParent) when its health changes. */
export interface SupHealthEvent {
  type: 'sup.health';
  id: string;
  health: Health;
  reason: string;
}

export function worse(a: Health, b: Health): Health {
  return HEALTH_RANK[a] >= HEALTH_RANK[b] ? a : b;
}

export function initialHealth(failClosed?: string): HealthInfo {
  return failClosed ? { value: 'HALTED', reason: failClosed } : { value: 'OK', reason: '' };
}

type AnyHealthEvent = { type: string; reason?: string };

function targetOf(e: AnyHealthEvent): Health {
  return e.type === 'health.ok' ? 'OK' : e.type === 'health.degrade' ? 'DEGRADED' : 'HALTED';
}

/** Actions every entity machine registers (spread into `setup({ actions })`). */
export const healthActions = {
  'health.set': assign(({ event }: { event: AnyHealthEvent }) => ({
    health: { value: targetOf(event), reason: event.reason ?? '' },
  })),
  'health.report': enqueueActions(({ context, self, enqueue }) => {
    const ctx = context as unknown as HealthContext;
    // sendParent from a root actor throws and errors the root, so only report when supervised.
    const parent = (self as unknown as { _parent?: unknown })._parent;
    if (!parent) return;
    enqueue.sendParent({ type: 'sup.health', id: self.id, health: ctx.health.value, reason: ctx.health.reason });
  }),
};

export const healthGuards = {
  /** A health event that changes the value or the reason (same value + same reason is not an edge). */
  'health.changed': ({ context, event }: { context: unknown; event: AnyHealthEvent }) => {
    const h = (context as HealthContext).health;
    return h.value !== targetOf(event) || h.reason !== (event.reason ?? '');
  },
  'health.startHalted': ({ context }: { context: unknown }) => (context as HealthContext).health.value === 'HALTED',
  'health.startDegraded': ({ context }: { context: unknown }) => (context as HealthContext).health.value === 'DEGRADED',
};

type Target = 'OK' | 'DEGRADED' | 'HALTED';

/**
 * Transitions from one health state. A move to another state targets the sibling; a new reason within the same
 * state is targetless and reports explicitly. Never `reenter` at the region level: by SCXML rules that makes the
 * parallel parent the transition domain, which exits and re-enters every sibling region and restarts their
 * invoked effects (a poller restarted on every health change; with an effect that fails at once, a busy loop).
 */
function from(current: Target) {
  const to = (target: Target) =>
    target === current
      ? { guard: 'health.changed', actions: ['health.set', 'health.report'] }
      : { guard: 'health.changed', target, actions: ['health.set'] };
  return {
    'health.ok': to('OK'),
    'health.degrade': to('DEGRADED'),
    'health.halt': to('HALTED'),
  };
}

/**
 * The region itself. `init` picks the starting state from context (fail-closed restarts and restored
 * snapshots start where they were). Entry into each state reports upward.
 */
export const healthRegion = {
  initial: 'init',
  states: {
    init: {
      always: [
        { guard: 'health.startHalted', target: 'HALTED' },
        { guard: 'health.startDegraded', target: 'DEGRADED' },
        { target: 'OK' },
      ],
    },
    OK: { tags: ['health:ok'], entry: ['health.report'], on: from('OK') },
    DEGRADED: { tags: ['health:degraded'], entry: ['health.report'], on: from('DEGRADED') },
    HALTED: { tags: ['health:halted'], entry: ['health.report'], on: from('HALTED') },
  },
} as const;
