import type { AnyActorRef } from 'xstate';

/**
 * Internal XState fields the supervisor and the runtime rely on (reference §4.10: pin xstate exactly;
 * `supervisor.test.ts` has a canary for each). Kept in this one module so an upgrade has one place to check.
 */
interface ActorInternals {
  _parent?: AnyActorRef;
  _processingStatus?: number;
  _stop?: () => void;
}

const STOPPED = 2;

export function internals(ref: AnyActorRef): ActorInternals {
  return ref as unknown as ActorInternals;
}

export function hasParent(ref: AnyActorRef): boolean {
  return internals(ref)._parent !== undefined;
}

/** True while XState still processes events for this actor. */
export function isRunning(ref: AnyActorRef): boolean {
  return internals(ref)._processingStatus === 1 && ref.getSnapshot().status === 'active';
}

/** The actor system's registry, as `system.get`/`getAll` read it and every actor's constructor writes it. */
interface SystemInternals {
  _set(systemId: string, ref: AnyActorRef): void;
  _unregister(ref: AnyActorRef): void;
  getAll(): Record<string, AnyActorRef>;
}

/**
 * A live view of the system's registered actors whose systemId passes `accept`, in registration order. It
 * follows the system's own registry (every actor with a systemId, whoever spawned it), so it holds exactly what
 * filtering `system.getAll()` would, without `getAll()` copying the whole registry into a new object on every
 * call (0.4 ms at 1,000 actors, paid before the first actor of a kill broadcast got its event).
 */
export function indexSystemIds(
  system: unknown,
  accept: (systemId: string) => boolean,
): ReadonlyMap<string, AnyActorRef> {
  const sys = system as SystemInternals;
  const index = new Map<string, AnyActorRef>();
  const set = sys._set;
  const unregister = sys._unregister;
  sys._set = (systemId, ref) => {
    set(systemId, ref);
    if (accept(systemId)) index.set(systemId, ref);
  };
  sys._unregister = (ref) => {
    unregister(ref);
    // A stopped child is unregistered eagerly and again when it stops; by then its id may name the new incarnation.
    const systemId = (ref as { systemId?: string }).systemId;
    if (systemId !== undefined && index.get(systemId) === ref) index.delete(systemId);
  };
  for (const [systemId, ref] of Object.entries(sys.getAll())) if (accept(systemId)) index.set(systemId, ref);
  return index;
}

/** True once XState has stopped this actor (crashed, finished or stopped): it processes nothing more. */
export function isStopped(ref: AnyActorRef): boolean {
  return internals(ref)._processingStatus === STOPPED;
}

/**
 * Stops every descendant a dead actor left behind. When a machine's own action throws, XState does not stop
 * its children (#4726), so without this a crashed venue would leave its symbol actors running as orphans.
 */
export function reapTree(dead: AnyActorRef): number {
  let reaped = 0;
  const children = (dead.getSnapshot() as { children?: Record<string, AnyActorRef> }).children ?? {};
  for (const child of Object.values(children)) {
    if (!child) continue;
    reaped += reapTree(child);
    const i = internals(child);
    if (i._processingStatus !== STOPPED && i._stop) {
      i._stop();
      reaped += 1;
    }
  }
  return reaped;
}
