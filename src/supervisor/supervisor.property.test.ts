import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor, SimulatedClock } from 'xstate';
import { makeWorker } from '../../test/support/worker.js';
import type { Health } from '../machines/health.js';
import { describe as describeTree } from './describe.js';
import { rollup } from './rollup.js';
import type { ActorNode } from './runtime-port.js';
import { createSupervisor, type SupervisorContext } from './supervisor.js';

const LEAVES = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'] as const;
type Leaf = (typeof LEAVES)[number];

type Cmd =
  | { k: 'crash'; leaf: Leaf }
  | { k: 'health'; leaf: Leaf; h: 'ok' | 'degrade' | 'halt' }
  | { k: 'advance'; ms: number }
  | { k: 'op'; op: 'sup.restartChild' | 'sup.terminateChild' | 'sup.startChild'; leaf: Leaf }
  | { k: 'exit'; leaf: Leaf; how: 'test.finish' | 'test.fail' };

const leafArb = fc.constantFrom(...LEAVES);
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ k: fc.constant('crash' as const), leaf: leafArb }),
  fc.record({
    k: fc.constant('health' as const),
    leaf: leafArb,
    h: fc.constantFrom('ok' as const, 'degrade' as const, 'halt' as const),
  }),
  fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3_000 }) }),
  fc.record({
    k: fc.constant('op' as const),
    op: fc.constantFrom('sup.restartChild' as const, 'sup.terminateChild' as const, 'sup.startChild' as const),
    leaf: leafArb,
  }),
  fc.record({
    k: fc.constant('exit' as const),
    leaf: leafArb,
    how: fc.constantFrom('test.finish' as const, 'test.fail' as const),
  }),
);

function build() {
  const clock = new SimulatedClock();
  const log: string[] = [];
  const live = new Set<string>();
  const worker = makeWorker(log, live);
  const common = {
    now: () => clock.now(),
    random: () => 0.3,
    backoff: { minMs: 50, maxMs: 800, factor: 2, jitter: 0.5, resetAfterMs: 2_000, immediateFirst: true },
  };
  const sub = createSupervisor({
    ...common,
    strategy: 'rest_for_one',
    intensity: 3,
    periodMs: 1_000,
    logics: { worker },
    children: [
      { id: 'b1', src: 'worker', input: { name: 'b1', drainMs: 20 }, shutdownMs: 100 },
      { id: 'b2', src: 'worker', input: { name: 'b2' }, shutdownMs: 0, restart: 'transient', critical: false },
      { id: 'b3', src: 'worker', input: { name: 'b3', stubborn: true }, shutdownMs: 50, flavour: 'guard' },
    ],
  });
  const root = createSupervisor({
    ...common,
    strategy: 'one_for_one',
    intensity: 4,
    periodMs: 1_000,
    logics: { worker, sub },
    children: [
      { id: 'a1', src: 'worker', input: { name: 'a1' }, shutdownMs: 0 },
      { id: 'a2', src: 'worker', input: { name: 'a2' }, shutdownMs: 0, restart: 'temporary', critical: false },
      { id: 'sub', src: 'sub', shutdownMs: 1_000 },
      { id: 'a3', src: 'worker', input: { name: 'a3', drainMs: 10 }, shutdownMs: 100 },
    ],
  });
  const actor = createActor(root, { clock, id: 'root' });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return { clock, live, actor, errors };
}

function supervisors(ref: AnyActorRef, out: Array<{ ref: AnyActorRef; ctx: SupervisorContext }> = []) {
  const snap = ref.getSnapshot() as { context: unknown; children: Record<string, AnyActorRef | undefined> };
  const ctx = snap.context as SupervisorContext;
  if (ctx && 'kids' in ctx) {
    out.push({ ref, ctx });
    for (const c of Object.values(snap.children)) if (c) supervisors(c, out);
  }
  return out;
}

function runningLeaves(n: ActorNode, out = new Set<string>()): Set<string> {
  if (n.children.length === 0 && n.liveness === 'running') out.add(n.id);
  for (const c of n.children) runningLeaves(c, out);
  return out;
}

function checkInvariants(h: ReturnType<typeof build>): void {
  expect(h.errors).toEqual([]);
  const status = h.actor.getSnapshot().status;
  if (status !== 'active') {
    expect(h.live.size).toBe(0);
    return;
  }
  // No orphans: every live resource belongs to a leaf the tree says is running.
  const tree = describeTree(h.actor);
  const running = runningLeaves(tree);
  for (const r of h.live) expect(running.has(r)).toBe(true);
  for (const { ctx } of supervisors(h.actor)) {
    // Restart log within intensity unless the supervisor is escalating (draining its children before it exits).
    if (!ctx.exit) expect(ctx.restartLog.length).toBeLessThanOrEqual(ctx === h.actor.getSnapshot().context ? 4 : 3);
    // Health equals the roll-up of what the children reported.
    const views = ctx.order.map((id) => ({
      id,
      liveness: ctx.kids[id]?.liveness ?? 'removed',
      health: (ctx.kids[id]?.health ?? 'OK') as Health,
      reason: '',
      critical: ctx.specs[id]?.critical ?? true,
    }));
    if (!ctx.drain) expect(ctx.health.value).toBe(rollup(views).value);
  }
}

describe('supervisor under random crashes, health changes and operator commands', () => {
  it('keeps its invariants and disposes everything on shutdown', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 60 }), (cmds) => {
        const h = build();
        for (const c of cmds) {
          if (h.actor.getSnapshot().status !== 'active') break;
          const ref = h.actor.system.get('leaf' in c ? c.leaf : '') as AnyActorRef | undefined;
          if (c.k === 'crash') ref?.send({ type: 'test.crash' });
          else if (c.k === 'health') ref?.send({ type: `health.${c.h}`, reason: c.h === 'ok' ? undefined : 'chaos' });
          else if (c.k === 'exit') ref?.send({ type: c.how });
          else if (c.k === 'advance') for (let t = 0; t < c.ms; t += 10) h.clock.increment(10);
          else {
            const parent = c.leaf.startsWith('a') ? h.actor : (h.actor.system.get('sub') as AnyActorRef | undefined);
            parent?.send({ type: c.op, id: c.leaf });
          }
          checkInvariants(h);
        }
        if (h.actor.getSnapshot().status === 'active') h.actor.send({ type: 'sup.shutdown' });
        for (let t = 0; t < 3_000 && h.actor.getSnapshot().status === 'active'; t += 10) h.clock.increment(10);
        expect(h.actor.getSnapshot().status).toBe('done');
        expect(h.live.size).toBe(0);
        expect(h.errors).toEqual([]);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
    );
  });
});
