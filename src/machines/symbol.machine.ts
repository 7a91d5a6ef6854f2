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

export interface SymbolContext extends HealthContext {
  venue: string;
  symbol: string;
  trading: TradingState;
  bars: BarState;
  strat: StrategyState;
  env: StrategyEnv;
  ticks: number;
  lastPrice: number | null;
  lastTickAt: number;
  inflight: { buy: string | null; sell: string | null };
  cooldownUntil: number;
  baseCooldownMs: number;
  cooldownScale: number;
  last: LastSignal | null;
  fills: number;
  /**
   * Open time of the newest bar folded in (live or history); a bar not newer than it is a duplicate.
   * NO_BAR_YET before any (a bar may open at epoch 0 on a test clock).
   */
  lastBarAt: number;
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

interface BarOutcome {
  trendFired: boolean;
  calibrate: Array<{ venue: string; symbol: string; variant: ModelVariant; atBar: number }>;
  patch: Pick<SymbolContext, 'strat' | 'last' | 'cooldownScale'>;
  /** Null when trading is HALTED or a cooldown runs. */
  signal: SignalEffect | null;
}

/** One closed bar: the strategies, calibration requests, and the signal when trading allows and no cooldown runs. */
function closeBar(context: SymbolContext, e: { bar: Bar; price: number; receivedAt: number; t0: number }): BarOutcome {
  const out = onBar(context.strat, e.bar.close, context.env);
  const last: LastSignal = {
    at: e.receivedAt,
    price: e.bar.close,
    signal: out.signal,
    hmm: out.hmm.signal,
    trend: out.trend,
    strategy: out.strategy,
  };
  const { state: _s, ...output } = out;
  const quiet = context.trading === 'HALTED' || e.receivedAt < context.cooldownUntil;
  return {
    trendFired: out.trendFired,
    calibrate: out.calibrate.map((variant) => ({
      venue: context.venue,
      symbol: context.symbol,
      variant,
      atBar: out.state.bars,
    })),
    patch: { strat: out.state, last, cooldownScale: out.cooldownScale },
    signal: quiet
      ? null
      : {
          venue: context.venue,
          symbol: context.symbol,
          price: e.price,
          at: e.receivedAt,
          t0: e.t0,
          output,
          trading: context.trading,
        },
  };
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
      // Bars mutate in place (allocation-free per tick); the context object itself is replaced below.
      const bar = addTick(context.bars, price, event.receivedAt);
      enqueue.assign({ ticks: context.ticks + 1, lastPrice: price, lastTickAt: event.receivedAt });
      if (bar === null || bar.openAt <= context.lastBarAt) return;
      enqueue.assign({ lastBarAt: bar.openAt });
      const r = closeBar(context, { bar, price, receivedAt: event.receivedAt, t0: event.t0 ?? event.receivedAt });
      if (r.trendFired) enqueue('sym.trendFired');
      for (const params of r.calibrate) enqueue({ type: 'sym.calibrate', params });
      enqueue.assign(r.patch);
      if (r.signal) enqueue({ type: 'sym.signal', params: r.signal });
    }),
    onBarClosed: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'bar.closed') return;
      if (event.bar.openAt <= context.lastBarAt) {
        // Already folded from history: count its ticks, nothing else.
        enqueue.assign({ ticks: context.ticks + event.ticks, lastPrice: event.price, lastTickAt: event.receivedAt });
        return;
      }
      const r = closeBar(context, event);
      if (r.trendFired) enqueue('sym.trendFired');
      for (const params of r.calibrate) enqueue({ type: 'sym.calibrate', params });
      // One assign per bar: each one copies the whole context.
      enqueue.assign({
        ...r.patch,
        ticks: context.ticks + event.ticks,
        lastPrice: event.price,
        lastTickAt: event.receivedAt,
        lastBarAt: event.bar.openAt,
      });
      if (r.signal) enqueue({ type: 'sym.signal', params: r.signal });
    }),
    onHistory: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'history.bars') return;
      const newest = event.bars.at(-1);
      // Older than what the actor already folded live: the history would go backwards.
      if (newest === undefined || newest.openAt < context.lastBarAt) return;
      const r = foldHistory(event.bars, context.env);
      for (const variant of r.calibrate)
        enqueue({
          type: 'sym.calibrate',
          params: { venue: context.venue, symbol: context.symbol, variant, atBar: r.strat.bars },
        });
      enqueue.assign({ strat: r.strat, lastBarAt: newest.openAt, historyBars: event.bars.length });
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
      const until = event.at + context.baseCooldownMs * context.cooldownScale;
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
    bars: initialBars(input.barMs),
    strat: initialStrategyState(),
    env: input.env,
    ticks: 0,
    lastPrice: null,
    lastTickAt: 0,
    inflight: { buy: null, sell: null },
    cooldownUntil: 0,
    baseCooldownMs: input.baseCooldownMs,
    cooldownScale: 1,
    last: null,
    fills: 0,
    lastBarAt: NO_BAR_YET,
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
