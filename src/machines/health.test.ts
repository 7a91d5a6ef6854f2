import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, setup } from 'xstate';
import { healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/** A machine shaped like every entity machine: the shared health region beside a region that invokes an effect. */
function entity(starts: { n: number }) {
  return setup({
    types: {} as { context: { health: { value: 'OK' | 'DEGRADED' | 'HALTED'; reason: string } } },
    actors: {
      effect: fromCallback(() => {
        starts.n += 1;
        return () => {};
      }),
    },
    actions: { ...(healthActions as unknown as Record<string, never>) },
    guards: { ...(healthGuards as unknown as Record<string, never>) },
  }).createMachine({
    type: 'parallel',
    context: { health: initialHealth() },
    states: { health: healthRegion as never, work: { invoke: { src: 'effect' } } },
  });
}

describe('shared health region', () => {
  it('walks OK → DEGRADED → HALTED → OK, keeps reasons and tags in step', () => {
    const a = createActor(entity({ n: 0 }));
    a.start();
    a.send({ type: 'health.degrade', reason: 'stale' });
    expect(a.getSnapshot().context.health).toEqual({ value: 'DEGRADED', reason: 'stale' });
    expect(a.getSnapshot().hasTag('health:degraded')).toBe(true);
    a.send({ type: 'health.degrade', reason: 'staler' });
    expect(a.getSnapshot().context.health.reason).toBe('staler');
    a.send({ type: 'health.halt', reason: 'auth' });
    expect(a.getSnapshot().hasTag('health:halted')).toBe(true);
    a.send({ type: 'health.ok' });
    expect(a.getSnapshot().context.health).toEqual({ value: 'OK', reason: '' });
  });

  it('never restarts the effects of sibling regions when health changes', () => {
    const starts = { n: 0 };
    const a = createActor(entity(starts));
    a.start();
    expect(starts.n).toBe(1);
    for (const reason of ['a', 'b', 'c']) {
      a.send({ type: 'health.degrade', reason });
      a.send({ type: 'health.halt', reason });
      a.send({ type: 'health.ok' });
    }
    expect(starts.n).toBe(1);
  });
});
