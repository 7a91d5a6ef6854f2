import type { AnyActorRef } from 'xstate';
import type { Policies } from '../config/files.schema.js';
import { parseMakerMode } from '../config/maker-mode.js';
import { isSymbolAllowedByPolicy, resolveRiskLimits } from '../config/risk-limits.js';
import { errorMessage } from '../domain/errors.js';
import { actorId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/index.js';
import type { AllocationInput } from '../strategies/allocator.js';
import type { Position } from '../venues/venue-gateway.js';
import type { AllocationGuards } from './allocation-guards.js';
import type { createAutoTuneOutcomes } from './auto-tune-outcomes.js';
import type { BreakerEffects } from './breaker-effects.js';
import type { ScopeTrading } from './engine/engine-types.js';
import type { Guards } from './guards.actors.js';
import type { LedgerBook } from './ledger-book.js';
import type { PerpBook } from './perp-book.js';
import { createStopValidator, type StopValidator } from './stop-validator.actors.js';
import { stopValidatorOptions, type TradingDeps } from './trading-deps.js';
import { createTradingEngine, type EngineVenue, type TradingEngine } from './trading-engine.js';

/**
 * The engine as the trading pipeline wires it (trading.actors.ts): its venues, books, limits and governance, the
 * breakers' and guards' rail inputs, the stop validators' port, and where its fills go (stop validator, auto-tune).
 * `guards` is read at call time: the guards are built after the engine, whose orders they send.
 */
export function wireEngine(w: {
  deps: Pick<TradingDeps, 'config' | 'runtime' | 'onHandoff' | 'onAck' | 'tradeStream'>;
  engineVenues: EngineVenue[];
  liveSymbols: Record<string, readonly string[]>;
  store: Store;
  book: LedgerBook;
  perps: PerpBook | undefined;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  hr: () => number;
  lookup: (id: string) => AnyActorRef | undefined;
  tradingOf: (venue: string, symbol: string) => ScopeTrading;
  policies: () => Policies;
  allocations: () => AllocationInput;
  breakers: BreakerEffects;
  guards: () => Guards;
  allocationGuards: AllocationGuards;
  stopValidators: ReadonlyMap<string, StopValidator>;
  autoTune: ReturnType<typeof createAutoTuneOutcomes>;
}) {
  const { deps, engineVenues, liveSymbols, store, book, perps, metrics, log, now, hr, lookup, tradingOf } = w;
  const { config } = deps;
  const { policies, allocations, breakers, allocationGuards, stopValidators, autoTune } = w;
  const stopsPort = {
    owns: (venue: string, o: { id: string | null; clientOrderId: string | null }) =>
      stopValidators.get(venue)?.owns(o) ?? false,
    perpStopFill: async (
      venue: string,
      t: { symbol: string; orderId: string | null; clientOrderId: string | null; amount: number },
    ) => (await stopValidators.get(venue)?.perpStopFill(t)) ?? false,
    release: async (venue: string, symbol: string) => {
      await stopValidators.get(venue)?.release(symbol);
    },
  };
  return createTradingEngine({
    node: config.NODE_ID,
    venues: engineVenues,
    symbols: liveSymbols,
    journal: store.journal,
    orders: store.orders,
    kv: store.kv,
    book,
    ...(perps ? { perps } : {}),
    perp: {
      strategies: config.PERP_STRATEGIES_ENABLED,
      leverage: config.PERP_MAX_LEVERAGE,
      marginMode: config.PERP_MARGIN_MODE,
      minLiqDistancePct: config.PERP_MIN_LIQ_DISTANCE_PCT,
      maintMarginRate: config.PERP_MAINT_MARGIN_RATE,
    },
    metrics,
    log,
    now,
    hr,
    minTradeUsdt: config.MIN_TRADE_USDT,
    maker: {
      modes: parseMakerMode(config.MAKER_MODE ?? 'off'),
      timeoutMs: (config.MAKER_TIMEOUT_SEC ?? 30) * 1000,
      ...(deps.tradeStream !== undefined ? { tradeStream: deps.tradeStream } : {}),
    },
    notify: (venue, symbol, event) => lookup(actorId.symbol(venue, symbol))?.send(event as never),
    inputs: {
      trading: tradingOf,
      limits: (symbol) => resolveRiskLimits(config, policies(), symbol),
      policyAllowed: (symbol) => isSymbolAllowedByPolicy(policies(), symbol),
      allocations,
      equityBreaker: breakers.equity,
      venueBreaker: breakers.venue,
      guards: (venue, symbol, market) => w.guards().railInput(venue, symbol, market),
      sizeScale: () => allocationGuards.sizeScale(),
      riskWeights: (venue) => allocationGuards.riskWeights(venue),
      haltVenue: async (venue, reason) => {
        await deps.runtime()?.setTrading({
          scope: 'venue',
          key: venue,
          state: 'HALTED',
          reason,
          actor: 'system',
          command: 'reconcile',
        });
      },
    },
    stops: stopsPort,
    onHandoff: deps.onHandoff,
    onAck: deps.onAck,
    onFill: (fill, strategy) => {
      const sv = stopValidators.get(fill.venue);
      if (sv)
        void sv
          .noteFill(fill, strategy)
          .then((changed) => {
            // A fill changes what needs protecting: validate now rather than at the next interval.
            if (changed) lookup(sv.id)?.send({ type: 'stopval.check' });
          })
          .catch((e: unknown) => log.error({ err: errorMessage(e) }, 'stop validator: fill not recorded'));
      autoTune.noteFill(fill, strategy);
    },
    // A perpetual position changed: its reduce-only stop is placed, resized or removed now.
    onPerpFill: (venue) => {
      const sv = stopValidators.get(venue);
      if (sv) lookup(sv.id)?.send({ type: 'stopval.check' });
    },
  });
}

/** Bosun's share of each perpetual (every owner: strategies, hedge, guard) for the validator's perpetual stops. */
export function perpStopOptions(venue: string, perps: PerpBook, engine: TradingEngine) {
  const owners = ['strategies', 'hedge', 'guard'] as const;
  return {
    position: (symbol: string) => owners.reduce((sum, o) => sum + perps.position(venue, symbol, o), 0),
    symbols: () => engine.perpSymbols(venue),
    entry: (symbol: string) => perps.venue(venue)?.positions[symbol]?.entryPrice,
    onPositions: (positions: readonly Position[]) => engine.noteVenuePositions(venue, positions),
  };
}

/** One stop validator per venue (every position keeps one live server-side stop), ids with the engine's incarnation. */
export function wireStopValidators(
  into: Map<string, StopValidator>,
  w: {
    deps: Pick<TradingDeps, 'config' | 'log' | 'notify'>;
    engine: TradingEngine;
    engineVenues: readonly EngineVenue[];
    store: Store;
    book: LedgerBook;
    /** The perp book: with it, every perpetual position Bosun holds gets a reduce-only stop too. */
    perps?: PerpBook | undefined;
    metrics: Metrics;
    log: Logger;
    now: () => number;
    symbols: () => readonly string[];
  },
): void {
  const { deps, engine, store, book, log } = w;
  for (const v of w.engineVenues)
    into.set(
      v.id,
      createStopValidator({
        ...stopValidatorOptions(deps.config),
        venue: v.id,
        incarnation: engine.incarnation,
        gateway: () => v.gateway,
        kv: store.kv,
        journal: store.journal,
        metrics: w.metrics,
        log: deps.log,
        now: w.now,
        symbols: w.symbols,
        ownedPosition: (symbol) => book.ownedPosition(v.id, symbol),
        price: (symbol) => engine.price(v.id, symbol),
        ...(w.perps ? { perp: perpStopOptions(v.id, w.perps, engine) } : {}),
        ...(deps.notify ? { notify: deps.notify } : {}),
        onTriggered: () =>
          void engine
            .reconcileAll()
            .catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'reconcile after a stop fill failed')),
      }),
    );
}
