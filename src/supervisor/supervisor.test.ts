import { describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor, SimulatedClock } from 'xstate';
import { makeWorker } from '../../test/support/worker.js';
import type { Health } from '../machines/health.js';
import type { ChildSpec, Strategy } from './policy.js';
import { indexSystemIds } from './reap.js';
import { createSupervisor, type SupervisorContext, type SupervisorOptions } from './supervisor.js';

interface Harness {
  clock: SimulatedClock;
  log: string[];
  live: Set<string>;
  root: ReturnType<typeof createActor>;
  health: Map<string, Health>;
  restarts: Array<{ supervisor: string; child: string; delayMs: number }>;
  escalations: string[];
  errors: unknown[];
  get: (id: string) => AnyActorRef;
  ctx: () => SupervisorContext;
  advance: (ms: number, step?: number) => void;
}

function harness(opts: Partial<SupervisorOptions> & { children: ChildSpec[] }, extraLogics = {}): Harness {
  const clock = new SimulatedClock();
  const log: string[] = [];
  const live = new Set<string>();
  const health = new Map<string, Health>();
  const restarts: Harness['restarts'] = [];
  const escalations: string[] = [];
  const errors: unknown[] = [];
  const worker = makeWorker(log, live);
  const sup = createSupervisor({
    strategy: 'one_for_one',
    intensity: 3,
    periodMs: 1_000,
    backoff: { minMs: 100, maxMs: 10_000, factor: 2, jitter: 0, resetAfterMs: 5_000, immediateFirst: false },
    now: () => clock.now(),
    random: () => 0.5,
    logics: { worker, ...extraLogics },
    hooks: {
      onHealth: (id, h) => health.set(id, h),
      onRestart: (e) => restarts.push(e),
      onEscalate: (e) => escalations.push(e.supervisor),
    },
    ...opts,
  });
  const root = createActor(sup, { clock, id: 'root', systemId: 'root' });
  root.subscribe({ error: (e) => errors.push(e) });
  root.start();
  return {
    clock,
    log,
    live,
    root,
    health,
    restarts,
    escalations,
    errors,
    get: (id) => root.system.get(id) as AnyActorRef,
    ctx: () => root.getSnapshot().context as SupervisorContext,
    advance: (ms, step = 10) => {
      for (let t = 0; t < ms; t += step) clock.increment(Math.min(step, ms - t));
    },
  };
}

const workers = (names: string[], extra: Partial<ChildSpec> = {}): ChildSpec[] =>
  names.map((id) => ({ id, src: 'worker', input: { name: id }, shutdownMs: 0, ...extra }));

describe('supervisor strategies', () => {
  const cases: Array<[Strategy, string[]]> = [
    ['one_for_one', ['stop:w2', 'start:w2']],
    ['one_for_all', ['stop:w2', 'stop:w3', 'stop:w1', 'start:w1', 'start:w2', 'start:w3']],
    ['rest_for_one', ['stop:w2', 'stop:w3', 'start:w2', 'start:w3']],
  ];
  it.each(cases)('%s stops and starts children in OTP order', (strategy, expected) => {
    const h = harness({ strategy, children: workers(['w1', 'w2', 'w3']), backoff: { immediateFirst: true } });
    expect(h.log).toEqual(['start:w1', 'start:w2', 'start:w3']);
    h.log.length = 0;
    h.get('w2').send({ type: 'test.crash' });
    expect(h.log).toEqual(expected);
    expect(h.live).toEqual(new Set(['w1', 'w2', 'w3']));
    expect(h.errors).toEqual([]);
  });

  it('keeps the sessions of untouched siblings under one_for_one', () => {
    const h = harness({ children: workers(['w1', 'w2']), backoff: { immediateFirst: true } });
    const w1 = h.get('w1').sessionId;
    const w2 = h.get('w2').sessionId;
    h.get('w2').send({ type: 'test.crash' });
    expect(h.get('w1').sessionId).toBe(w1);
    expect(h.get('w2').sessionId).not.toBe(w2);
  });
});

