import { assign, enqueueActions, setup } from 'xstate';
import { addTick, type Bar, type BarState, initialBars } from '../strategies/bars.js';
import type { HmmParams } from '../strategies/gaussian-hmm.js';
import type { ModelVariant } from '../strategies/regime-signal.js';
import {
  initialStrategyState,
  onBar,
  type StrategyEnv,
  type StrategyOutput,
  type StrategyState,
  withCalibration,
} from '../strategies/symbol-strategy.js';
import { effectiveState, type GovernanceState, type TradingState } from './governance.machine.js';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * sym:<venue>:<SYMBOL> — one traded symbol (DESIGN §5). Ticks build bars; each closed bar runs the strategy
 * stack (HMM stable + canary, trend) and, when trading allows and no cooldown runs, hands the signal to the
 * engine through the `sym.signal` effect slot. The engine sizes it, runs the rails, journals and sends; it tells
 * this actor about orders in flight (`order.placed`) and their end (`order.settled`), so at most one order per
 * side is in flight and a fill starts the cooldown (base × the HMM cooldown scale).
 *
 * Pure: time is the tick's receive time, never a clock. The trading region mirrors governance's effective state
 * for this symbol; HALTED emits nothing (cancels are the engine's business), REDUCING still emits so the engine
 * can reduce.
 */
export interface SymbolInput {
  venue: string;
  symbol: string;
  barMs: number;
  baseCooldownMs: number;
  env: StrategyEnv;
  trading?: TradingState;
  failClosed?: string;
}

export interface LastSignal {
  at: number;
  price: number;
  signal: number;
  hmm: number;
  trend: number;
  strategy: 'hmm' | 'trend';
}

/**
 * The per-bar state of one symbol actor, owned by it and mutated in place (issue 17): a closed bar updates these
 * fields and the strategy state without copying the XState context, so a bar leaves no snapshot behind for the
 * young generation to copy. Created once per actor (a restart starts a fresh one); nothing else writes it.
 */
export interface SymbolHot {
  /** The bar builder of the `venue.tick` path (the tick router builds its own for `bar.closed`). */
  bars: BarState;
  /** Every tick seen (a `bar.closed` carries the count since the previous one). */
  ticks: number;
  lastPrice: number | null;
  lastTickAt: number;
  /**
   * Open time of the newest bar folded in (live or history); a bar not newer than it is a duplicate.
   * NO_BAR_YET before any (a bar may open at epoch 0 on a test clock).
   */
  lastBarAt: number;
  /** The HMM blend's cooldown multiplier at the last bar (a fill's cooldown is base × this). */
  cooldownScale: number;
  /** The last bar's signal (one object, refreshed in place), null before the first bar. */
  last: LastSignal | null;
}

/**
 * The context is the actor's small immutable summary (trading state, orders in flight, cooldown, fills, health),
 * replaced by `assign` on the rare events that change it, plus references to the two structures the bar path
 * mutates in place: `hot` and the strategy state `strat` (replaced only by a history fold).
 */
export interface SymbolContext extends HealthContext {
  venue: string;
  symbol: string;
  trading: TradingState;
  hot: SymbolHot;
  strat: StrategyState;
  env: StrategyEnv;
  inflight: { buy: string | null; sell: string | null };
  cooldownUntil: number;
  baseCooldownMs: number;
  fills: number;
  /** Bars folded from the venue's history (warm-up), 0 before any. */
  historyBars: number;
}

/** What the engine receives on each emitted signal (plain JSON). */
export interface SignalEffect {
  venue: string;
  symbol: string;
  price: number;
  /** Tick receive time, epoch ms (cooldowns, logs). */
  at: number;
  /** High-resolution receive time of the tick that closed the bar (`strategy_tick_to_order_latency_ms`). */
  t0: number;
  output: Omit<StrategyOutput, 'state'>;
  trading: TradingState;
}

export type SymbolEvent =
  | {
      type: 'venue.tick';
      venue: string;
      symbol: string;
      bid: number | null;
      ask: number | null;
      last: number | null;
      receivedAt: number;
      t0?: number;
    }
  | BarClosedEvent
  | HistoryBarsEvent
  | { type: 'gov.trading'; governance: GovernanceState }
  | { type: 'strategy.env'; env: StrategyEnv }
  | { type: 'hmm.calibrated'; variant: ModelVariant; params: HmmParams | null; atBar: number }
  | { type: 'order.placed'; side: 'buy' | 'sell'; clientOrderId: string }
  | { type: 'order.settled'; side: 'buy' | 'sell'; clientOrderId: string; filled: boolean; at: number }
  | { type: 'sup.shutdown' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

/**
 * A bar built outside the actor (the tick router aggregates every tick into bars as plain code, so a tick costs
 * no XState event): the closed bar plus the tick that closed it. Equivalent to the `venue.tick` that closed it.
 */
export interface BarClosedEvent {
  type: 'bar.closed';
  bar: Bar;
  /** The price of the tick that closed the bar (the signal's price). */
  price: number;
  receivedAt: number;
  t0: number;
  /** Ticks since the previous `bar.closed` (`ticks` in context counts every tick). */
  ticks: number;
}

/**
 * Warm-up: closed bars from the venue's history (oldest first, on BAR_MS boundaries). They replace the strategy
 * state, because history fetched now covers every bar the actor may already have seen live, and a live bar can
 * never be folded before an older one; they emit no signal (they are the past). The variants due for a fit are
 * calibrated once, at the end.
 */
export interface HistoryBarsEvent {
  type: 'history.bars';
  bars: ReadonlyArray<{ openAt: number; close: number }>;
}

/** `lastBarAt` before the first bar (JSON-safe, below any bar's open time). */
export const NO_BAR_YET = Number.MIN_SAFE_INTEGER;

/** Mid if both sides are quoted, else last. */
export function tickPrice(e: { bid: number | null; ask: number | null; last: number | null }): number | null {
  if (e.bid !== null && e.ask !== null && e.bid > 0 && e.ask >= e.bid) return (e.bid + e.ask) / 2;
  return e.last !== null && e.last > 0 ? e.last : null;
}

/** What `closeBar` may enqueue (the effect slots). */
type Enqueue = (
  action:
    | 'sym.trendFired'
    | { type: 'sym.calibrate'; params: { venue: string; symbol: string; variant: ModelVariant; atBar: number } }
    | { type: 'sym.signal'; params: SignalEffect },
) => void;

/**
 * One closed bar: the strategies (in place, on `strat` and `hot`), calibration requests, and the signal when
 * trading allows and no cooldown runs. Allocates only what leaves the actor: the signal, and a calibration request
 * when one falls due.
 */
function closeBar(
  context: SymbolContext,
  close: number,
  price: number,
  at: number,
  t0: number,
  enqueue: Enqueue,
): void {
  const out = onBar(context.strat, close, context.env);
  const hot = context.hot;
  const last = hot.last;
  if (last === null)
    hot.last = { at, price: close, signal: out.signal, hmm: out.hmm.signal, trend: out.trend, strategy: out.strategy };
  else {
    last.at = at;
    last.price = close;
    last.signal = out.signal;
    last.hmm = out.hmm.signal;
    last.trend = out.trend;
    last.strategy = out.strategy;
  }
  hot.cooldownScale = out.cooldownScale;
  if (out.trendFired) enqueue('sym.trendFired');
  for (const variant of out.calibrate)
    enqueue({
      type: 'sym.calibrate',
      params: { venue: context.venue, symbol: context.symbol, variant, atBar: out.state.bars },
    });
  if (context.trading === 'HALTED' || at < context.cooldownUntil) return;
  const { state: _s, ...output } = out;
  enqueue({
    type: 'sym.signal',
    params: { venue: context.venue, symbol: context.symbol, price, at, t0, output, trading: context.trading },
  });
}

/** Folds history bars into a fresh strategy state; the variants whose fit fell due (each once). */
export function foldHistory(
  bars: ReadonlyArray<{ openAt: number; close: number }>,
  env: StrategyEnv,
): { strat: StrategyState; calibrate: ModelVariant[] } {
  const strat = initialStrategyState();
  const due = new Set<ModelVariant>();
  let prevAt = Number.NEGATIVE_INFINITY;
  for (const b of bars) {
    if (!(b.openAt > prevAt)) continue;
    prevAt = b.openAt;
    for (const v of onBar(strat, b.close, env).calibrate) due.add(v);
  }
  return { strat, calibrate: [...due] };
}

export const symbolMachine = setup({
  types: {} as { context: SymbolContext; events: SymbolEvent; input: SymbolInput },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    /** Effect slot: the engine sizes the signal, runs the rails and places the order. */
    'sym.signal': (_: unknown, _params: SignalEffect) => {},
    /** Effect slot: fit a variant off the tick path, answer with `hmm.calibrated`. */
    'sym.calibrate': (
      _: unknown,
      _params: { venue: string; symbol: string; variant: ModelVariant; atBar: number },
    ) => {},
    /**
     * Effect slot: count a fired trend signal (`trend_follow_signals_total`). Enqueued only when one fired: each
     * enqueued action costs ~2.5 µs of XState overhead (measured), and a bar that fires nothing is the common case.
     */
    'sym.trendFired': () => {},
    onTick: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'venue.tick') return;
      const price = tickPrice(event);
      if (price === null) return;
      const hot = context.hot;
      // In place: the actor owns `hot`, and a tick must not copy the context.
      const bar = addTick(hot.bars, price, event.receivedAt);
      hot.ticks += 1;
      hot.lastPrice = price;
      hot.lastTickAt = event.receivedAt;
      if (bar === null || bar.openAt <= hot.lastBarAt) return;
      hot.lastBarAt = bar.openAt;
      closeBar(context, bar.close, price, event.receivedAt, event.t0 ?? event.receivedAt, enqueue as Enqueue);
    }),
    onBarClosed: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'bar.closed') return;
      const hot = context.hot;
      hot.ticks += event.ticks;
      hot.lastPrice = event.price;
      hot.lastTickAt = event.receivedAt;
      // Already folded from history: its ticks count, nothing else.
      if (event.bar.openAt <= hot.lastBarAt) return;
      hot.lastBarAt = event.bar.openAt;
      closeBar(context, event.bar.close, event.price, event.receivedAt, event.t0, enqueue as Enqueue);
    }),
    onHistory: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'history.bars') return;
      const newest = event.bars.at(-1);
      // Older than what the actor already folded live: the history would go backwards.
      if (newest === undefined || newest.openAt < context.hot.lastBarAt) return;
      const r = foldHistory(event.bars, context.env);
      for (const variant of r.calibrate)
        enqueue({
          type: 'sym.calibrate',
          params: { venue: context.venue, symbol: context.symbol, variant, atBar: r.strat.bars },
        });
      context.hot.lastBarAt = newest.openAt;
      enqueue.assign({ strat: r.strat, historyBars: event.bars.length });
    }),
    setTrading: assign(({ context, event }) =>
      event.type === 'gov.trading' ? { trading: effectiveState(event.governance, context.venue, context.symbol) } : {},
    ),
    setEnv: assign(({ event }) => (event.type === 'strategy.env' ? { env: event.env } : {})),
    calibrated: assign(({ context, event }) =>
      event.type === 'hmm.calibrated'
        ? { strat: withCalibration(context.strat, event.variant, event.params, event.atBar) }
        : {},
    ),
    placed: assign(({ context, event }) =>
      event.type === 'order.placed' ? { inflight: { ...context.inflight, [event.side]: event.clientOrderId } } : {},
    ),
    settled: assign(({ context, event }) => {
      if (event.type !== 'order.settled') return {};
      const inflight =
        context.inflight[event.side] === event.clientOrderId
          ? { ...context.inflight, [event.side]: null }
          : context.inflight;
      if (!event.filled) return { inflight };
      const until = event.at + context.baseCooldownMs * context.hot.cooldownScale;
      return { inflight, fills: context.fills + 1, cooldownUntil: Math.max(context.cooldownUntil, until) };
    }),
  },
  guards: {
    ...(healthGuards as unknown as Record<string, never>),
  },
}).createMachine({
  id: 'symbol',
  initial: 'running',
  context: ({ input }) => ({
    venue: input.venue,
    symbol: input.symbol,
    trading: input.trading ?? 'HALTED',
    hot: {
      bars: initialBars(input.barMs),
      ticks: 0,
      lastPrice: null,
      lastTickAt: 0,
      lastBarAt: NO_BAR_YET,
      cooldownScale: 1,
      last: null,
    },
    strat: initialStrategyState(),
    env: input.env,
    inflight: { buy: null, sell: null },
    cooldownUntil: 0,
    baseCooldownMs: input.baseCooldownMs,
    fills: 0,
    historyBars: 0,
    failClosed: input.failClosed,
    health: initialHealth(input.failClosed),
  }),
  states: {
    running: {
      type: 'parallel',
      on: {
        'sup.shutdown': 'done',
        'venue.tick': { actions: 'onTick' },
        'bar.closed': { actions: 'onBarClosed' },
        'history.bars': { actions: 'onHistory' },
        'gov.trading': { actions: 'setTrading' },
        'strategy.env': { actions: 'setEnv' },
        'hmm.calibrated': { actions: 'calibrated' },
        'order.placed': { actions: 'placed' },
        'order.settled': { actions: 'settled' },
      },
      states: {
        health: healthRegion as never,
      },
    },
    done: { type: 'final' },
  },
  output: () => ({ reason: 'normal' }),
});
