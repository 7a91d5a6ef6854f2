import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { ActorNode, InspectEvent, InspectListener, InspectOptions } from './runtime-port.js';

/**
 * Coalescing inspection hub (reference §4.8), attached only while a client watches. Two sources, by cost:
 *
 * - **Tree diff** (every listener): every `flushMs` the tree is described once and compared with the last one
 *   sent. A changed shape (an actor added, removed, or a supervisor's children gone to backoff) sends the full tree;
 *   otherwise only the nodes whose visible fields changed are sent. Transitions an operator cares about (health,
 *   liveness, restarts, a new last error) become events. Costs one tree description per flush, whatever the tick
 *   rate: 1,000 ticking symbol actors whose state does not change send nothing. That description is not free
 *   (1,000 symbols: 5–23 ms on a shared 2-core machine, bench/inspector.bench.ts), so the flushes space out to keep
 *   it under `MAX_FLUSH_DUTY` of the event loop: a big tree is refreshed less often rather than slowing trading.
 * - **XState inspection** (only while a listener asks for `events: true`): every actor event (minus tick noise)
 *   as it happens. XState's inspection is system-wide and roughly halves actor throughput, so it is opt-in.
 */
export interface InspectionHubDeps {
  root: () => AnyActorRef;
  tree: () => ActorNode;
  flushMs?: number;
  now?: () => number;
  /** Monotonic ms measuring what a flush costs; default `performance.now`. */
  clock?: () => number;
}

/** Share of the event loop the tree diff may take; past it the next flush waits longer (`flushMs` is the floor). */
export const MAX_FLUSH_DUTY = 0.02;
/** However slow one description was (a GC pause, a busy machine), the page is never left more than 2 s behind. */
export const MAX_FLUSH_INTERVAL_MS = 2_000;

const NOISY = /^(xstate\.|hb\.tick|venue\.tick|sup\.\$)/;

interface Seen {
  sig: string;
  health: string;
  liveness: string;
  restarts: number;
  lastError: string | undefined;
}

/** The fields the inspector shows; a node whose signature is unchanged is not sent again. */
function signature(n: ActorNode): string {
  return JSON.stringify([n.status, n.liveness, n.health, n.reason, n.restarts, n.lastError ?? null, n.value]);
}

function index(root: ActorNode): { nodes: Map<string, ActorNode>; shape: string } {
  const nodes = new Map<string, ActorNode>();
  const parts: string[] = [];
  const walk = (n: ActorNode): void => {
    nodes.set(n.id, n);
    parts.push(n.id, '(');
    for (const c of n.children) walk(c);
    parts.push(')');
  };
  walk(root);
  return { nodes, shape: parts.join(' ') };
}