describe('restart intensity', () => {
  it('escalates on exactly the crash that exceeds the intensity', () => {
    const h = harness({
      intensity: 2,
      periodMs: 1_000,
      children: workers(['w1', 'w2']),
      backoff: { immediateFirst: true, minMs: 10 },
    });
    h.get('w1').send({ type: 'test.crash' });
    h.advance(20);
    h.get('w1').send({ type: 'test.crash' });
    h.advance(20);
    expect(h.root.getSnapshot().status).toBe('active');
    expect(h.escalations).toEqual([]);
    h.get('w1').send({ type: 'test.crash' });
    expect(h.escalations).toEqual(['root']);
    expect(h.root.getSnapshot().status).toBe('done');
    expect(h.root.getSnapshot().output).toMatchObject({ reason: 'max_restart_intensity', child: 'w1' });
    expect(h.live.size).toBe(0);
  });

  it('never escalates when crashes are spaced wider than the period', () => {
    const h = harness({
      intensity: 1,
      periodMs: 1_000,
      children: workers(['w1']),
      backoff: { immediateFirst: true, resetAfterMs: 1_000 },
    });
    for (let i = 0; i < 10; i++) {
      h.get('w1').send({ type: 'test.crash' });
      h.advance(1_100, 100);
    }
    expect(h.escalations).toEqual([]);
    expect(h.root.getSnapshot().status).toBe('active');
    expect(h.ctx().kids.w1?.restarts).toBe(10);
  });
});

describe('backoff', () => {
  it('waits 100, 200, 400 ms between restarts and resets after a healthy period', () => {
    const h = harness({ intensity: 100, periodMs: 60_000, children: workers(['w1']) });
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = h.clock.now();
      h.get('w1').send({ type: 'test.crash' });
      expect(h.get('w1')).toBeUndefined();
      let waited = 0;
      while (!h.get('w1')) {
        h.clock.increment(10);
        waited += 10;
      }
      delays.push(h.clock.now() - before);
      expect(waited).toBeGreaterThan(0);
    }
    expect(delays).toEqual([100, 200, 400]);
    expect(h.restarts.map((r) => r.delayMs)).toEqual([100, 200, 400]);
    h.advance(5_000, 100);
    h.get('w1').send({ type: 'test.crash' });
    expect(h.restarts.at(-1)?.delayMs).toBe(100);
  });

  it('reports a critical child in backoff as HALTED and a non-critical one as DEGRADED', () => {
    const h = harness({ intensity: 100, children: [...workers(['crit']), ...workers(['opt'], { critical: false })] });
    h.get('opt').send({ type: 'test.crash' });
    expect(h.health.get('root')).toBe('DEGRADED');
    h.advance(100);
    expect(h.health.get('root')).toBe('OK');
    h.get('crit').send({ type: 'test.crash' });
    expect(h.health.get('root')).toBe('HALTED');
    h.advance(100);
    expect(h.health.get('root')).toBe('OK');
  });
});

