import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type AnyActorRef, createActor } from 'xstate';
import { createLedgerBook } from '../src/actors/ledger-book.js';
import { buildSymbolsSupervisor, createCalibrator } from '../src/actors/symbol.actors.js';
import { createTickRouter } from '../src/actors/tick-router.js';
import { createTradingEngine } from '../src/actors/trading-engine.js';
import { createLogger } from '../src/logging/logger.js';
import type { SignalEffect } from '../src/machines/symbol.machine.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { openStore } from '../src/store/index.js';
import { addTick, initialBars } from '../src/strategies/bars.js';
import { fastTrendEnv } from '../src/strategies/fast-env.js';
import { initialStrategyState, onBar } from '../src/strategies/symbol-strategy.js';
import { createSupervisor } from '../src/supervisor/supervisor.js';
import { PricePath } from '../src/venues/sim/price-path.js';
import type { CreateOrderRequest, MarketInfo, Order, Trade, VenueGateway } from '../src/venues/venue-gateway.js';
import { barEventCost } from './support/bar-events.js';
import { heapGrowthMeter, recordGcPauses, summarisePauses, youngGcPctOfWall } from './support/gc.js';

/**
 * Tick → order through the real pipeline (issue 4 benchmarks): 1,000 symbol actors under sharded `symbols:`
 * supervisors, the coalescing tick router, the strategies, the allocator, the rails, the durable intent in LMDB,
 * and an in-memory gateway that fills at once. Reports the tick → hand-off latency at 30,000 ticks/s with the
 * event-loop delay, the sustained rate with coalescing, and the same pipeline as plain function calls in the same
 * process (CPU per tick, actor/plain).
 */
