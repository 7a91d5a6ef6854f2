import { describe, expect, it, vi } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { createInspectionHub, MAX_FLUSH_DUTY, MAX_FLUSH_INTERVAL_MS } from './inspection-hub.js';
import type { ActorNode, InspectEvent } from './runtime-port.js';

const node = (id: string, over: Partial<ActorNode> = {}, children: ActorNode[] = []): ActorNode => ({
  id,
  kind: id.split(':')[0] ?? id,
  liveness: 'running',
  status: 'active',
  value: 'running',
  health: 'OK',
  reason: '',
  restarts: 0,
  children,
  ...over,
});

function recorder() {
  const trees: ActorNode[] = [];
  const nodes: ActorNode[][] = [];
  const events: InspectEvent[] = [];
  return {
    trees,
    nodes,
    events,
    listener: {
      tree: (t: ActorNode) => trees.push(t),
      nodes: (n: ActorNode[]) => nodes.push(n),
      event: (e: InspectEvent) => events.push(e),
    },
  };
}

describe('inspection hub (tree diff)', () => {
  const root = createActor(createMachine({ id: 'm', on: { ping: {} } }), { systemId: 'root' }).start();

  it('sends the tree on add, only changed nodes after, the tree on a shape change, and transitions as events', () => {
    let current = node('root', {}, [node('conn:binance'), node('feed:binance')]);
    const hub = createInspectionHub({ root: () => root, tree: () => current, flushMs: 60_000, now: () => 5 });
    const r = recorder();
    const detach = hub.add(r.listener);
    expect(r.trees).toHaveLength(1);
    expect(hub.attached()).toBe(false);

    hub.flush();
    expect(r.nodes).toEqual([]);

    current = node('root', {}, [
      node('conn:binance', { health: 'DEGRADED', reason: 'error_rate: 25%' }),
      node('feed:binance'),
    ]);
    hub.flush();
    expect(r.nodes).toHaveLength(1);
    expect(r.nodes[0]?.map((n) => n.id)).toEqual(['conn:binance']);
    expect(r.nodes[0]?.[0]?.children).toEqual([]);
    expect(r.events).toEqual([
      { seq: 1, ts: 5, type: 'health.DEGRADED', to: 'conn:binance', detail: 'error_rate: 25%' },
    ]);

    current = node('root', {}, [
      node('conn:binance', { health: 'DEGRADED', reason: 'error_rate: 25%' }),
      node('feed:binance', { liveness: 'backoff', restarts: 1, lastError: 'boom' }),
      node('account:binance'),
    ]);
    hub.flush();
    expect(r.trees).toHaveLength(2);
    expect(r.nodes).toHaveLength(1);
    expect(r.events.map((e) => e.type)).toEqual([
      'health.DEGRADED',
      'liveness.backoff',
      'actor.restarted',
      'actor.error',
      'actor.added',
    ]);

    detach();
    expect(hub.listenerCount()).toBe(0);
    current = node('root', { health: 'HALTED' });
    hub.flush();
    expect(r.trees).toHaveLength(2);
  });

  it('attaches XState inspection only while a listener asks for every event', () => {
    const hub = createInspectionHub({ root: () => root, tree: () => node('root'), flushMs: 60_000 });
    const plain = recorder();
    const all = recorder();
    const d1 = hub.add(plain.listener);
    expect(hub.attached()).toBe(false);
    const d2 = hub.add(all.listener, { events: true });
    expect(hub.attached()).toBe(true);
    root.send({ type: 'ping' });
    expect(all.events.map((e) => e.type)).toContain('ping');
    expect(plain.events).toEqual([]);
    d2();
    expect(hub.attached()).toBe(false);
    d1();
    expect(hub.listenerCount()).toBe(0);
  });

  it('spaces its flushes out while describing the tree takes more than its duty of the event loop', () => {
    vi.useFakeTimers();
    try {
      let clock = 0;
      let described = 0;
      let cost = 20;
      // Each description costs 20 ms of (simulated) work: at a 2% duty the next flush waits 1 s, not 250 ms.
      const tree = () => {
        described++;
        clock += cost;
        return node('root', {}, [node('conn:binance')]);
      };
      const hub = createInspectionHub({ root: () => root, tree, flushMs: 250, clock: () => clock });
      const detach = hub.add(recorder().listener);
      expect(described).toBe(1);
      vi.advanceTimersByTime(250);
      expect(described).toBe(2);
      expect(hub.flushIntervalMs()).toBe(20 / MAX_FLUSH_DUTY);
      vi.advanceTimersByTime(20 / MAX_FLUSH_DUTY - 1);
      expect(described).toBe(2);
      vi.advanceTimersByTime(1);
      expect(described).toBe(3);
      // One very slow description (a GC pause) never leaves the page more than 2 s behind.
      cost = 500;
      vi.advanceTimersByTime(20 / MAX_FLUSH_DUTY);
      expect(described).toBe(4);
      expect(hub.flushIntervalMs()).toBe(MAX_FLUSH_INTERVAL_MS);
      detach();
      vi.advanceTimersByTime(10_000);
      expect(described).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
