import type { AnyActorLogic } from 'xstate';

/** One state change of an actor as the inspector lists it: the event that caused it, the values before and after. */
export interface TransitionEntry {
  ts: number;
  event: string;
  /** The XState state value before (null for the actor's start). */
  from: unknown;
  to: unknown;
}

export interface TransitionHistoryOptions {
  now: () => number;
  /** Per actor; older entries are overwritten. Default 50. */
  maxPerActor?: number;
}

interface Ring {
  entries: TransitionEntry[];
  /** Index of the oldest entry once the ring is full. */
  head: number;
}

/**
 * The last transitions of every actor, kept from boot whether or not an inspector watches, so a page opened after
 * a kill still lists it. Fed by `watchTransitions` only when the set of active states changes (an event handled in
 * place, such as a tick or a bar, records nothing), into a fixed ring per actor: no allocation once full but the
 * entry itself.
 */
export function createTransitionHistory(opts: TransitionHistoryOptions) {
  const max = opts.maxPerActor ?? 50;
  const byActor = new Map<string, Ring>();

  return {
    record(id: string, event: string, from: unknown, to: unknown): void {
      let ring = byActor.get(id);
      if (!ring) {
        ring = { entries: [], head: 0 };
        byActor.set(id, ring);
      }
      const entry: TransitionEntry = { ts: opts.now(), event, from, to };
      if (ring.entries.length < max) ring.entries.push(entry);
      else {
        ring.entries[ring.head] = entry;
        ring.head = (ring.head + 1) % max;
      }
    },
    /** Oldest first; empty for an actor never seen. */
    list(id: string): TransitionEntry[] {
      const ring = byActor.get(id);
      if (!ring) return [];
      return [...ring.entries.slice(ring.head), ...ring.entries.slice(0, ring.head)];
    },
    forget(id: string): void {
      byActor.delete(id);
    },
  };
}

export type TransitionHistory = ReturnType<typeof createTransitionHistory>;

/** What a watched actor reports: its id, the event, the state values before and after. */
export type OnTransition = (actorId: string, event: string, from: unknown, to: unknown) => void;

interface MachineSnap {
  _nodes?: readonly unknown[];
  value?: unknown;
}
interface Scope {
  self: { id: string; systemId?: string | undefined };
}

/** Same active state nodes: XState keeps the `_nodes` array when no state is exited or entered. */
function sameNodes(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Wraps an actor logic so each step that changes its active states is reported, and its start as `start` (or
 * `resume`) from null. The check per event is one array identity comparison: the symbol actors' bars are handled
 * in place and record nothing (bench/inspector.bench.ts runs the watched tree). Logics without state nodes
 * (callbacks, promises) report nothing.
 */
export function watchTransitions<T extends AnyActorLogic>(logic: T, onTransition: OnTransition): T {
  const wrapped = Object.create(logic) as T;
  const idOf = (scope: Scope) => scope.self.systemId ?? scope.self.id;
  (wrapped as { transition: unknown }).transition = (snap: MachineSnap, event: { type: string }, scope: Scope) => {
    const next = logic.transition(snap as never, event as never, scope as never) as MachineSnap;
    const a = snap._nodes;
    const b = next._nodes;
    if (a && b && !sameNodes(a, b)) onTransition(idOf(scope), event.type, snap.value, next.value);
    return next;
  };
  (wrapped as { getInitialSnapshot: unknown }).getInitialSnapshot = (scope: Scope, input: unknown) => {
    const first = logic.getInitialSnapshot(scope as never, input as never) as MachineSnap;
    if (first._nodes) onTransition(idOf(scope), 'start', null, first.value);
    return first;
  };
  if (typeof logic.restoreSnapshot === 'function') {
    const restore = logic.restoreSnapshot.bind(logic);
    (wrapped as { restoreSnapshot: unknown }).restoreSnapshot = (persisted: unknown, scope: Scope) => {
      const first = restore(persisted as never, scope as never) as MachineSnap;
      if (first._nodes) onTransition(idOf(scope), 'resume', null, first.value);
      return first;
    };
  }
  return wrapped;
}
