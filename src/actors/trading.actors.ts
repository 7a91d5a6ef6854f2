import type { AnyActorRef } from 'xstate';
import type { CapitalAllocations, HmmCalibration, Policies, StrategyWeights } from '../config/files.schema.js';
import { resolveRiskLimits } from '../config/risk-limits.js';
import { errorMessage } from '../domain/errors.js';
import type { VenueId } from '../domain/ids.js';
import type { GovernanceState } from '../machines/governance.machine.js';
import type { AllocationInput } from '../strategies/allocator.js';
import { BREAKOUT_DEFAULTS } from '../strategies/breakout.js';
import type { ChildSpec } from '../supervisor/policy.js';
import type { SupervisorHooks } from '../supervisor/supervisor.js';
import type { TradingPort } from '../supervisor/trading-port.js';
import type { VenueGateway } from '../venues/venue-gateway.js';
import { createAllocationGuards } from './allocation-guards.js';
import { createBreakerEffects } from './breaker-effects.js';
import { createBreakout, createExternalFeed } from './breakout.actors.js';
import { createBreakoutLiveWindow } from './breakout-live-window.js';
import { recoverBooks } from './engine/boot-recovery.js';
import { scopeTrading } from './engine/engine-types.js';
import { createHaltWatch } from './engine/halt-watch.js';
import { wireEngine, wireStopValidators } from './engine-wiring.js';
import { createFundingHedges } from './funding-hedge.js';
import { createGuardOrders } from './guard-orders.js';
import { createGuards, DEPEG_SYMBOLS, DEPEG_VENUE } from './guards.actors.js';
import { createLedgerBook } from './ledger-book.js';
import { createPerpBook } from './perp-book.js';
import { createPortfolioSnapshots } from './portfolio-snapshots.js';
import { createQuoteBoard } from './quote-board.js';
import { createReducingScopes } from './reducing-scopes.js';
import { realSleep } from './retry.js';
import type { StopValidator } from './stop-validator.actors.js';
import { createStrategyEnv } from './strategy-env.js';
import { createCalibrator } from './symbol.actors.js';
import { createTickRouter } from './tick-router.js';
import {
  DEFAULT_ALLOCATIONS,
  DEFAULT_CALIBRATION,
  DEFAULT_POLICIES,
  DEFAULT_WEIGHTS,
  type TradingDeps,
} from './trading-deps.js';
import type { EngineVenue } from './trading-engine.js';
import { createTradingHooks } from './trading-hooks.js';
import { startTradingLoops } from './trading-loops.js';
import { createTradingPort } from './trading-port.actors.js';
import { createVenueExtras } from './venue-extras.js';

export type { TradingConfig, TradingDeps } from './trading-deps.js';

/**
 * The trading pipeline's composition (DESIGN §3, §5, §6): symbol actors under `symbols:<venue>`, the venue
 * error-rate breaker under each venue, `risk` with the equity breaker, the engine (orders, ledger,
 * reconciliation), boot recovery and the `TradingPort` the HTTP layer uses.
 */
