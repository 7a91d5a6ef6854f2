import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { fastTrendEnv } from '../strategies/fast-env.js';
import type { GovernanceState } from './governance.machine.js';
import { type SignalEffect, symbolMachine } from './symbol.machine.js';

const env = fastTrendEnv(50);

const gov = (state: 'ACTIVE' | 'HALTED'): GovernanceState => ({
  global: { state, reason: '', by: 't', at: 0, command: 'test' },
  venues: {},
  symbols: {},
});

function symbol() {
  const signals: SignalEffect[] = [];
  const calibrations: string[] = [];
  const trendFired: number[] = [];
  const a = createActor(
    symbolMachine.provide({
      actions: {
        'sym.trendFired': ({ context }) => trendFired.push(context.strat.bars),
        'sym.signal': (_, p) => signals.push(p),
        'sym.calibrate': (_, p) => calibrations.push(p.variant),
      },
    }),
    { input: { venue: 'binance', symbol: 'BTCUSDT', barMs: 100, baseCooldownMs: 1_000, env, trading: 'ACTIVE' } },
  );
  a.start();
  let price = 100;
  let at = 0;
  const tick = (drift = 0.01) => {
    price *= 1 + drift;
    at += 100;
    a.send({
      type: 'venue.tick',
      venue: 'binance',
      symbol: 'BTCUSDT',
      bid: price,
      ask: price,
      last: price,
      receivedAt: at,
      t0: at,
    });
  };
  return { a, signals, calibrations, trendFired, tick, at: () => at };
}

describe('symbol actor', () => {
  it('turns ticks into bars and emits one signal per closed bar, long in an uptrend once warm', () => {
    const { a, signals, tick } = symbol();
    for (let i = 0; i < 30; i++) tick();
    expect(a.getSnapshot().context.hot.ticks).toBe(30);
    expect(a.getSnapshot().context.strat.bars).toBe(29);
    expect(signals).toHaveLength(29);
    expect(signals.at(-1)?.output.signal).toBeGreaterThan(0);
    expect(signals.at(-1)?.output.strategy).toBe('trend');
  });

  it('asks for a calibration once the warm-up is reached, and never twice while one is pending', () => {
    const { a, calibrations, tick } = symbol();
    for (let i = 0; i < 80; i++) tick(i % 2 === 0 ? 0.01 : -0.008);
    expect(calibrations.sort()).toEqual(['canary_model', 'stable_model']);
    a.send({ type: 'hmm.calibrated', variant: 'canary_model', params: null, atBar: 51 });
    expect(a.getSnapshot().context.strat.variants.canary_model.pending).toBe(false);
  });

  it('emits nothing while trading is HALTED, and again once it is ACTIVE', () => {
    const { a, signals, tick } = symbol();
    a.send({ type: 'gov.trading', governance: gov('HALTED') });
    for (let i = 0; i < 10; i++) tick();
    expect(signals).toHaveLength(0);
    expect(a.getSnapshot().context.hot.ticks).toBe(10);
    a.send({ type: 'gov.trading', governance: gov('ACTIVE') });
    tick();
    expect(signals).toHaveLength(1);
  });

  it('a filled order starts the cooldown (base × scale); an unfilled one only frees the side', () => {
    const { a, signals, tick, at } = symbol();
    tick();
    a.send({ type: 'order.placed', side: 'buy', clientOrderId: 'c1' });
    expect(a.getSnapshot().context.inflight.buy).toBe('c1');
    a.send({ type: 'order.settled', side: 'buy', clientOrderId: 'c1', filled: true, at: at() });
    expect(a.getSnapshot().context.inflight.buy).toBeNull();
    const n = signals.length;
    for (let i = 0; i < 9; i++) tick(); // 900 ms of the 1,000 ms cooldown
    expect(signals.length).toBe(n);
    tick();
    tick();
    expect(signals.length).toBeGreaterThan(n);
    a.send({ type: 'order.placed', side: 'sell', clientOrderId: 'c2' });
    a.send({ type: 'order.settled', side: 'sell', clientOrderId: 'c2', filled: false, at: at() });
    expect(a.getSnapshot().context.cooldownUntil).toBeLessThan(at());
  });

  it('applies new strategy weights from the next bar', () => {
    const { a, signals, tick } = symbol();
    tick();
    a.send({ type: 'strategy.env', env: { ...env, trendWeight: 0 } });
    tick();
    expect(a.getSnapshot().context.env.trendWeight).toBe(0);
    expect(signals.at(-1)?.output.signal).toBe(0);
  });

  it('runs the trend-signal effect exactly on the bars whose trend fired, and on no other', () => {
    const { signals, trendFired, tick } = symbol();
    // Up, then down: the trend fires on entering each direction.
    for (let i = 0; i < 30; i++) tick(0.01);
    for (let i = 0; i < 30; i++) tick(-0.01);
    const fired = signals.filter((s) => s.output.trendFired).length;
    expect(fired).toBeGreaterThan(0);
    expect(trendFired).toHaveLength(fired);
  });
});
