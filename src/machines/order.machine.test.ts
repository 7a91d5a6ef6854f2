import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createRng } from '../strategies/seeded-random.js';
import {
  ORDER_STATUSES,
  type OrderEvent,
  type OrderStatusName,
  orderMachine,
  orderTransition,
  statusFromVenue,
  TERMINAL,
} from './order.machine.js';

const AMOUNT = 2;
const events = (rng: () => number): OrderEvent => {
  const pick = Math.floor(rng() * 10);
  const status = ORDER_STATUSES[Math.floor(rng() * ORDER_STATUSES.length)] as OrderStatusName;
  const filled = Math.round(rng() * 3 * 100) / 100 - 0.5;
  return (
    [
      { type: 'SENT' },
      { type: 'ABANDON' },
      { type: 'ACK' },
      { type: 'REJECT' },
      { type: 'UNKNOWN' },
      { type: 'FILL', filled },
      { type: 'CANCELLED' },
      { type: 'EXPIRED' },
      { type: 'RESOLVED_FOUND', status, filled },
      { type: 'RESOLVED_NOT_FOUND' },
    ] as OrderEvent[]
  )[pick] as OrderEvent;
};

describe('order lifecycle', () => {
  it.each([
    ['intent', { type: 'SENT' }, 'submitted', 0],
    ['intent', { type: 'ABANDON' }, 'rejected', 0],
    ['submitted', { type: 'ACK' }, 'acknowledged', 0],
    ['submitted', { type: 'REJECT' }, 'rejected', 0],
    ['submitted', { type: 'UNKNOWN' }, 'unknown', 0],
    ['acknowledged', { type: 'FILL', filled: 1 }, 'partially_filled', 1],
    ['acknowledged', { type: 'FILL', filled: 2 }, 'filled', 2],
    ['acknowledged', { type: 'CANCELLED' }, 'cancelled', 0],
    ['acknowledged', { type: 'EXPIRED' }, 'cancelled', 0],
    ['unknown', { type: 'RESOLVED_FOUND', status: 'filled', filled: 2 }, 'filled', 2],
    ['unknown', { type: 'RESOLVED_FOUND', status: 'acknowledged', filled: 0.5 }, 'partially_filled', 0.5],
    ['unknown', { type: 'RESOLVED_NOT_FOUND' }, 'rejected', 0],
  ] as const)('%s --%j--> %s', (from, e, to, filled) => {
    expect(orderTransition(from, 0, AMOUNT, e as OrderEvent)).toEqual({ status: to, filled, changed: true });
  });

  it('ignores events that are not valid in a state, and stale lower fills', () => {
    expect(orderTransition('intent', 0, AMOUNT, { type: 'FILL', filled: 1 })).toEqual({
      status: 'intent',
      filled: 0,
      changed: false,
    });
    expect(orderTransition('filled', 2, AMOUNT, { type: 'CANCELLED' }).changed).toBe(false);
    expect(orderTransition('partially_filled', 1.5, AMOUNT, { type: 'FILL', filled: 1 })).toEqual({
      status: 'partially_filled',
      filled: 1.5,
      changed: false,
    });
    expect(
      orderTransition('acknowledged', 0, AMOUNT, { type: 'RESOLVED_FOUND', status: 'filled', filled: 2 }).changed,
    ).toBe(false);
  });

  it('random walks keep the invariants, and the XState machine agrees with the reducer step for step', () => {
    const rng = createRng(99);
    for (let walk = 0; walk < 300; walk++) {
      const actor = createActor(orderMachine, { input: { amount: AMOUNT } });
      actor.start();
      let s: OrderStatusName = 'intent';
      let filled = 0;
      for (let i = 0; i < 30; i++) {
        const e = events(() => rng.next());
        const r = orderTransition(s, filled, AMOUNT, e);
        if (TERMINAL.has(s)) expect(r.changed).toBe(false);
        expect(r.filled).toBeGreaterThanOrEqual(filled);
        expect(r.filled).toBeLessThanOrEqual(AMOUNT);
        s = r.status;
        filled = r.filled;
        if (actor.getSnapshot().status === 'active') actor.send(e);
        expect(actor.getSnapshot().value).toBe(s);
        expect(actor.getSnapshot().context.filled).toBe(filled);
      }
    }
  });

  it('maps venue statuses', () => {
    expect(statusFromVenue('open', 0, 1)).toBe('acknowledged');
    expect(statusFromVenue('open', 0.5, 1)).toBe('partially_filled');
    expect(statusFromVenue('closed', 1, 1)).toBe('filled');
    expect(statusFromVenue('canceled', 0.2, 1)).toBe('cancelled');
    expect(statusFromVenue('expired', 0, 1)).toBe('cancelled');
    expect(statusFromVenue('rejected', 0, 1)).toBe('rejected');
  });

  it('the reducer is a plain function: 100,000 steps create no actors', () => {
    let s: OrderStatusName = 'acknowledged';
    let f = 0;
    for (let i = 1; i <= 100_000; i++)
      ({ status: s, filled: f } = orderTransition(s, f, 100_000, { type: 'FILL', filled: i }));
    expect(s).toBe('filled');
  });
});