export function createTrading(deps: TradingDeps) {
  const { config, store, metrics, ops } = deps;
  const log = deps.log.child({ actor: 'trading' });
  const now = deps.now ?? Date.now;
  const hr = deps.hr ?? (() => performance.now());
  const venuesList = [...deps.gateways.keys()] as VenueId[];
  const symbols = [...(config.TRADE_SYMBOLS ?? [])];
  // The live symbol set per venue: TRADE_SYMBOLS, or the scanner's shortlist when the scanner runs. The engine
  // (budget split, reconciliation) and the feed read it on every use, so a shortlist change reaches both.
  const liveSymbols: Record<string, readonly string[]> = Object.fromEntries(
    venuesList.map((v) => [v, deps.bootSymbols ? deps.bootSymbols(v, symbols) : symbols]),
  );
  const symbolSpecs = new Map<string, (symbol: string) => ChildSpec>();
  const lookup = (id: string): AnyActorRef | undefined =>
    deps.runtime()?.root().system.get(id) as AnyActorRef | undefined;

  // ── operator config, with defaults until the config actor has loaded the files ──
  const weights = () => ops.current<StrategyWeights>('strategy_weights') ?? DEFAULT_WEIGHTS;
  const calibration = () => ops.current<HmmCalibration>('hmm_calibration') ?? DEFAULT_CALIBRATION;
  const policies = () => ops.current<Policies>('policies') ?? DEFAULT_POLICIES;
  const allocations = (): AllocationInput =>
    (ops.current<CapitalAllocations>('capital_allocations') as AllocationInput | undefined) ?? DEFAULT_ALLOCATIONS;

  // ── the strategies' environment: weights, calibration, trend auto-tune (strategy-env.ts) ──
  const { autoTune, env } = createStrategyEnv({ config, ops, weights, calibration, runtime: deps.runtime, log, now });

  const governance = (): GovernanceState | undefined => {
    try {
      return deps.runtime()?.governance();
    } catch {
      return undefined;
    }
  };
  const tradingOf = (venue: string, symbol: string) => scopeTrading(governance(), venue, symbol);

  // ── breakers (money guards: state in LMDB, restored at boot, fail closed when not running) ──
  const breakers = createBreakerEffects({
    kv: store.kv,
    metrics,
    log,
    now,
    venues: venuesList,
    lookup,
    limits: () => resolveRiskLimits(config, policies()),
    venueErrorBreakerPct: config.VENUE_ERROR_BREAKER_PCT,
    venueErrorWindow: config.VENUE_ERROR_WINDOW,
  });

  const book = createLedgerBook(store.portfolio, venuesList);
  // The perp book exists when something of Bosun's holds perpetuals: the strategies (PERP_STRATEGIES_ENABLED) or
  // the funding hedge (FUNDING_HEDGE_RATIO > 0). Without it a funding trim settles at the venue only, as before.
  const perpsOn = config.PERP_STRATEGIES_ENABLED || config.FUNDING_HEDGE_RATIO > 0;
  const perps = perpsOn ? createPerpBook(store.portfolio, venuesList) : undefined;
  const engineVenues: EngineVenue[] = venuesList.map((id) => ({ id, gateway: deps.gateways.get(id) as VenueGateway }));

  // ── stop validators (one per venue): every position keeps one live server-side stop ──
  const stopValidators = new Map<string, StopValidator>();

  // ── allocator guards: auto-cutback's size multiplier and risk parity's weights ──
  const allocationGuards = createAllocationGuards({
    cutbackEnabled: config.AUTO_CUTBACK_ENABLED,
    riskParityEnabled: config.RISK_PARITY_ENABLED,
    kv: store.kv,
    metrics,
    log,
    barMs: config.BAR_MS,
    maxDrawdownPct: resolveRiskLimits(config, policies()).maxDrawdownPct,
    symbols: Object.fromEntries(venuesList.map((v) => [v, symbols])),
    now,
  });

  const engine = wireEngine({
    deps,
    engineVenues,
    liveSymbols,
    store,
    book,
    perps,
    metrics,
    log,
    now,
    hr,
    lookup,
    tradingOf,
    policies,
    allocations,
    breakers,
    guards: () => guards,
    allocationGuards,
    stopValidators,
    autoTune,
  });

  // ── REDUCING set and cleared by the system (depeg exit, funding trim, auto-cutback): reducing-scopes.ts ──
  const limitsNow = () => resolveRiskLimits(config, policies());
  const reducing = createReducingScopes({
    governance,
    setTrading: async (cmd) => deps.runtime()?.setTrading(cmd),
    stillNeeded: (reason, _scope, key) => {
      const [venue = '', symbol = ''] = key.split(':');
      if (reason === 'depeg_exit') return guards.railInput(venue, symbol).depegActive;
      if (reason === 'funding_trim') return guards.railInput(venue, symbol, 'linear').fundingSpike;
      return allocationGuards.atFloor();
    },
    log,
  });

  // ── guards:<venue> — depeg and funding (issue 5); their orders go through the engine and its rails ──
  const quotes = createQuoteBoard();
  const guards = createGuards({
    config,
    kv: store.kv,
    metrics,
    log,
    now,
    gateway: (venue) => engineVenues.find((v) => v.id === venue)?.gateway,
    venues: venuesList,
    quotes,
    lookup,
    beforePublish: deps.guardFaults?.beforePublish,
    ...createGuardOrders({
      engine,
      book,
      venues: engineVenues,
      limits: (symbol) => resolveRiskLimits(config, policies(), symbol),
      minTradeUsdt: config.MIN_TRADE_USDT,
      reducing,
      hedges: createFundingHedges({
        kv: store.kv,
        engine,
        book,
        ...(perps ? { perps } : {}),
        gateway: (venue) => deps.gateways.get(venue),
        orders: () => store.orders.list(),
        minTradeUsdt: config.MIN_TRADE_USDT,
        maxNotionalUsdt: (symbol) => resolveRiskLimits(config, policies(), symbol).maxNotionalUsdt,
        metrics,
        log,
        now,
      }),
    }),
  });
  wireStopValidators(stopValidators, {
    deps,
    engine,
    engineVenues,
    store,
    book,
    perps,
    metrics,
    log,
    now,
    symbols: () => symbols,
  });

  // ── events.external_feed and the event breakout (on the first venue that lists the symbol) ──
  const externalFeed = createExternalFeed();
  const breakoutWindow = createBreakoutLiveWindow({
    kv: store.kv,
    live: config.EVENT_BREAKOUT_ENABLED && !config.EVENT_BREAKOUT_DRY_RUN,
    now,
    log,
  });
  breakoutWindow.ready.catch((e: unknown) =>
    log.error({ err: errorMessage(e) }, '[BREAKOUT] half-size window not recorded'),
  );
  const breakout = createBreakout({
    feed: externalFeed,
    enabled: config.EVENT_BREAKOUT_ENABLED,
    dryRun: config.EVENT_BREAKOUT_DRY_RUN,
    liveWindow: breakoutWindow,
    kv: store.kv,
    kpis: config.EVENT_BREAKOUT_METRICS,
    symbols,
    params: BREAKOUT_DEFAULTS,
    metrics,
    log,
    submit: (d, scale) =>
      engine.submitStrategy({
        venue: venuesList[0] as VenueId,
        symbol: d.symbol,
        side: d.side,
        quote: resolveRiskLimits(config, policies(), d.symbol).maxNotionalUsdt * scale,
        strategy: 'breakout',
        reason: `breakout:${d.source}:${d.eventId}`,
      }),
  });

  const router = createTickRouter({
    lookup,
    metrics,
    barMs: config.BAR_MS,
    onPrice: (venue, symbol, p, t) => {
      engine.notePrice(venue, symbol, p);
      engine.noteTick(venue, symbol, t);
      allocationGuards.notePrice(venue, symbol, p, t.receivedAt);
      if (venue === venuesList[0]) void breakout.price(symbol, p, t.receivedAt);
    },
  });
  const calibrator = createCalibrator({ lookup, log, env });

  // ── portfolio.json (from the ledger: the one book) ──
  const portfolio = createPortfolioSnapshots({
    path: config.PORTFOLIO_PATH,
    store,
    book,
    prices: () => engine.assetPrices(),
    now,
  });

  const onGovernance = createHaltWatch({
    accepting: () => engine.accepting(),
    cancelRefused: () => engine.cancelRefused(),
    log,
  });

  // ── subtrees ──
  const venueExtras = createVenueExtras({
    config,
    symbols,
    liveSymbols,
    symbolSpecs,
    env,
    governance,
    engine,
    calibrator,
    metrics,
    now,
    breakers,
    stopValidators,
    guards,
  });

  // ── boot recovery (DESIGN §6): engine/boot-recovery.ts ──
  const recover = () =>
    recoverBooks({
      engine,
      book,
      store,
      venues: engineVenues,
      portfolio,
      metrics,
      log,
      now,
      sleep: deps.sleep ?? realSleep,
    });

  let stopLoops = () => {};
  const startLoops = () => {
    stopLoops = startTradingLoops({
      engine,
      book,
      portfolio,
      breakers,
      allocationGuards,
      reducing,
      venues: venuesList,
      lookup,
      metrics,
      log,
      now,
      reconcileIntervalMs: config.RECONCILE_INTERVAL_SEC * 1000,
      snapshotIntervalMs: config.PORTFOLIO_SNAPSHOT_SEC * 1000,
      cutbackReducing: (drawdownPct) => allocationGuards.reducingFor(drawdownPct, limitsNow().maxDrawdownPct),
    });
  };

  const port: TradingPort = createTradingPort({
    engine,
    orders: store.orders,
    portfolio,
    breakers,
    stopValidators,
    ops,
    weights,
    weightsPath: config.STRATEGY_WEIGHTS_PATH,
    resetAutoTune: (actor) => autoTune.reset(actor),
    log,
  });

  return {
    engine,
    router,
    guards,
    /** The shared feed's latest quotes (every venue feed notes each tick here). */
    quotes,
    /** What a venue's feed reads besides the traded symbols: the depeg guard's parity books. */
    watchSymbols: (): readonly string[] =>
      config.DEPEG_GUARD_ENABLED && venuesList.includes(DEPEG_VENUE as VenueId) ? Object.values(DEPEG_SYMBOLS) : [],
    /** `GET /guards`, `POST /guards/depeg/rearm`. */
    guardsPort: guards.port,
    externalFeed,
    breakout,
    /** The half-size window of going live (armed by a start with breakouts live after one without). */
    breakoutWindow,
    calibrator,
    book,
    port,
    env,
    venueExtras,
    /** The stop validators by venue (their `child()` is the ChildSpec + logic for any supervisor). */
    stopValidators,
    allocationGuards,
    riskSubtree: (hooks: SupervisorHooks) => breakers.riskSubtree(hooks),
    recover,
    startLoops,
    onGovernance,
    allocations,
    ...createTradingHooks({
      config,
      engine,
      book,
      store,
      engineVenues,
      liveSymbols,
      symbolSpecs,
      policies,
      lookup,
      log,
      now,
    }),
    async stop(): Promise<void> {
      stopLoops();
      if (engine.accepting()) await portfolio.write();
      engine.setAccepting(false);
      await engine.stopMaker();
    },
  };
}

export type Trading = ReturnType<typeof createTrading>;