describe('children record', () => {
  const children = (h: Harness) => h.root.getSnapshot().children as Record<string, AnyActorRef | undefined>;

  it('puts a child restarted at once in its old place and keeps no dead incarnation', () => {
    const h = harness({ children: workers(['w1', 'w2', 'w3']), backoff: { immediateFirst: true } });
    const dead = h.get('w2');
    dead.send({ type: 'test.crash' });
    expect(Object.keys(children(h))).toEqual(['w1', 'w2', 'w3']);
    expect(children(h).w2).toBe(h.get('w2'));
    expect(children(h).w2).not.toBe(dead);
    expect(h.get('w2').getSnapshot().status).toBe('active');
    expect(h.live).toEqual(new Set(['w1', 'w2', 'w3']));
  });

  it('makes one new snapshot for a crash and an immediate restart: the OK report of the new child changes nothing', () => {
    const h = harness({ children: workers(['w1', 'w2']), backoff: { immediateFirst: true } });
    const before = h.root.getSnapshot();
    const steps: unknown[] = [];
    const sub = h.root.subscribe({ next: (snap) => steps.push(snap), error: () => {} });
    h.get('w1').send({ type: 'test.crash' });
    sub.unsubscribe();
    expect(new Set(steps).size).toBe(1);
    expect(h.root.getSnapshot()).not.toBe(before);
    expect(h.ctx().kids.w1).toMatchObject({ liveness: 'running', health: 'OK', restarts: 1 });
    expect(h.health.get('w1')).toBe('OK');
  });

  it('drops a dead child waiting in backoff or not restarted at all', () => {
    const h = harness({ children: [...workers(['w1']), ...workers(['tmp'], { restart: 'temporary' })] });
    h.get('w1').send({ type: 'test.crash' });
    h.get('tmp').send({ type: 'test.crash' });
    expect(Object.keys(children(h))).toEqual([]);
    h.advance(100);
    expect(Object.keys(children(h))).toEqual(['w1']);
  });
});

describe('restart types', () => {
  it('restarts a transient child only after an abnormal exit', () => {
    const h = harness({ children: workers(['t1', 't2'], { restart: 'transient' }), backoff: { immediateFirst: true } });
    h.get('t1').send({ type: 'test.finish' });
    expect(h.ctx().kids.t1?.liveness).toBe('removed');
    expect(h.get('t1')).toBeUndefined();
    h.get('t2').send({ type: 'test.fail' });
    expect(h.ctx().kids.t2?.liveness).toBe('running');
    expect(h.get('t2')).toBeDefined();
  });

  it('never restarts a temporary child, even when a sibling takes it down under one_for_all', () => {
    const h = harness({
      strategy: 'one_for_all',
      children: [...workers(['p1']), ...workers(['tmp'], { restart: 'temporary' })],
      backoff: { immediateFirst: true },
    });
    h.get('tmp').send({ type: 'test.crash' });
    expect(h.ctx().kids.tmp?.liveness).toBe('removed');
    expect(h.live).toEqual(new Set(['p1']));
    const h2 = harness({
      strategy: 'one_for_all',
      children: [...workers(['p1']), ...workers(['tmp'], { restart: 'temporary' })],
      backoff: { immediateFirst: true },
    });
    h2.get('p1').send({ type: 'test.crash' });
    expect(h2.ctx().kids.tmp?.liveness).toBe('removed');
    expect(h2.live).toEqual(new Set(['p1']));
  });
});

describe('nested supervision', () => {
  it('restarts the whole subtree with fresh state when a child supervisor escalates', () => {
    const clock = new SimulatedClock();
    const log: string[] = [];
    const live = new Set<string>();
    const worker = makeWorker(log, live);
    const escalations: string[] = [];
    const hooks = { onEscalate: (e: { supervisor: string }) => escalations.push(e.supervisor) };
    const venue = createSupervisor({
      hooks,
      strategy: 'rest_for_one',
      intensity: 1,
      periodMs: 1_000,
      backoff: { immediateFirst: true },
      now: () => clock.now(),
      logics: { worker },
      children: workers(['conn', 'sym']),
    });
    const root = createSupervisor({
      strategy: 'one_for_one',
      intensity: 3,
      periodMs: 1_000,
      backoff: { immediateFirst: true },
      now: () => clock.now(),
      logics: { venue },
      hooks,
      children: [{ id: 'venue', src: 'venue', shutdownMs: 0 }],
    });
    const a = createActor(root, { clock, id: 'root' });
    const errors: unknown[] = [];
    a.subscribe({ error: (e) => errors.push(e) });
    a.start();
    const venueSession = a.system.get('venue').sessionId;
    a.system.get('sym').send({ type: 'test.inc' });
    expect(a.system.get('sym').getSnapshot().context.count).toBe(1);
    a.system.get('conn').send({ type: 'test.crash' });
    a.system.get('conn').send({ type: 'test.crash' });
    expect(escalations).toEqual(['venue']);
    expect(a.system.get('venue').sessionId).not.toBe(venueSession);
    expect(a.system.get('sym').getSnapshot().context.count).toBe(0);
    expect(live).toEqual(new Set(['conn', 'sym']));
    expect((a.getSnapshot().context as SupervisorContext).kids.venue?.restarts).toBe(1);
    expect(errors).toEqual([]);
  });

  it('leaves no orphaned grandchildren after a crash', () => {
    const h = harness({
      children: workers(['w1', 'w2', 'w3']),
      backoff: { immediateFirst: true, resetAfterMs: 0 },
      intensity: 50,
      periodMs: 1,
    });
    for (let i = 0; i < 20; i++) {
      h.get(`w${(i % 3) + 1}`).send({ type: 'test.crash' });
      h.advance(10);
    }
    expect(h.live).toEqual(new Set(['w1', 'w2', 'w3']));
    expect(h.log.filter((l) => l.startsWith('start:')).length - h.log.filter((l) => l.startsWith('stop:')).length).toBe(
      3,
    );
  });
});

