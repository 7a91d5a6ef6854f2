import { describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { createTransitionHistory, watchTransitions } from './transition-history.js';

const lamp = setup({ types: { context: {} as { n: number } } }).createMachine({
  id: 'lamp',
  context: { n: 0 },
  type: 'parallel',
  states: {
    power: {
      initial: 'off',
      states: {
        off: { on: { 'lamp.on': 'on' } },
        on: { on: { 'lamp.off': 'off', 'lamp.again': { target: 'on', reenter: true } } },
      },
    },
    count: { on: { 'lamp.tick': { actions: assign({ n: ({ context }) => context.n + 1 }) } } },
  },
});

describe('createTransitionHistory', () => {
  it('keeps the newest entries per actor in a bounded ring, oldest first', () => {
    let now = 0;
    const h = createTransitionHistory({ now: () => now, maxPerActor: 3 });
    for (let i = 0; i < 7; i++) {
      now = i * 1_000;
      h.record('conn:binance', `e${i}`, `s${i}`, `s${i + 1}`);
    }
    h.record('feed:binance', 'start', null, 'idle');
    expect(h.list('conn:binance').map((e) => [e.ts, e.event, e.from, e.to])).toEqual([
      [4_000, 'e4', 's4', 's5'],
      [5_000, 'e5', 's5', 's6'],
      [6_000, 'e6', 's6', 's7'],
    ]);
    expect(h.list('feed:binance')).toHaveLength(1);
    h.forget('conn:binance');
    expect(h.list('conn:binance')).toEqual([]);
    expect(h.list('never:seen')).toEqual([]);
  });
});

describe('watchTransitions', () => {
  it('reports the start and each change of active states with its event, not events handled in place', () => {
    const seen: Array<[string, string, unknown, unknown]> = [];
    const actor = createActor(
      watchTransitions(lamp, (id, event, from, to) => seen.push([id, event, from, to])),
      { systemId: 'lamp:1' },
    );
    actor.start();
    for (let i = 0; i < 100; i++) actor.send({ type: 'lamp.tick' });
    actor.send({ type: 'lamp.on' });
    actor.send({ type: 'lamp.tick' });
    // Leaving and entering the same state again changes nothing an operator can see.
    actor.send({ type: 'lamp.again' });
    actor.send({ type: 'lamp.off' });
    actor.send({ type: 'lamp.unknown' });
    expect(actor.getSnapshot().context.n).toBe(101);
    expect(seen).toEqual([
      ['lamp:1', 'start', null, { power: 'off', count: {} }],
      ['lamp:1', 'lamp.on', { power: 'off', count: {} }, { power: 'on', count: {} }],
      ['lamp:1', 'lamp.off', { power: 'on', count: {} }, { power: 'off', count: {} }],
    ]);
    actor.stop();
  });

  it('reports a restored actor as resumed, under its id when it has no system id', () => {
    const seen: string[] = [];
    const watched = watchTransitions(lamp, (id, event) => seen.push(`${id} ${event}`));
    const first = createActor(lamp).start();
    first.send({ type: 'lamp.on' });
    const persisted = first.getPersistedSnapshot();
    first.stop();
    const actor = createActor(watched, { id: 'lamp-2', snapshot: persisted }).start();
    expect(actor.getSnapshot().value).toEqual({ power: 'on', count: {} });
    expect(seen).toEqual(['lamp-2 resume']);
    actor.stop();
  });
});
