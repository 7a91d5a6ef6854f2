import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { executorMachine } from './executor.machine.js';

/** The executor's bounded retries under a simulated clock: no real time passes, every call is counted. */
function start(outcomes: Array<'ok' | 'fail'>, input: { stopped?: boolean } = {}) {
  const clock = new SimulatedClock();
  let calls = 0;
  const logic = executorMachine.provide({
    actors: {
      rebalance: fromPromise(async () => {
        const o = outcomes[Math.min(calls, outcomes.length - 1)];
        calls += 1;
        if (o === 'fail') throw new Error('venue down');
        return { orders: 1 };
      }),
    },
  });
  const actor = createActor(logic, {
    clock,
    input: { intervalMs: 60_000, maxAttempts: 3, backoffMs: 1_000, ...input },
  }).start();
  // Let the invoked promise settle (microtasks only, no timers).
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { actor, clock, calls: () => calls, settle };
}

describe('executor machine', () => {
  it('rebalances once per interval while it succeeds and stays OK', async () => {
    const t = start(['ok']);
    expect(t.calls()).toBe(0);
    t.clock.increment(60_000);
    await t.settle();
    expect(t.calls()).toBe(1);
    t.clock.increment(60_000);
    await t.settle();
    expect(t.calls()).toBe(2);
    expect(t.actor.getSnapshot().context.health.value).toBe('OK');
    expect(t.actor.getSnapshot().context.rebalances).toBe(2);
  });

  it('makes at most maxAttempts calls per rebalance with doubling back-off, then goes DEGRADED and waits', async () => {
    const t = start(['fail']);
    t.clock.increment(60_000);
    await t.settle();
    expect(t.calls()).toBe(1);
    t.clock.increment(999);
    await t.settle();
    expect(t.calls()).toBe(1); // back-off 1 s not yet over
    t.clock.increment(1);
    await t.settle();
    expect(t.calls()).toBe(2);
    t.clock.increment(1_999);
    await t.settle();
    expect(t.calls()).toBe(2); // second back-off is 2 s
    t.clock.increment(1);
    await t.settle();
    expect(t.calls()).toBe(3);
    const s = t.actor.getSnapshot();
    expect(s.context.health.value).toBe('DEGRADED');
    expect(s.context.health.reason).toMatch(/^retries_exhausted: 3 attempts failed \(venue down\)/);
    // However long it keeps failing, nothing more until the next interval.
    t.clock.increment(59_999);
    await t.settle();
    expect(t.calls()).toBe(3);
    t.clock.increment(1);
    await t.settle();
    expect(t.calls()).toBe(4);
  });

  it('recovers to OK on the next successful rebalance', async () => {
    const t = start(['fail', 'fail', 'fail', 'ok']);
    t.clock.increment(60_000);
    await t.settle();
    t.clock.increment(1_000);
    await t.settle();
    t.clock.increment(2_000);
    await t.settle();
    expect(t.actor.getSnapshot().context.health.value).toBe('DEGRADED');
    t.clock.increment(60_000);
    await t.settle();
    expect(t.calls()).toBe(4);
    expect(t.actor.getSnapshot().context.health.value).toBe('OK');
  });

  it('stop parks it (no rebalance, idempotent) and start resumes', async () => {
    const t = start(['ok']);
    t.actor.send({ type: 'exec.stop' });
    t.actor.send({ type: 'exec.stop' });
    t.clock.increment(600_000);
    await t.settle();
    expect(t.calls()).toBe(0);
    expect(t.actor.getSnapshot().context.stopped).toBe(true);
    t.actor.send({ type: 'exec.start' });
    t.actor.send({ type: 'exec.start' });
    t.clock.increment(60_000);
    await t.settle();
    expect(t.calls()).toBe(1);
  });

  it('a stop during back-off cancels the pending retry', async () => {
    const t = start(['fail']);
    t.clock.increment(60_000);
    await t.settle();
    t.actor.send({ type: 'exec.stop' });
    t.clock.increment(10_000);
    await t.settle();
    expect(t.calls()).toBe(1);
  });

  it('starts parked when restarted after an operator stop', async () => {
    const t = start(['ok'], { stopped: true });
    t.clock.increment(120_000);
    await t.settle();
    expect(t.calls()).toBe(0);
  });
});
