import { describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor } from 'xstate';
import { type SymbolContext, symbolMachine } from '../machines/symbol.machine.js';
import { createMetrics } from '../metrics/metrics.js';
import { fastTrendEnv } from '../strategies/fast-env.js';
import { createTickRouter, MAX_PENDING_BARS, type RoutedTick } from './tick-router.js';

const env = fastTrendEnv();

function symbolActor(symbol: string) {
  const signals: unknown[] = [];
  const ref = createActor(symbolMachine.provide({ actions: { 'sym.signal': (_, p) => void signals.push(p) } }), {
    input: { venue: 'binance', symbol, barMs: 1_000, baseCooldownMs: 0, env, trading: 'ACTIVE' },
  });
  ref.subscribe({ error: () => {} });
  ref.start();
  return { ref, signals, ctx: () => ref.getSnapshot().context as SymbolContext };
}

const tick = (symbol: string, last: number, receivedAt: number): RoutedTick => ({
  venue: 'binance',
  symbol,
  bid: null,
  ask: null,
  last,
  receivedAt,
  t0: receivedAt,
});

/** A lookup that moves a test clock by `ms` on every call: each delivered lane then "costs" `ms`. */
function costlyLookup(refs: Record<string, AnyActorRef>, ms: number) {
  const clock = { now: 0 };
  const actors = new Proxy(refs, {
    get: (t, id: string) => {
      clock.now += ms;
      return t[id];
    },
  });
  return { actors, clock: () => clock.now };
}

/** A router on a manual event loop (`turn`) and a manual clock (still unless a test moves it). */
function router(actors: Record<string, AnyActorRef>, clock: () => number = () => 0) {
  const queued: Array<() => void> = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const r = createTickRouter({
    lookup: (id) => actors[id],
    metrics,
    barMs: 1_000,
    schedule: (fn) => void queued.push(fn),
    clock,
  });
  const turn = () => {
    for (const fn of queued.splice(0)) fn();
  };
  return { r, turn, metrics, queued };
}

describe('tick router (the symbol actors’ data plane)', () => {
  it('folds every tick into its bar and sends one bar.closed per closed bar, equal to per-tick delivery', () => {
    const viaRouter = symbolActor('BTCUSDT');
    const perTick = symbolActor('BTCUSDT');
    const { r, turn, metrics } = router({ 'sym:binance:BTCUSDT': viaRouter.ref });
    let px = 100;
    for (let i = 0; i < 500; i++) {
      px *= 1 + Math.sin(i / 7) * 0.002;
      const t = tick('BTCUSDT', px, 10_000 + i * 250);
      r.push(t);
      perTick.ref.send({ type: 'venue.tick', ...t });
      if (i % 3 === 0) turn();
    }
    turn();
    const a = viaRouter.ctx();
    const b = perTick.ctx();
    expect(a.strat.bars).toBe(124);
    expect(a.strat).toEqual(b.strat);
    expect(a.hot.ticks).toBe(b.hot.ticks - 3);
    expect(a.hot.last).toEqual(b.hot.last);
    expect(viaRouter.signals).toEqual(perTick.signals);
    expect(r.stats()).toMatchObject({ ticks: 500, delivered: 124, coalesced: 0 });
    return metrics.registry.getSingleMetricAsString('strategy_ticks_total').then((text) => {
      expect(text).toContain('strategy_ticks_total{venue="binance",symbol="BTCUSDT"} 500');
    });
  });

  it('bounds each symbol’s backlog of closed bars and counts what it drops', () => {
    const s = symbolActor('ETHUSDT');
    const { r, turn } = router({ 'sym:binance:ETHUSDT': s.ref });
    // 20 bars close before the loop gets a turn: only the newest MAX_PENDING_BARS are delivered.
    for (let i = 0; i <= 20; i++) r.push(tick('ETHUSDT', 100 + i, i * 1_000));
    turn();
    expect(r.stats()).toMatchObject({ delivered: MAX_PENDING_BARS, coalesced: 20 - MAX_PENDING_BARS });
    expect(s.ctx().strat.bars).toBe(MAX_PENDING_BARS);
  });

  it('drops the bars of a symbol without a live actor and keeps building its next bar', () => {
    const s = symbolActor('SOLUSDT');
    const actors: Record<string, AnyActorRef> = {};
    const { r, turn } = router(actors);
    r.push(tick('SOLUSDT', 10, 0));
    r.push(tick('SOLUSDT', 11, 1_000));
    turn();
    expect(r.stats().delivered).toBe(0);
    actors['sym:binance:SOLUSDT'] = s.ref;
    r.push(tick('SOLUSDT', 12, 2_000));
    turn();
    expect(r.stats().delivered).toBe(1);
    expect(s.ctx().hot.last?.price).toBe(11);
  });

  it('ignores a tick without a usable price', () => {
    const { r, turn } = router({});
    r.push({ ...tick('BTCUSDT', 0, 0), last: null });
    r.push(tick('BTCUSDT', -5, 1));
    turn();
    expect(r.stats()).toMatchObject({ ticks: 2, delivered: 0, pending: 0 });
  });

  it('delivers a large batch in time slices across turns, in arrival order, losing nothing', () => {
    const names = Array.from({ length: 10 }, (_, i) => `S${i}USDT`);
    const actors = Object.fromEntries(names.map((n) => [`sym:binance:${n}`, symbolActor(n)]));
    const refs = Object.fromEntries(Object.entries(actors).map(([id, a]) => [id, a.ref]));
    // Each delivered lane costs 1 ms on the test clock: a 2 ms slice fits two lanes.
    const costly = costlyLookup(refs, 1);
    const { r, turn, queued } = router(costly.actors, costly.clock);
    for (const n of names) r.push(tick(n, 100, 0));
    for (const n of names) r.push(tick(n, 101, 1_000));
    let turns = 0;
    while (queued.length > 0) {
      turn();
      turns += 1;
      // Never more than the slice's lanes per turn.
      expect(r.stats().delivered).toBeLessThanOrEqual(2 * turns);
    }
    expect(turns).toBe(5);
    expect(r.stats()).toMatchObject({ delivered: 10, pending: 0, coalesced: 0 });
    for (const a of Object.values(actors)) expect(a.ctx().strat.bars).toBe(1);
    // A bar closing while lanes wait joins its lane's queue; the next scheduled slice delivers it.
    r.push(tick('S0USDT', 102, 2_000));
    r.push(tick('S1USDT', 102, 2_000));
    while (queued.length > 0) turn();
    expect(r.stats().delivered).toBe(12);
  });

  it('flush() delivers everything pending at once (shutdown, tests)', () => {
    const names = Array.from({ length: 6 }, (_, i) => `F${i}USDT`);
    const actors = Object.fromEntries(names.map((n) => [`sym:binance:${n}`, symbolActor(n).ref]));
    const costly = costlyLookup(actors, 10);
    const { r } = router(costly.actors, costly.clock);
    for (const n of names) r.push(tick(n, 100, 0));
    for (const n of names) r.push(tick(n, 101, 1_000));
    r.flush();
    expect(r.stats()).toMatchObject({ delivered: 6, pending: 0 });
  });
});
