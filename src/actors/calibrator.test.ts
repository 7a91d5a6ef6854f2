import { describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor } from 'xstate';
import { createLogger } from '../logging/logger.js';
import { type SymbolContext, symbolMachine } from '../machines/symbol.machine.js';
import { fitBaumWelch } from '../strategies/baum-welch.js';
import { fastTrendEnv } from '../strategies/fast-env.js';
import { calibrationWindow } from '../strategies/symbol-strategy.js';
import { type Calibrator, createCalibrator } from './symbol.actors.js';

// Both variants calibrate after 60 bars, on a window of 240.
const env = fastTrendEnv(60);

/** A calibrator on a manual event loop and a clock that moves 1 ms each time it is read. */
function harness() {
  const actors = new Map<string, AnyActorRef>();
  const queued: Array<() => void> = [];
  let now = 0;
  const calibrator: Calibrator = createCalibrator({
    lookup: (id) => actors.get(id),
    log: createLogger({ level: 'silent', stdout: false }).log,
    env: () => env,
    schedule: (fn) => void queued.push(fn),
    sliceMs: 2,
    clock: () => {
      now += 1;
      return now;
    },
  });
  const symbol = (name: string) => {
    const id = `sym:binance:${name}`;
    const ref = createActor(
      symbolMachine.provide({
        actions: { 'sym.calibrate': (_, p) => calibrator.request(id, p.variant, p.atBar) },
      }),
      { input: { venue: 'binance', symbol: name, barMs: 100, baseCooldownMs: 0, env, trading: 'HALTED' } },
    );
    ref.start();
    actors.set(id, ref);
    let price = 100;
    let seed = name.length;
    const bars = (n: number, from: number) => {
      for (let i = 0; i <= n; i++) {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        price *= 1 + ((seed / 2 ** 31 - 0.5) * 0.01 + (i % 50 < 25 ? 0.001 : -0.001));
        const at = (from + i) * 100;
        ref.send({
          type: 'venue.tick',
          venue: 'binance',
          symbol: name,
          bid: null,
          ask: null,
          last: price,
          receivedAt: at,
          t0: at,
        });
      }
    };
    return { ref, bars, ctx: () => ref.getSnapshot().context as SymbolContext };
  };
  return { calibrator, symbol, queued };
}

describe('HMM calibrator', () => {
  it('runs a fit across many short turns and hands the actor the same parameters a one-shot fit gives', () => {
    const { calibrator, symbol, queued } = harness();
    const s = symbol('BTCUSDT');
    s.bars(61, 0);
    expect(calibrator.stats().queued).toBe(2);
    // The window each fit starts from: no bar arrives while they run.
    const expected = {
      stable_model: fitBaumWelch(calibrationWindow(s.ctx().strat, 'stable_model', env), {
        k: 3,
        maxIter: 200,
        seed: 1,
      }),
      canary_model: fitBaumWelch(calibrationWindow(s.ctx().strat, 'canary_model', env), {
        k: 3,
        maxIter: 200,
        seed: 1,
      }),
    };
    let turns = 0;
    while (queued.length > 0) {
      for (const fn of queued.splice(0)) fn();
      turns += 1;
    }
    // Two fits of 40+ EM steps each, two steps per 2 ms slice: many turns, never the whole fit in one.
    expect(turns).toBeGreaterThan(20);
    expect(calibrator.stats()).toMatchObject({ fits: 2, failures: 0, queued: 0, running: false });
    for (const v of ['stable_model', 'canary_model'] as const) {
      expect(s.ctx().strat.variants[v].params).toEqual(expected[v].params);
      expect(s.ctx().strat.variants[v].pending).toBe(false);
    }
  });

  it('drops the result of an actor stopped mid-fit and goes on with the next job', () => {
    const { calibrator, symbol, queued } = harness();
    const a = symbol('ETHUSDT');
    const b = symbol('SOLUSDT');
    a.bars(61, 0);
    b.bars(61, 0);
    expect(calibrator.stats().queued).toBe(4);
    for (const fn of queued.splice(0)) fn();
    expect(calibrator.stats().running).toBe(true);
    a.ref.stop();
    while (queued.length > 0) for (const fn of queued.splice(0)) fn();
    // a's first fit ran to its end (dropped), its second never started; b got both.
    expect(calibrator.stats()).toMatchObject({ fits: 3, failures: 0, queued: 0 });
    expect(b.ctx().strat.variants.stable_model.params).not.toBeNull();
    expect(b.ctx().strat.variants.canary_model.params).not.toBeNull();
  });

  it('counts a window it cannot fit as a failure and answers with null, clearing pending', () => {
    const { calibrator, symbol, queued } = harness();
    const s = symbol('FLATUSDT');
    s.bars(61, 0);
    // A window the fitter rejects: the strategy's returns emptied before the fit starts.
    s.ctx().strat.returns.length = 0;
    while (queued.length > 0) for (const fn of queued.splice(0)) fn();
    expect(calibrator.stats()).toMatchObject({ fits: 0, failures: 2 });
    expect(s.ctx().strat.variants.stable_model.pending).toBe(false);
    expect(s.ctx().strat.variants.stable_model.params).toBeNull();
  });
});
