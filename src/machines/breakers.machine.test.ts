import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { equityBreakerMachine, equityBreakerView } from './equity-breaker.machine.js';
import { venueBreakerMachine, venueBreakerView } from './venue-breaker.machine.js';

const equity = (persisted?: Record<string, unknown>) => {
  const published: number[] = [];
  const a = createActor(equityBreakerMachine.provide({ actions: { 'breaker.publish': () => published.push(1) } }), {
    input: { floorUsd: 1_000, maxDrawdownPct: 10, cooldownSec: 60, persisted },
  });
  a.start();
  const send = (equityUsd: number, at: number) => a.send({ type: 'equity.update', equityUsd, at });
  return { a, send, view: () => equityBreakerView(a.getSnapshot().context), published };
};

describe('equity breaker', () => {
  it('trips below the floor and resets only after the buffer stayed positive for the whole cooldown', () => {
    const { a, send, view, published } = equity();
    send(5_000, 0);
    expect(view().tripped).toBe(false);
    send(900, 1_000);
    expect(view()).toMatchObject({ tripped: true, reason: 'equity_floor', since: 1_000, bufferUsd: -100 });
    expect(a.getSnapshot().context.health).toEqual({ value: 'HALTED', reason: 'equity_floor' });
    send(4_800, 2_000); // clear from here
    send(4_800, 2_000 + 59_999);
    expect(view().tripped).toBe(true);
    send(800, 2_000 + 59_999 + 1); // a dip restarts the cooldown
    send(4_800, 70_000);
    send(4_800, 70_000 + 59_999);
    expect(view().tripped).toBe(true);
    send(4_800, 70_000 + 60_000);
    expect(view().tripped).toBe(false);
    expect(a.getSnapshot().context.health.value).toBe('OK');
    expect(published.length).toBeGreaterThan(0);
  });

  it('trips on drawdown and rebases the peak when it resets', () => {
    const { send, view } = equity();
    send(10_000, 0);
    send(9_001, 1);
    expect(view().tripped).toBe(false);
    send(9_000, 2);
    expect(view()).toMatchObject({ tripped: true, reason: 'drawdown' });
    send(9_000, 3);
    send(9_000, 3 + 60_000);
    expect(view()).toMatchObject({ tripped: false, peakUsd: 9_000, drawdownPct: 0 });
  });

  it('an operator reset works only while the buffer is positive', () => {
    const { a, send, view } = equity();
    send(900, 0);
    a.send({ type: 'breaker.reset', at: 1, by: 'ops' });
    expect(view().tripped).toBe(true);
    expect(a.getSnapshot().context.lastResetRefused).toMatch(/not positive/);
    send(2_000, 2);
    a.send({ type: 'breaker.reset', at: 3, by: 'ops' });
    expect(view().tripped).toBe(false);
  });

  it('starts tripped from a persisted tripped state', () => {
    const { a, view } = equity({ tripped: true, reason: 'drawdown', since: 5 });
    expect(view()).toMatchObject({ tripped: true, reason: 'drawdown', since: 5 });
    expect(a.getSnapshot().context.health.value).toBe('HALTED');
  });
});

describe('venue error-rate breaker', () => {
  const venue = (persisted?: Record<string, unknown>) => {
    const a = createActor(venueBreakerMachine, {
      input: { venue: 'binance', tripPct: 50, window: 10, minSamples: 5, persisted },
    });
    a.start();
    return { a, view: () => venueBreakerView(a.getSnapshot().context) };
  };

  it('needs minimum samples, trips at the threshold and stays tripped until an operator resets it', () => {
    const { a, view } = venue();
    for (let i = 0; i < 4; i++) a.send({ type: 'breaker.result', ok: false, at: i });
    expect(view().tripped).toBe(false);
    a.send({ type: 'breaker.result', ok: false, at: 5 });
    expect(view()).toMatchObject({ tripped: true, reason: 'venue_error_rate: 100%', since: 5 });
    for (let i = 0; i < 50; i++) a.send({ type: 'breaker.result', ok: true, at: 10 + i });
    expect(view().tripped).toBe(true);
    expect(view().errorPct).toBe(0);
    a.send({ type: 'breaker.reset', at: 100, by: 'ops' });
    expect(view()).toMatchObject({ tripped: false, samples: 0 });
    expect(a.getSnapshot().context.health.value).toBe('OK');
  });

  it('counts over a sliding window', () => {
    const { a, view } = venue();
    for (let i = 0; i < 10; i++) a.send({ type: 'breaker.result', ok: i % 3 !== 0, at: i });
    expect(view()).toMatchObject({ tripped: false, samples: 10, errorPct: 40 });
    a.send({ type: 'breaker.result', ok: false, at: 10 }); // drops an error, adds one
    expect(view().errorPct).toBe(40);
    a.send({ type: 'breaker.result', ok: false, at: 11 }); // drops an ok, adds an error
    expect(view().errorPct).toBe(50);
    expect(view().tripped).toBe(true);
  });

  it('starts tripped from a persisted tripped state, and a fail-closed restart counts as tripped', () => {
    expect(venue({ tripped: true, reason: 'venue_error_rate: 70%' }).view()).toMatchObject({ tripped: true });
    const a = createActor(venueBreakerMachine, {
      input: { venue: 'kraken', tripPct: 50, window: 10, minSamples: 5, failClosed: 'crashed twice' },
    });
    a.start();
    expect(venueBreakerView(a.getSnapshot().context)).toMatchObject({
      tripped: true,
      reason: 'crash_loop: crashed twice',
    });
  });
});
