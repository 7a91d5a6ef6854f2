import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { CONN_DEFAULTS, connMachine } from './conn.machine.js';

function conn() {
  const published: number[] = [];
  const a = createActor(connMachine.provide({ actions: { 'conn.publish': () => published.push(1) } }), {
    input: { venue: 'binance', ...CONN_DEFAULTS },
  });
  a.start();
  const health = () => a.getSnapshot().context.health;
  return { a, health, published };
}

describe('conn health', () => {
  it('walks OK → DEGRADED → HALTED → OK as the error rate rises and recovers', () => {
    const { a, health } = conn();
    let t = 1_000;
    const tick = () => {
      t += 100;
      return t;
    };
    for (let i = 0; i < 10; i++) a.send({ type: 'conn.result', ok: true, at: tick() });
    expect(health().value).toBe('OK');
    for (let i = 0; i < 3; i++) a.send({ type: 'conn.result', ok: false, kind: 'network', at: tick() });
    expect(health()).toEqual({ value: 'DEGRADED', reason: 'error_rate: 23%' });
    for (let i = 0; i < 60; i++) a.send({ type: 'conn.result', ok: false, kind: 'network', at: tick() });
    expect(health().value).toBe('HALTED');
    expect(health().reason).toMatch(/^venue_unavailable/);
    for (let i = 0; i < 50; i++) a.send({ type: 'conn.result', ok: true, at: tick() });
    expect(health().value).toBe('OK');
  });

  it('halts on an authentication failure until an operator resets it', () => {
    const { a, health } = conn();
    a.send({ type: 'conn.result', ok: false, kind: 'auth', message: 'Invalid API-key', at: 1 });
    expect(health()).toEqual({ value: 'HALTED', reason: 'auth: Invalid API-key' });
    for (let i = 0; i < 100; i++) a.send({ type: 'conn.result', ok: true, at: 2 + i });
    expect(health().value).toBe('HALTED');
    a.send({ type: 'conn.reset', at: 200 });
    expect(health().value).toBe('OK');
  });

  it('halts on a 418 ban until Retry-After has passed, then degrades for the 429 cool-down and recovers', () => {
    const { a, health } = conn();
    a.send({ type: 'conn.result', ok: false, kind: 'ban', retryAfterMs: 30_000, at: 10_000 });
    expect(health().value).toBe('HALTED');
    a.send({ type: 'conn.tick', at: 39_999 });
    expect(health().value).toBe('HALTED');
    a.send({ type: 'conn.tick', at: 40_001 });
    expect(health().value).toBe('OK');
    a.send({ type: 'conn.result', ok: false, kind: 'rate_limit', at: 50_000 });
    expect(health()).toEqual({ value: 'DEGRADED', reason: 'rate_limited: 429 in the last minute' });
    a.send({ type: 'conn.tick', at: 110_001 });
    expect(health().value).toBe('OK');
  });

  it('degrades on rate-budget pressure and halts while the venue breaker is tripped', () => {
    const { a, health, published } = conn();
    a.send({ type: 'conn.pressure', value: 0.95, at: 1 });
    expect(health().reason).toBe('rate_budget: 95% used');
    a.send({ type: 'breaker.tripped', reason: 'error rate 55%', at: 2 });
    expect(health()).toEqual({ value: 'HALTED', reason: 'breaker: error rate 55%' });
    a.send({ type: 'breaker.cleared', at: 3 });
    a.send({ type: 'conn.pressure', value: 0.1, at: 4 });
    expect(health().value).toBe('OK');
    expect(published.length).toBe(4);
  });
});