describe('shutdown', () => {
  it('drains in reverse start order and kills a stubborn child at its timeout', () => {
    const h = harness({
      children: [
        { id: 'w1', src: 'worker', input: { name: 'w1', stubborn: true }, shutdownMs: 200 },
        { id: 'w2', src: 'worker', input: { name: 'w2', drainMs: 50 }, shutdownMs: 500 },
        { id: 'w3', src: 'worker', input: { name: 'w3' }, shutdownMs: 0 },
      ],
    });
    h.log.length = 0;
    h.root.send({ type: 'sup.shutdown' });
    expect(h.log).toEqual(['stop:w3', 'stop:w2', 'start:w2']);
    h.advance(50);
    expect(h.live).toEqual(new Set(['w1']));
    expect(h.log.slice(-2)).toEqual(['stop:w1', 'start:w1']);
    h.advance(190);
    expect(h.live).toEqual(new Set(['w1']));
    h.advance(20);
    expect(h.live.size).toBe(0);
    expect(h.root.getSnapshot().status).toBe('done');
    expect(h.root.getSnapshot().output).toEqual({ reason: 'shutdown' });
  });

  it('uses the graceful protocol for the siblings one_for_all stops', () => {
    const h = harness({
      strategy: 'one_for_all',
      backoff: { immediateFirst: true },
      children: [
        { id: 'w1', src: 'worker', input: { name: 'w1', drainMs: 30 }, shutdownMs: 1_000 },
        { id: 'w2', src: 'worker', input: { name: 'w2' }, shutdownMs: 0 },
      ],
    });
    h.log.length = 0;
    h.get('w2').send({ type: 'test.crash' });
    expect(h.get('w2')).toBeUndefined();
    expect(h.live.has('w1')).toBe(true);
    h.advance(30);
    expect(h.live).toEqual(new Set(['w1', 'w2']));
    expect(h.log.filter((l) => l.startsWith('start:')).slice(-2)).toEqual(['start:w1', 'start:w2']);
  });
});

describe('operator commands', () => {
  it('terminates, starts, restarts and deletes children', () => {
    const h = harness({ children: workers(['w1', 'w2']) });
    h.root.send({ type: 'sup.terminateChild', id: 'w2' });
    expect(h.ctx().kids.w2?.liveness).toBe('stopped');
    expect(h.health.get('root')).toBe('HALTED');
    h.root.send({ type: 'sup.startChild', id: 'w2' });
    expect(h.ctx().kids.w2?.liveness).toBe('running');
    const s = h.get('w1').sessionId;
    h.root.send({ type: 'sup.restartChild', id: 'w1' });
    expect(h.get('w1').sessionId).not.toBe(s);
    h.root.send({ type: 'sup.addChild', spec: { id: 'w9', src: 'worker', input: { name: 'w9' }, shutdownMs: 0 } });
    expect(h.live.has('w9')).toBe(true);
    h.root.send({ type: 'sup.terminateChild', id: 'w9' });
    h.root.send({ type: 'sup.deleteChild', id: 'w9' });
    expect(h.ctx().order).toEqual(['w1', 'w2']);
    expect(h.health.get('root')).toBe('OK');
  });

  it('cancels a pending backoff restart when an operator terminates the child', () => {
    const h = harness({ children: workers(['w1']) });
    h.get('w1').send({ type: 'test.crash' });
    h.root.send({ type: 'sup.terminateChild', id: 'w1' });
    h.advance(500);
    expect(h.get('w1')).toBeUndefined();
    expect(h.ctx().kids.w1?.liveness).toBe('stopped');
  });
});

