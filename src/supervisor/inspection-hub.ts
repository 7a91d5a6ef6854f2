import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { ActorNode, InspectListener } from './runtime-port.js';

/**
 * Coalescing inspection hub (reference §4.8): XState inspection is attached only while a client watches
 * (it halves throughput), snapshots are collected into a dirty set and flushed at most every `flushMs`;
 * a topology change (actor created, stopped, errored) sends the full tree instead.
 */
export interface InspectionHubDeps {
  root: () => AnyActorRef;
  tree: () => ActorNode;
  node: (id: string) => ActorNode | undefined;
  flushMs?: number;
  now?: () => number;
}

const NOISY = /^(xstate\.|hb\.tick|venue\.tick|sup\.\$)/;

export function createInspectionHub(deps: InspectionHubDeps) {
  const flushMs = deps.flushMs ?? 250;
  const now = deps.now ?? Date.now;
  const listeners = new Set<InspectListener>();
  const dirty = new Set<string>();
  let topology = false;
  let seq = 0;
  let sub: { unsubscribe(): void } | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const idOf = (ref: unknown) => (ref as { systemId?: string }).systemId ?? (ref as { id: string }).id;

  function onInspect(ev: InspectionEvent): void {
    if (ev.type === '@xstate.actor') {
      topology = true;
    } else if (ev.type === '@xstate.snapshot') {
      const status = (ev.snapshot as { status?: string }).status;
      if (status !== 'active') topology = true;
      dirty.add(idOf(ev.actorRef));
    } else if (ev.type === '@xstate.event') {
      const type = ev.event.type;
      if (
        type.startsWith('xstate.error.actor') ||
        type.startsWith('xstate.done.actor') ||
        type.startsWith('xstate.stop')
      )
        topology = true;
      if (NOISY.test(type)) return;
      const e = {
        seq: ++seq,
        ts: now(),
        type,
        from: ev.sourceRef ? idOf(ev.sourceRef) : undefined,
        to: idOf(ev.actorRef),
      };
      for (const l of listeners) l.event(e);
    }
  }

  function flush(): void {
    if (topology) {
      topology = false;
      dirty.clear();
      const t = deps.tree();
      for (const l of listeners) l.tree(t);
      return;
    }
    if (dirty.size === 0) return;
    const nodes: ActorNode[] = [];
    for (const id of dirty) {
      const n = deps.node(id);
      if (n) nodes.push({ ...n, children: [] });
    }
    dirty.clear();
    if (nodes.length > 0) for (const l of listeners) l.nodes(nodes);
  }

  function attach(): void {
    sub = deps.root().system.inspect({ next: onInspect, error: () => {}, complete: () => {} } as never) as unknown as {
      unsubscribe(): void;
    };
    timer = setInterval(flush, flushMs);
    timer.unref();
  }

  function detach(): void {
    sub?.unsubscribe();
    sub = undefined;
    if (timer) clearInterval(timer);
    timer = undefined;
    dirty.clear();
    topology = false;
  }

  return {
    /** Adds a listener (sends it the full tree now); returns the detach function. */
    add(listener: InspectListener): () => void {
      if (listeners.size === 0) attach();
      listeners.add(listener);
      listener.tree(deps.tree());
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) detach();
      };
    },
    attached: () => sub !== undefined,
    listenerCount: () => listeners.size,
    /** Flushes now (tests; also used when the root re-topologises). */
    flush,
  };
}