const SYMBOLS = 1_000;
const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${String(i).padStart(4, '0')}USDT`);

function memoryGateway(): VenueGateway {
  const markets: Record<string, MarketInfo> = {};
  for (const s of symbols)
    markets[s] = {
      symbol: s,
      market: 'spot',
      base: s.replace('USDT', ''),
      quote: 'USDT',
      active: true,
      minQty: 1e-8,
      stepSize: 1e-8,
      tickSize: 1e-8,
      minNotional: 1,
      venueSymbol: s,
    };
  const trades: Trade[] = [];
  let id = 0;
  const fail = async (): Promise<never> => {
    throw new Error('not used in the benchmark');
  };
  return {
    venue: 'binance',
    marketKinds: ['spot'],
    loadMarkets: async () => {},
    markets: () => markets,
    fetchBalances: async () => ({ USDT: { free: 1e9, used: 0, total: 1e9 } }),
    fetchTickers: async () => ({}),
    fetchOrderBook: fail,
    async createOrder(req: CreateOrderRequest) {
      id += 1;
      const price = 100;
      const order: Order = {
        id: String(id),
        clientOrderId: req.clientOrderId,
        venueClientOrderId: req.clientOrderId,
        symbol: req.symbol,
        market: 'spot',
        side: req.side,
        type: 'market',
        status: 'closed',
        amount: req.amount,
        filled: req.amount,
        remaining: 0,
        price: null,
        average: price,
        stopPrice: null,
        reduceOnly: false,
        postOnly: false,
        fee: null,
        timestamp: Date.now(),
        ackOnly: false,
      };
      trades.push({
        id: `t${id}`,
        orderId: order.id,
        symbol: req.symbol,
        market: 'spot',
        side: req.side,
        price,
        amount: req.amount,
        cost: req.amount * price,
        fee: null,
        maker: false,
        timestamp: Date.now(),
      });
      return { status: 'accepted' as const, order };
    },
    resolveUnknown: fail,
    cancelOrder: fail,
    cancelAllOrders: async () => 0,
    fetchOrder: fail,
    fetchOpenOrders: async () => [],
    fetchMyTrades: async (q) => trades.filter((t) => t.symbol === q.symbol),
    fetchFundingRate: fail,
    fetchFundingRates: fail,
    fetchPositions: async () => [],
    pressure: () => 0,
    close: async () => {},
  };
}

const env = fastTrendEnv();

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

async function setup() {
  const store = await openStore({ dir: join(mkdtempSync(join(os.tmpdir(), 'bosun-bench-t2o-')), 'db') });
  const metrics = createMetrics({ defaultMetrics: false });
  const log = createLogger({ level: 'silent', stdout: false }).log;
  const gateway = memoryGateway();
  const book = createLedgerBook(store.portfolio, ['binance']);
  await book.baseline('binance', { USDT: 1e9 }, Date.now());
  const latencies: number[] = [];
  const warmAfter = {
    at: Number.POSITIVE_INFINITY,
    steady: [] as number[],
    toEngine: [] as number[],
    durableIntent: [] as number[],
  };
  let root: AnyActorRef | undefined;
  const lookup = (id: string) => root?.system.get(id) as AnyActorRef | undefined;
  const engine = createTradingEngine({
    node: 'bench',
    venues: [{ id: 'binance', gateway }],
    symbols: { binance: symbols },
    journal: store.journal,
    orders: store.orders,
    kv: store.kv,
    book,
    metrics,
    log,
    now: Date.now,
    hr: () => performance.now(),
    notify: (v, s, e) => lookup(`sym:${v}:${s}`)?.send(e as never),
    minTradeUsdt: 10,
    onHandoff: (_v, ms, parts) => {
      latencies.push(ms);
      if (performance.now() > warmAfter.at) {
        warmAfter.steady.push(ms);
        warmAfter.toEngine.push(parts.toEngineMs);
        warmAfter.durableIntent.push(parts.durableIntentMs);
      }
    },
    inputs: {
      trading: () => ({ global: 'ACTIVE', venue: 'ACTIVE', symbol: 'ACTIVE' }),
      limits: () => ({
        maxNotionalUsdt: 50,
        maxSymbolExposureUsdt: 1e12,
        maxVenueExposureUsdt: 1e12,
        maxAssetExposureUsdt: 1e12,
        equityFloorUsd: 0,
        maxDrawdownPct: 100,
        equityCooldownSec: 0,
        orderCooldownSec: 0,
      }),
      policyAllowed: () => true,
      allocations: () => ({ reserve_pct: 10 }),
      equityBreaker: () => ({ tripped: false, reason: '' }),
      venueBreaker: () => ({ tripped: false, reason: '' }),
      guards: () => ({ depegActive: false, fundingSpike: false }),
      haltVenue: async () => {},
    },
  });
  // Nothing is accepted for a venue before its first reconciliation (DESIGN §6).
  await engine.reconcileAll();
  engine.setAccepting(true);
  return { store, metrics, log, engine, latencies, warmAfter, lookup, setRoot: (r: AnyActorRef) => (root = r) };
}

function priceWalk() {
  const px = new Float64Array(SYMBOLS).fill(100);
  // Different trend strengths per symbol, so the first signals cross their thresholds at different times.
  // (With a 5 s cooldown and a budget far above MAX_NOTIONAL, every symbol scales in at each cooldown's end: the
  // cooldowns, all started together, keep the symbols in lock-step.)
  const drift = Float64Array.from(
    { length: SYMBOLS },
    (_, i) => (i % 2 === 0 ? 1 : -1) * (0.0002 + Math.random() * 0.003),
  );
  let step = 0;
  return (i: number): number => {
    step += 1;
    // Trends that flip every ~2,000 ticks per symbol, so positions open and close.
    const flip = Math.floor(step / (SYMBOLS * 2_000)) % 2 === 0 ? 1 : -1;
    const v = (px[i] as number) * (1 + flip * (drift[i] as number) + (Math.random() - 0.5) * 0.001);
    px[i] = v;
    return v;
  };
}

/**
 * Independent symbols: each symbol's price is the simulator's own regime-switching path (`PricePath`, the model
 * paper mode trades on), one seed per symbol, one path step per tick. Signals come from each symbol's own path, so
 * symbols enter and re-enter their cooldowns at unrelated times and orders arrive spread in time.
 */
function independentWalk() {
  const paths = symbols.map(
    (sy, i) => new PricePath({ code: sy.replace('USDT', ''), startUsd: 100, stable: false }, 7 + i),
  );
  const steps = new Float64Array(SYMBOLS);
  return (i: number): number => {
    const path = paths[i] as PricePath;
    steps[i] = (steps[i] as number) + 1;
    path.advanceTo(steps[i] as number);
    return path.price;
  };
}

/** A fresh pipeline: 1,000 symbol actors under the sharded supervisors, the router, the engine and its store. */
async function pipeline() {
  const s = await setup();
  const calibrator = createCalibrator({ lookup: s.lookup, log: s.log, env: () => env });
  const sym = buildSymbolsSupervisor({
    venue: 'binance',
    symbols,
    barMs: 100,
    // A 5 s cooldown: each symbol trades at most every 5 s.
    baseCooldownMs: 5_000,
    env: () => env,
    trading: () => 'ACTIVE',
    onSignal: (e) => s.engine.onSignal(e),
    calibrator,
    metrics: s.metrics,
    hooks: {},
  });
  const rootLogic = createSupervisor({
    strategy: 'one_for_one',
    intensity: 10,
    periodMs: 60_000,
    logics: sym.logics as never,
    children: [sym.spec],
  });
  const root = createActor(rootLogic, { systemId: 'root' });
  s.setRoot(root);
  root.start();
  const router = createTickRouter({
    lookup: s.lookup,
    metrics: s.metrics,
    barMs: 100,
    onPrice: (v, sy, p) => s.engine.notePrice(v, sy, p),
  });
  return { s, root, router };
}

/** 30,000 ticks/s for 15 s: the ticks due every 10 ms, round-robin over the symbols, each with its receive time. */
async function paced(p: Awaited<ReturnType<typeof pipeline>>, next: (i: number) => number) {
  const { s, router } = p;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const rateTicks = 30_000;
  const seconds = 15;
  // The first seconds warm the trend: steady-state figures exclude them.
  s.warmAfter.at = performance.now() + 4_000;
  let pushed = 0;
  const t0 = performance.now();
  const gcs = recordGcPauses();
  loop.enable();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.min(rateTicks * seconds, Math.floor((elapsed / 1000) * rateTicks));
      while (pushed < due) {
        const i = pushed % SYMBOLS;
        const px = next(i);
        router.push({
          venue: 'binance',
          symbol: symbols[i] as string,
          bid: null,
          ask: null,
          last: px,
          receivedAt: Date.now(),
          t0: performance.now(),
        });
        pushed += 1;
      }
      if (pushed >= rateTicks * seconds) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  loop.disable();
  const wallMs = performance.now() - t0;
  const pauses = await gcs.stop();
  const q = (xs: number[]) => ({
    p50: Number(percentile(xs, 50).toFixed(3)),
    p99: Number(percentile(xs, 99).toFixed(3)),
  });
  const result = {
    ticks_pushed: pushed,
    ticks_into_bars: router.stats().ticks,
    bar_events_delivered: router.stats().delivered,
    bars_dropped_to_backlog_bound: router.stats().coalesced,
    orders_handed_off: s.latencies.length,
    steady_state_after_4s: {
      orders: s.warmAfter.steady.length,
      orders_per_s: Math.round(s.warmAfter.steady.length / (seconds - 4)),
      p50: Number(percentile(s.warmAfter.steady, 50).toFixed(3)),
      p99: Number(percentile(s.warmAfter.steady, 99).toFixed(3)),
      // The parts of each hand-off: tick → the engine takes the intent (router slices, the symbol actor, the
      // allocator, and the wait behind other work on the loop), then → the intent's durable LMDB commit resolved.
      tick_to_engine_ms: q(s.warmAfter.toEngine),
      engine_to_durable_intent_ms: q(s.warmAfter.durableIntent),
    },
    tick_to_handoff_ms: {
      p50: Number(percentile(s.latencies, 50).toFixed(3)),
      p99: Number(percentile(s.latencies, 99).toFixed(3)),
      max: Number(Math.max(...s.latencies).toFixed(3)),
    },
    event_loop_delay_ms: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    gc_pauses: summarisePauses(pauses),
    young_gc_pct_of_wall: youngGcPctOfWall(pauses, wallMs),
  };
  await new Promise((r) => setTimeout(r, 500));
  return result;
}

export async function run(): Promise<Record<string, unknown>> {
  const load = { loadavg_at_start: os.loadavg().map((x) => Number(x.toFixed(2))) };
  // ── 1a. independent symbols ──
  const indep = await pipeline();
  const independent = await paced(indep, independentWalk());
  indep.root.stop();
  await indep.s.store.close();

  // ── 1b. lock-step bursts: every symbol trends hard and re-trades the moment its cooldown ends, and all cooldowns
  // started together, so ~500 orders share each feed poll (a market-wide move, the worst case) ──
  const p = await pipeline();
  const { s, root, router } = p;
  const next = priceWalk();
  const burst = await paced(p, next);

  // ── 2. sustained: as fast as the loop takes it, 5,000 ticks per turn, for 4 s ──
  const before = router.stats();
  const cpu0 = process.cpuUsage();
  const ts = performance.now();
  let sustainedPushed = 0;
  const actorHeap = heapGrowthMeter();
  let barsAtTurn = router.stats().delivered;
  const barMeter = heapGrowthMeter();
  while (performance.now() - ts < 4_000) {
    actorHeap.start();
    barMeter.start();
    for (let k = 0; k < 5_000; k++) {
      const i = sustainedPushed % SYMBOLS;
      router.push({
        venue: 'binance',
        symbol: symbols[i] as string,
        bid: null,
        ask: null,
        last: next(i),
        receivedAt: Date.now(),
        t0: performance.now(),
      });
      sustainedPushed += 1;
    }
    await new Promise((r) => setImmediate(r));
    actorHeap.stop(5_000);
    const d = router.stats().delivered;
    barMeter.stop(d - barsAtTurn);
    barsAtTurn = d;
  }
  const wall = (performance.now() - ts) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = router.stats();
  const ticksIn = after.ticks - before.ticks;
  const actorCpuPerTickUs = (cpu.user + cpu.system) / ticksIn;
  const sustained = {
    ticks_offered_per_s: Math.round(sustainedPushed / wall),
    // Every tick goes into its symbol's bar (the actors' data plane); each closed bar is one XState event.
    ticks_through_symbol_pipeline_per_s: Math.round(ticksIn / wall),
    bar_events_through_actors_per_s: Math.round((after.delivered - before.delivered) / wall),
    bars_dropped_per_s: Math.round((after.coalesced - before.coalesced) / wall),
    cpu_us_per_tick: Number(actorCpuPerTickUs.toFixed(2)),
    // Heap growth per event-loop turn (5,000 ticks and the bars they closed), turns without a scavenge only;
    // per bar event it is the same bytes over the bars delivered (everything counted against the bars).
    bytes_allocated_per_tick: Math.round(actorHeap.result().bytesPerUnit),
    bytes_allocated_per_bar_event_upper_bound: Math.round(barMeter.result().bytesPerUnit),
    heap_meter_turns: actorHeap.result(),
  };
  root.stop();

  // ── 3. the same pipeline as plain function calls, same process, same inputs: the tick object the feed hands
  // over, the tick counter, the engine's price note, bars → strategies → cooldown → engine ──
  const bars = symbols.map(() => initialBars(100));
  const strat = symbols.map(() => initialStrategyState());
  // The router's tick count: a plain integer per symbol, added to `strategy_ticks_total` at scrape time.
  const uncounted = new Float64Array(SYMBOLS);
  const cooldownUntil = new Float64Array(SYMBOLS);
  const cpu1 = process.cpuUsage();
  const tp = performance.now();
  let plainTicks = 0;
  const plainHeap = heapGrowthMeter();
  while (performance.now() - tp < 4_000) {
    plainHeap.start();
    for (let k = 0; k < 5_000; k++) {
      const i = plainTicks % SYMBOLS;
      plainTicks += 1;
      const t = {
        venue: 'binance',
        symbol: symbols[i] as string,
        bid: null,
        ask: null,
        last: next(i),
        receivedAt: Date.now(),
        t0: performance.now(),
      };
      uncounted[i] = (uncounted[i] as number) + 1;
      const p = t.last;
      s.engine.notePrice(t.venue, t.symbol, p);
      const bar = addTick(bars[i] as never, p, t.receivedAt);
      if (!bar) continue;
      const out = onBar(strat[i] as never, bar.close, env);
      const nowMs = t.receivedAt;
      if (nowMs < (cooldownUntil[i] as number)) continue;
      cooldownUntil[i] = nowMs + 5_000;
      const { state: _s, ...output } = out;
      const e: SignalEffect = {
        venue: 'binance',
        symbol: t.symbol,
        price: p,
        at: t.receivedAt,
        t0: t.t0,
        output,
        trading: 'ACTIVE',
      };
      s.engine.onSignal(e);
    }
    await new Promise((r) => setImmediate(r));
    plainHeap.stop(5_000);
  }
  const cpuPlain = process.cpuUsage(cpu1);
  const plainCpuPerTickUs = (cpuPlain.user + cpuPlain.system) / plainTicks;
  await new Promise((r) => setTimeout(r, 300));
  await s.store.close();
  return {
    ...load,
    loadavg_at_end: os.loadavg().map((x) => Number(x.toFixed(2))),
    symbols: SYMBOLS,
    paced_30k_ticks_per_s: { independent_symbols: independent, lockstep_bursts: burst },
    sustained,
    plain_functions: {
      ticks_per_s: Math.round(plainTicks / ((performance.now() - tp) / 1000)),
      cpu_us_per_tick: Number(plainCpuPerTickUs.toFixed(2)),
      bytes_allocated_per_tick: Math.round(plainHeap.result().bytesPerUnit),
    },
    // The symbol actor alone, bar events sent straight to 1,000 actors (no router, no engine).
    symbol_actor_bar_events: barEventCost({ symbols: SYMBOLS, bars: 200 }),
    ratio_actor_over_plain_cpu_per_tick: Number((actorCpuPerTickUs / plainCpuPerTickUs).toFixed(2)),
  };
}