describe('money-guarding children', () => {
  it('restart from their last good snapshot, then start HALTED on a second crash inside the window', () => {
    const h = harness({
      intensity: 10,
      periodMs: 1_000,
      backoff: { immediateFirst: true },
      children: workers(['g'], { flavour: 'guard' }),
    });
    h.get('g').send({ type: 'test.inc' });
    h.get('g').send({ type: 'test.inc' });
    h.get('g').send({ type: 'test.crash' });
    expect(h.get('g').getSnapshot().context.count).toBe(2);
    expect(h.health.get('g')).toBe('OK');
    h.advance(100);
    h.get('g').send({ type: 'test.crash' });
    h.advance(300);
    expect(h.get('g').getSnapshot().context.health).toEqual({ value: 'HALTED', reason: 'crash_loop: boom' });
    expect(h.health.get('g')).toBe('HALTED');
    expect(h.health.get('root')).toBe('HALTED');
    h.root.send({ type: 'sup.restartChild', id: 'g' });
    expect(h.get('g').getSnapshot().context.health.value).toBe('OK');
    expect(h.health.get('root')).toBe('OK');
  });
});

describe('health reports', () => {
  it('rolls a child DEGRADED/HALTED up to the root, edge-triggered', () => {
    const h = harness({ children: [...workers(['c']), ...workers(['n'], { critical: false })] });
    h.get('n').send({ type: 'health.halt', reason: 'stale' });
    expect(h.health.get('n')).toBe('HALTED');
    expect(h.health.get('root')).toBe('DEGRADED');
    h.get('c').send({ type: 'health.halt', reason: 'auth' });
    expect(h.health.get('root')).toBe('HALTED');
    expect(h.ctx().health.reason).toBe('c:running:HALTED: auth');
    h.get('c').send({ type: 'health.ok' });
    expect(h.health.get('root')).toBe('DEGRADED');
    h.get('n').send({ type: 'health.ok' });
    expect(h.health.get('root')).toBe('OK');
  });
});

describe('xstate internals canary', () => {
  it('still exposes _parent, _processingStatus and _stop as the supervisor expects', () => {
    const h = harness({ children: workers(['w1']) });
    const ref = h.get('w1') as unknown as { _parent?: unknown; _processingStatus?: number; _stop?: unknown };
    expect(ref._parent).toBe(h.root);
    expect(ref._processingStatus).toBe(1);
    expect(typeof ref._stop).toBe('function');
  });

  it('still registers systemIds through system._set/_unregister, so indexSystemIds sees what getAll() holds', () => {
    const h = harness({ children: workers(['w1', 'w2']), backoff: { immediateFirst: true } });
    const index = indexSystemIds(h.root.system, (id) => id.startsWith('w'));
    const fromGetAll = () => Object.entries(h.root.system.getAll()).filter(([id]) => id.startsWith('w'));
    expect([...index]).toEqual(fromGetAll());
    h.get('w1').send({ type: 'test.crash' });
    h.root.send({ type: 'sup.terminateChild', id: 'w2' });
    h.root.send({ type: 'sup.addChild', spec: { id: 'w3', src: 'worker', input: { name: 'w3' }, shutdownMs: 0 } });
    expect([...index].sort()).toEqual(fromGetAll().sort());
    expect([...index.keys()].sort()).toEqual(['w1', 'w3']);
  });
});
