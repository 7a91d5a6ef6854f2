import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { fastTrendEnv } from '../strategies/fast-env.js';
import { type SignalEffect, symbolMachine } from './symbol.machine.js';

const env = fastTrendEnv(50);
const BAR = 100;

function symbol() {
  const signals: SignalEffect[] = [];
  const calibrations: Array<{ variant: string; atBar: number }> = [];
  const a = createActor(
    symbolMachine.provide({
      actions: {
        'sym.signal': (_, p) => signals.push(p),
        'sym.calibrate': (_, p) => calibrations.push({ variant: p.variant, atBar: p.atBar }),
      },
    }),
    { input: { venue: 'binance', symbol: 'BTCUSDT', barMs: BAR, baseCooldownMs: 1_000, env, trading: 'ACTIVE' } },
  );
  a.start();
  const bar = (openAt: number, close: number) =>
    a.send({
      type: 'bar.closed',
      bar: { openAt, open: close, high: close, low: close, close, ticks: 1 },
      price: close,
      receivedAt: openAt + BAR,
      t0: openAt + BAR,
      ticks: 1,
    });
  return { a, signals, calibrations, bar };
}

/** `n` rising closes on BAR boundaries ending at openAt `last`. */
const history = (n: number, last: number) =>
  Array.from({ length: n }, (_, i) => ({ openAt: last - (n - 1 - i) * BAR, close: 100 * 1.01 ** i }));

describe('symbol actor warm-up from history', () => {
  it('folds history bars without a signal, asks each due fit once at the last bar, and is warm after', () => {
    const { a, signals, calibrations, bar } = symbol();
    a.send({ type: 'history.bars', bars: history(60, 60 * BAR) });
    const c = a.getSnapshot().context;
    expect(c.strat.bars).toBe(60);
    expect(c.historyBars).toBe(60);
    expect(c.hot.lastBarAt).toBe(60 * BAR);
    expect(signals).toHaveLength(0);
    expect(calibrations).toEqual([
      { variant: 'stable_model', atBar: 60 },
      { variant: 'canary_model', atBar: 60 },
    ]);
    // The next live bar trades at once: the trend is warm (slowBars 10) on a rising history.
    bar(61 * BAR, 100 * 1.01 ** 60);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.output.signal).toBeGreaterThan(0);
  });

  it('ignores a live bar the history already covered, and history older than the live bars', () => {
    const { a, signals, bar } = symbol();
    a.send({ type: 'history.bars', bars: history(20, 20 * BAR) });
    bar(20 * BAR, 123); // the bar in progress at fetch time closed live after the history already had it
    expect(a.getSnapshot().context.strat.bars).toBe(20);
    expect(signals).toHaveLength(0);
    bar(21 * BAR, 130);
    expect(a.getSnapshot().context.strat.bars).toBe(21);
    a.send({ type: 'history.bars', bars: history(20, 15 * BAR) });
    expect(a.getSnapshot().context.strat.bars).toBe(21);
    expect(a.getSnapshot().context.hot.lastBarAt).toBe(21 * BAR);
  });

  it('replaces live bars with a history that covers them (a symbol the scanner added while ticks flowed)', () => {
    const { a, bar } = symbol();
    bar(10 * BAR, 100);
    bar(11 * BAR, 101);
    a.send({ type: 'history.bars', bars: history(40, 11 * BAR) });
    expect(a.getSnapshot().context.strat.bars).toBe(40);
    expect(a.getSnapshot().context.hot.lastBarAt).toBe(11 * BAR);
  });
});
