import type { AnyActorRef } from 'xstate';

/**
 * Internal XState fields the supervisor relies on (reference §4.10: pin xstate exactly; `supervisor.test.ts`
 * has a canary for each). Kept in this one module so an upgrade has one place to check.
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