export function createInspectionHub(deps: InspectionHubDeps) {
  const flushMs = deps.flushMs ?? 250;
  const now = deps.now ?? Date.now;
  const clock = deps.clock ?? (() => performance.now());
  const listeners = new Map<InspectListener, InspectOptions>();
  let seq = 0;
  let sub: { unsubscribe(): void } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delayMs = flushMs;
  /** Smoothed cost of one flush (ms): one slow description does not stall the next ones. */
  let costMs = 0;
  let seen: Map<string, Seen> | undefined;
  let shape = '';

  const idOf = (ref: unknown) => (ref as { systemId?: string }).systemId ?? (ref as { id: string }).id;

  function emit(e: Omit<InspectEvent, 'seq' | 'ts'>, onlyEvents = false): void {
    const full: InspectEvent = { seq: ++seq, ts: now(), ...e };
    for (const [l, o] of listeners) if (!onlyEvents || o.events) l.event(full);
  }

  function onInspect(ev: InspectionEvent): void {
    if (ev.type !== '@xstate.event') return;
    const type = ev.event.type;
    if (NOISY.test(type)) return;
    emit({ type, from: ev.sourceRef ? idOf(ev.sourceRef) : undefined, to: idOf(ev.actorRef) }, true);
  }

  function remember(nodes: Map<string, ActorNode>): Map<string, Seen> {
    const out = new Map<string, Seen>();
    for (const [id, n] of nodes)
      out.set(id, {
        sig: signature(n),
        health: n.health,
        liveness: n.liveness,
        restarts: n.restarts,
        lastError: n.lastError,
      });
    return out;
  }

  function transitions(prev: Map<string, Seen>, next: Map<string, Seen>, nodes: Map<string, ActorNode>): void {
    for (const [id, s] of next) {
      const p = prev.get(id);
      if (!p) {
        emit({ type: 'actor.added', to: id });
        continue;
      }
      if (p.sig === s.sig) continue;
      const n = nodes.get(id) as ActorNode;
      if (p.health !== s.health) emit({ type: `health.${s.health}`, to: id, detail: n.reason || undefined });
      if (p.liveness !== s.liveness) emit({ type: `liveness.${s.liveness}`, to: id });
      if (s.restarts > p.restarts) emit({ type: 'actor.restarted', to: id, detail: `restarts ${s.restarts}` });
      if (s.lastError && s.lastError !== p.lastError) emit({ type: 'actor.error', to: id, detail: s.lastError });
    }
    for (const id of prev.keys()) if (!next.has(id)) emit({ type: 'actor.removed', to: id });
  }

  function flush(): void {
    if (listeners.size === 0) return;
    const root = deps.tree();
    const { nodes, shape: nextShape } = index(root);
    const next = remember(nodes);
    const prev = seen;
    seen = next;
    if (!prev) return;
    transitions(prev, next, nodes);
    if (nextShape !== shape) {
      shape = nextShape;
      for (const l of listeners.keys()) l.tree(root);
      return;
    }
    const changed: ActorNode[] = [];
    for (const [id, s] of next)
      if (prev.get(id)?.sig !== s.sig) changed.push({ ...(nodes.get(id) as ActorNode), children: [] });
    if (changed.length > 0) for (const l of listeners.keys()) l.nodes(changed);
  }

  function tick(): void {
    timer = undefined;
    const t0 = clock();
    flush();
    costMs = costMs === 0 ? clock() - t0 : 0.7 * costMs + 0.3 * (clock() - t0);
    delayMs = Math.min(Math.max(flushMs, MAX_FLUSH_INTERVAL_MS), Math.max(flushMs, costMs / MAX_FLUSH_DUTY));
    if (listeners.size > 0) schedule();
  }

  function schedule(): void {
    timer = setTimeout(tick, delayMs);
    timer.unref();
  }

  function attachInspection(): void {
    sub = deps.root().system.inspect({ next: onInspect, error: () => {}, complete: () => {} } as never) as unknown as {
      unsubscribe(): void;
    };
  }

  function syncInspection(): void {
    const wanted = [...listeners.values()].some((o) => o.events);
    if (wanted && !sub) attachInspection();
    if (!wanted && sub) {
      sub.unsubscribe();
      sub = undefined;
    }
  }

  return {
    /** Adds a listener (sends it the full tree now); returns the detach function. */
    add(listener: InspectListener, opts: InspectOptions = {}): () => void {
      const root = deps.tree();
      if (listeners.size === 0) {
        const { nodes, shape: s } = index(root);
        seen = remember(nodes);
        shape = s;
        delayMs = flushMs;
        costMs = 0;
        if (!timer) schedule();
      }
      listeners.set(listener, { events: opts.events === true });
      syncInspection();
      listener.tree(root);
      return () => {
        if (!listeners.delete(listener)) return;
        syncInspection();
        if (listeners.size === 0) {
          if (timer) clearTimeout(timer);
          timer = undefined;
          seen = undefined;
          shape = '';
        }
      };
    },
    /** XState inspection is attached (some listener asked for every actor event). */
    attached: () => sub !== undefined,
    listenerCount: () => listeners.size,
    /** Flushes now (tests). */
    flush,
    /** The wait before the next flush: `flushMs`, or longer while the tree takes more than its duty to describe. */
    flushIntervalMs: () => delayMs,
  };
}
