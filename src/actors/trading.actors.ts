import { readFileSync } from 'node:fs';
import type { AnyActorRef } from 'xstate';
import {
  type CapitalAllocations,
  type HmmCalibration,
  HmmCalibrationFileSchema,
  type Policies,
  PoliciesFileSchema,
  type StrategyWeights,
  StrategyWeightsFileSchema,
} from '../config/files.schema.js';
import type { Config } from '../config/load-config.js';
import { isSymbolAllowedByPolicy, resolveRiskLimits } from '../config/risk-limits.js';
import { AppError, errorMessage } from '../domain/errors.js';
import { actorId, type VenueId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import { equityBreakerMachine, equityBreakerView } from '../machines/equity-breaker.machine.js';
import { effectiveState, type GovernanceState, type TradingState } from '../machines/governance.machine.js';
import { stopValidatorView } from '../machines/stop-validator.machine.js';
import { venueBreakerMachine, venueBreakerView } from '../machines/venue-breaker.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/index.js';
import type { AllocationInput } from '../strategies/allocator.js';
import { BREAKOUT_DEFAULTS } from '../strategies/breakout.js';
import type { StrategyEnv } from '../strategies/symbol-strategy.js';
import { boundParams } from '../strategies/trend.js';
import { type AutoTuneState, formatAutoTuneLine, recordOutcome } from '../strategies/trend-auto-tune.js';
import type { ChildSpec } from '../supervisor/policy.js';
import type { Runtime } from '../supervisor/runtime.js';
import { createSupervisor, type SupervisorHooks } from '../supervisor/supervisor.js';
import type { BreakerView, TradingPort } from '../supervisor/trading-port.js';
import type { VenueGateway } from '../venues/venue-gateway.js';
import { createAllocationGuards } from './allocation-guards.js';
import { writeFileAtomic } from './atomic-file.js';
import { createBreakout, createExternalFeed } from './breakout.actors.js';
import type { OpsConfig } from './config.actors.js';
import { createGuardStates } from './guard-state.js';
import { createGuards, type GuardsConfig } from './guards.actors.js';
import { createLedgerBook } from './ledger-book.js';
import { buildPortfolioDocument, createPortfolioFile } from './portfolio-file.js';
import { realSleep, retryTransient, type Sleep } from './retry.js';
import { createStopValidator, type StopAlert, type StopValidator } from './stop-validator.actors.js';
import { buildSymbolsSupervisor, createCalibrator } from './symbol.actors.js';
import { createTickRouter } from './tick-router.js';
import { createTradingEngine, type EngineVenue, type TradingEngineDeps, toOrderView } from './trading-engine.js';
import { createAutoTuneFile } from './trend-auto-tune.file.js';

/**
 * The trading pipeline's composition (DESIGN §3, §5, §6): symbol actors under `symbols:<venue>`, the venue
 * error-rate breaker under each venue, `risk` with the equity breaker, the engine (orders, ledger,
 * reconciliation), boot recovery and the `TradingPort` the HTTP layer uses.
 */
export type TradingConfig = Pick<
  Config,
  | 'NODE_ID'
  | 'TRADE_SYMBOLS'
  | 'VENUES'
  | 'BAR_MS'
  | 'HMM_WARMUP_BARS'
  | 'TREND_SIGNAL_WEIGHT'
  | 'MIN_TRADE_USDT'
  | 'RECONCILE_INTERVAL_SEC'
  | 'PORTFOLIO_SNAPSHOT_SEC'
  | 'PORTFOLIO_PATH'
  | 'RUNTIME_DIR'
  | 'STRATEGY_WEIGHTS_PATH'
  | 'TREND_AUTO_TUNE_ENABLED'
  | 'TREND_FAST_BARS'
  | 'TREND_SLOW_BARS'
  | 'TREND_ENTRY_Z'
  | 'MAX_NOTIONAL_USDT'
  | 'MAX_SYMBOL_EXPOSURE_USDT'
  | 'MAX_VENUE_EXPOSURE_USDT'
  | 'MAX_ASSET_EXPOSURE_USDT'
  | 'EQUITY_FLOOR_USD'
  | 'MAX_DRAWDOWN_PCT'
  | 'EQUITY_COOLDOWN_SEC'
  | 'ORDER_COOLDOWN_SEC'
  | 'VENUE_ERROR_BREAKER_PCT'
  | 'VENUE_ERROR_WINDOW'
  | 'EVENT_BREAKOUT_ENABLED'
  | 'EVENT_BREAKOUT_DRY_RUN'
  | 'EVENT_BREAKOUT_METRICS'
  | 'STOP_VALIDATOR_REPAIR'
  | 'STOPVAL_NOTIFY_ENABLED'
  | 'STOP_VALIDATOR_INTERVAL_SEC'
  | 'STOP_LOSS_PCT'
  | 'AUTO_CUTBACK_ENABLED'
  | 'RISK_PARITY_ENABLED'
> &
  GuardsConfig;

export interface TradingDeps {
  config: TradingConfig;
  store: Store;
  metrics: Metrics;
  log: Logger;
  ops: OpsConfig;
  gateways: ReadonlyMap<string, VenueGateway>;
  runtime: () => Runtime | undefined;
  now?: () => number;
  hr?: () => number;
  /** Every wait of the order path and boot recovery (default setTimeout). */
  sleep?: Sleep;
  /** Test seam (guard crash drills): see GuardsDeps.beforePublish. */
  guardFaults?: { beforePublish?: (id: string, context: unknown) => void };
  /** The notifier's entry point for guard alerts (🛡 stop repairs); default: logged. */
  notify?: (alert: StopAlert) => void;
  /** The symbols a venue boots with (the scanner's persisted shortlist); TRADE_SYMBOLS when absent. */
  bootSymbols?: (venue: string, fallback: readonly string[]) => string[];
  /** Benchmark seams: the engine's per-order tick → hand-off and tick → ack figures (TradingEngineDeps). */
  onHandoff?: TradingEngineDeps['onHandoff'];
  onAck?: (venue: string, ms: { tickToAckMs: number; roundTripMs: number }) => void;
}

const DEFAULT_WEIGHTS: StrategyWeights = StrategyWeightsFileSchema.parse({
  weights: { stable_model: 0.5, canary_model: 0.5 },
});
const DEFAULT_CALIBRATION: HmmCalibration = HmmCalibrationFileSchema.parse({});
const DEFAULT_POLICIES: Policies = PoliciesFileSchema.parse({});
const DEFAULT_ALLOCATIONS: AllocationInput = { reserve_pct: 10 };

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

  // ── trend auto-tune state (state/runtime/trend_auto_tune.json) ──
  const autoTuneFile = createAutoTuneFile(
    `${config.RUNTIME_DIR}/trend_auto_tune.json`,
    boundParams({ fastBars: config.TREND_FAST_BARS, slowBars: config.TREND_SLOW_BARS, entryZ: config.TREND_ENTRY_Z }),
    now,
  );
  const loaded = autoTuneFile.load();
  let autoTune: AutoTuneState = loaded.state;
  if (loaded.source === 'corrupt')
    log.warn(
      { path: autoTuneFile.path, warning: loaded.warning },
      '[TREND-AUTO] state file corrupt: env defaults in force',
    );
  else log.info({ path: autoTuneFile.path, source: loaded.source, params: autoTune.params }, '[TREND-AUTO] loaded');

  const env = (): StrategyEnv => {
    const c = calibration();
    return {
      weights: weights().weights,
      calibration: c,
      trend: autoTune.params,
      warmupBars: config.HMM_WARMUP_BARS > 0 ? config.HMM_WARMUP_BARS : undefined,
      trendWeight: config.TREND_SIGNAL_WEIGHT,
    };
  };
  const broadcastEnv = () => {
    const e = env();
    const all = deps.runtime()?.root().system.getAll() as Record<string, AnyActorRef> | undefined;
    for (const [id, ref] of Object.entries(all ?? {}))
      if (id.startsWith('sym:')) ref.send({ type: 'strategy.env', env: e });
  };
  ops.onChange((name) => {
    if (name === 'strategy_weights' || name === 'hmm_calibration') broadcastEnv();
  });

  const governance = (): GovernanceState | undefined => {
    try {
      return deps.runtime()?.governance();
    } catch {
      return undefined;
    }
  };
  const tradingOf = (venue: string, symbol: string) => {
    const g = governance();
    // Fail closed: no governance view means nothing trades.
    if (!g)
      return { global: 'HALTED' as TradingState, venue: 'HALTED' as TradingState, symbol: 'HALTED' as TradingState };
    return {
      global: g.global.state,
      venue: g.venues[venue]?.state ?? 'ACTIVE',
      symbol: g.symbols[`${venue}:${symbol}`]?.state ?? 'ACTIVE',
    };
  };

  // ── breakers (money guards: state in LMDB, restored at boot, fail closed when not running) ──
  const breakerStates = createGuardStates({ kv: store.kv, prefix: 'breaker:', log });
  const breakerSnapshot = (id: string): AnyActorRef | undefined => {
    const ref = lookup(id);
    return ref && ref.getSnapshot().status === 'active' ? ref : undefined;
  };
  const equityBreaker = () => {
    const ref = breakerSnapshot(actorId.equityBreaker());
    if (!ref) return { tripped: true, reason: 'breaker_unavailable' };
    const v = equityBreakerView(ref.getSnapshot().context);
    return { tripped: v.tripped, reason: v.reason };
  };
  const venueBreaker = (venue: string) => {
    const ref = breakerSnapshot(actorId.venueBreaker(venue));
    if (!ref) return { tripped: true, reason: 'breaker_unavailable' };
    const v = venueBreakerView(ref.getSnapshot().context);
    return { tripped: v.tripped, reason: v.reason };
  };

  const book = createLedgerBook(store.portfolio, venuesList);
  const engineVenues: EngineVenue[] = venuesList.map((id) => ({ id, gateway: deps.gateways.get(id) as VenueGateway }));
  const avgEntry = new Map<string, { qty: number; cost: number }>();

  // ── stop validators (one per venue): every position keeps one live server-side stop ──
  const stopValidators = new Map<string, StopValidator>();
  const stopsPort = {
    owns: (venue: string, o: { id: string | null; clientOrderId: string | null }) =>
      stopValidators.get(venue)?.owns(o) ?? false,
    release: async (venue: string, symbol: string) => {
      await stopValidators.get(venue)?.release(symbol);
    },
  };

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

  const engine = createTradingEngine({
    node: config.NODE_ID,
    venues: engineVenues,
    symbols: liveSymbols,
    journal: store.journal,
    orders: store.orders,
    kv: store.kv,
    book,
    metrics,
    log,
    now,
    hr,
    minTradeUsdt: config.MIN_TRADE_USDT,
    notify: (venue, symbol, event) => lookup(actorId.symbol(venue, symbol))?.send(event as never),
    inputs: {
      trading: tradingOf,
      limits: (symbol) => resolveRiskLimits(config, policies(), symbol),
      policyAllowed: (symbol) => isSymbolAllowedByPolicy(policies(), symbol),
      allocations,
      equityBreaker,
      venueBreaker,
      guards: (venue, symbol, market) => guards.railInput(venue, symbol, market),
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
      if (strategy !== 'trend' && strategy !== 'hmm') return;
      const key = `${fill.venue}|${fill.symbol}`;
      const e = avgEntry.get(key) ?? { qty: 0, cost: 0 };
      if (fill.side === 'buy') avgEntry.set(key, { qty: e.qty + fill.amount, cost: e.cost + fill.cost });
      else if (e.qty > 0) {
        const entry = e.cost / e.qty;
        const sold = Math.min(fill.amount, e.qty);
        avgEntry.set(key, { qty: e.qty - sold, cost: e.cost - entry * sold });
        if (strategy === 'trend') {
          const r = recordOutcome(
            autoTune,
            { pnlPct: (fill.price / entry - 1) * 100, at: fill.at },
            {
              enabled: config.TREND_AUTO_TUNE_ENABLED,
            },
          );
          autoTune = r.state;
          if (config.TREND_AUTO_TUNE_ENABLED) {
            try {
              autoTuneFile.save(autoTune);
            } catch (err) {
              log.warn({ err: errorMessage(err) }, '[TREND-AUTO] could not save state');
            }
          }
          if (r.change) {
            log.info({ from: r.change.from, to: r.change.to }, formatAutoTuneLine(r.change));
            broadcastEnv();
          }
        }
      }
    },
  });

  // ── guards:<venue> — depeg and funding (issue 5); their orders go through the engine and its rails ──
  const guards = createGuards({
    config,
    kv: store.kv,
    metrics,
    log,
    now,
    gateway: (venue) => engineVenues.find((v) => v.id === venue)?.gateway,
    lookup,
    beforePublish: deps.guardFaults?.beforePublish,
    async reduceUsdtExposure(reason) {
      let sent = 0;
      const px = engine.assetPrices();
      for (const v of engineVenues) {
        for (const [symbol, m] of Object.entries(v.gateway.markets('spot'))) {
          if (m.quote !== 'USDT') continue;
          const held = book.ownedPosition(v.id, symbol);
          const price = px[m.base];
          if (!(held > 0) || price === undefined || held * price < config.MIN_TRADE_USDT) continue;
          const r = await engine.submitGuard({
            venue: v.id,
            symbol,
            side: 'sell',
            quote: resolveRiskLimits(config, policies(), symbol).maxNotionalUsdt,
            strategy: 'depeg',
            reason,
          });
          if (r.status !== 'rejected') sent += 1;
        }
      }
      return sent;
    },
    async executeFunding(venue, plan) {
      const limits = resolveRiskLimits(config, policies(), plan.symbol);
      const price = plan.trim.amount > 0 ? plan.trim.notionalUsdt / plan.trim.amount : 0;
      // One reduce-only order per spike, capped at MAX_NOTIONAL_USDT (the rails' notional cap applies to trims).
      const trim = await engine.submitGuard({
        venue: venue as VenueId,
        symbol: plan.symbol,
        side: plan.trim.side,
        quote: Math.min(plan.trim.notionalUsdt, limits.maxNotionalUsdt),
        price,
        market: 'linear',
        reduceOnly: true,
        strategy: 'funding',
        reason: `funding_trim:${plan.ratePct.toFixed(4)}%`,
      });
      const trimmed = trim.status !== 'rejected';
      let hedged = false;
      if (trimmed && plan.hedge) {
        const h = await engine.submitGuard({
          venue: venue as VenueId,
          symbol: plan.hedge.symbol,
          side: plan.hedge.side,
          quote: Math.min(
            plan.hedge.quoteUsdt,
            resolveRiskLimits(config, policies(), plan.hedge.symbol).maxNotionalUsdt,
          ),
          strategy: 'funding',
          reason: `funding_hedge:${plan.symbol}`,
        });
        hedged = h.status !== 'rejected';
      }
      return { trimmed, hedged };
    },
  });
  for (const v of engineVenues)
    stopValidators.set(
      v.id,
      createStopValidator({
        venue: v.id,
        node: config.NODE_ID,
        gateway: () => v.gateway,
        kv: store.kv,
        journal: store.journal,
        metrics,
        log: deps.log,
        now,
        symbols: () => symbols,
        ownedPosition: (symbol) => book.ownedPosition(v.id, symbol),
        price: (symbol) => engine.price(v.id, symbol),
        stopLossPct: config.STOP_LOSS_PCT,
        repair: config.STOP_VALIDATOR_REPAIR,
        notifyEnabled: config.STOPVAL_NOTIFY_ENABLED,
        intervalMs: config.STOP_VALIDATOR_INTERVAL_SEC * 1000,
        ...(deps.notify ? { notify: deps.notify } : {}),
        onTriggered: () => {
          void engine
            .reconcileAll()
            .catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'reconcile after a stop fill failed'));
        },
      }),
    );

  // ── events.external_feed and the event breakout (on the first venue that lists the symbol) ──
  const externalFeed = createExternalFeed();
  const breakout = createBreakout({
    feed: externalFeed,
    enabled: config.EVENT_BREAKOUT_ENABLED,
    dryRun: config.EVENT_BREAKOUT_DRY_RUN,
    kpis: config.EVENT_BREAKOUT_METRICS,
    symbols,
    params: BREAKOUT_DEFAULTS,
    metrics,
    log,
    submit: (d) =>
      engine.submitStrategy({
        venue: venuesList[0] as VenueId,
        symbol: d.symbol,
        side: d.side,
        quote: resolveRiskLimits(config, policies(), d.symbol).maxNotionalUsdt,
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
      allocationGuards.notePrice(venue, symbol, p, t.receivedAt);
      if (venue === venuesList[0]) void breakout.price(symbol, p, t.receivedAt);
    },
  });
  const calibrator = createCalibrator({ lookup, log, env });

  // ── portfolio.json ──
  // The hashes of the last two files Bosun wrote: the newer is recorded before the file is replaced, so after a
  // crash between the two steps the file on disk (the previous one) is still recognised as Bosun's own, never
  // mistaken for an operator adjustment (which would load a stale baseline).
  const HASHES_KEY = 'portfolio_file_hashes';
  const ownHashes = () => store.kv.get<string[]>(HASHES_KEY) ?? [];
  const hashOnDisk = (): string | undefined => {
    try {
      const h = (JSON.parse(readFileSync(config.PORTFOLIO_PATH, 'utf8')) as { hash?: unknown }).hash;
      return typeof h === 'string' ? h : undefined;
    } catch {
      return undefined;
    }
  };
  const portfolioFile = createPortfolioFile(config.PORTFOLIO_PATH, () => {
    const own = ownHashes();
    const onDisk = hashOnDisk();
    return onDisk !== undefined && own.includes(onDisk) ? onDisk : own.at(-1);
  });
  let lastDoc: ReturnType<typeof buildPortfolioDocument> | undefined;
  function portfolioDoc() {
    const val = book.valuation(engine.assetPrices());
    return buildPortfolioDocument(book.ledger(), val, store.journal.lastSeq(), now());
  }
  async function writePortfolio(): Promise<void> {
    const doc = portfolioDoc();
    await store.kv.put(HASHES_KEY, [...ownHashes().slice(-1), doc.hash]);
    portfolioFile.write(doc);
    lastDoc = doc;
  }

  const timers: NodeJS.Timeout[] = [];

  /** A halt at any scope cancels Bosun's resting entry orders in that scope (edge-triggered). */
  const halted = new Set<string>();
  function onGovernance(g: GovernanceState): void {
    const current = new Set<string>();
    if (g.global.state === 'HALTED') current.add('global');
    for (const [v, s] of Object.entries(g.venues)) if (s.state === 'HALTED') current.add(`venue|${v}`);
    for (const [k, s] of Object.entries(g.symbols)) if (s.state === 'HALTED') current.add(`symbol|${k}`);
    // Before boot recovery has finished nothing is recorded as handled: recovery re-applies every restored
    // scope itself (engine.cancelRefused), and a scope seen first here must still cancel once accepting.
    if (!engine.accepting()) return;
    for (const key of current) {
      if (halted.has(key)) continue;
      const [kind, rest = ''] = key.split('|') as [string, string?];
      const [venue, symbol] = rest.split(':');
      const scope = kind === 'global' ? {} : kind === 'venue' ? { venue } : { venue, symbol };
      void engine
        .cancelOpen(scope as { venue?: string; symbol?: string })
        .then((n) => {
          if (n > 0) log.warn({ scope: key, cancelled: n }, 'trading halted: resting entry orders cancelled');
        })
        .catch((e: unknown) => log.error({ err: errorMessage(e) }, 'cancel on halt failed'));
    }
    halted.clear();
    for (const k of current) halted.add(k);
  }

  // ── subtrees ──
  function venueExtras(
    venue: string,
    hooks: SupervisorHooks,
  ): Array<{ spec: ChildSpec; logics: Record<string, unknown> }> {
    const breakerId = actorId.venueBreaker(venue);
    const breaker = venueBreakerMachine.provide({
      actions: {
        'breaker.publish': ({ context }) => {
          const v = venueBreakerView(context);
          metrics.venueErrorRatePct.set({ venue }, v.errorPct);
          breakerStates.publish(breakerId, context);
        },
      },
    });
    const sym = buildSymbolsSupervisor({
      venue,
      symbols: liveSymbols[venue] ?? symbols,
      barMs: config.BAR_MS,
      baseCooldownMs: config.ORDER_COOLDOWN_SEC * 1000,
      env,
      // Fail closed: no governance view, nothing trades.
      trading: (v, s) => {
        const g = governance();
        return g ? effectiveState(g, v, s) : 'HALTED';
      },
      onSignal: (e) => engine.onSignal(e),
      calibrator,
      metrics,
      hooks,
      now,
    });
    symbolSpecs.set(venue, sym.child);
    return [
      {
        spec: {
          id: breakerId,
          src: `breaker:${venue}`,
          flavour: 'guard',
          shutdownMs: 0,
          input: breakerStates.spawnInput(breakerId, {
            venue,
            tripPct: config.VENUE_ERROR_BREAKER_PCT,
            window: config.VENUE_ERROR_WINDOW,
            minSamples: Math.min(10, config.VENUE_ERROR_WINDOW),
          }),
        },
        logics: { [`breaker:${venue}`]: breaker },
      },
      sym,
      // guards:<venue>: depeg and funding, and stopval:<venue> (every position has a live server-side stop).
      ...(() => {
        const stopval = stopValidators.get(venue);
        const g = guards.buildGuardsSubtree(venue, hooks, stopval ? [stopval.child()] : []);
        return g ? [g] : [];
      })(),
    ];
  }

  function riskSubtree(hooks: SupervisorHooks) {
    const id = actorId.equityBreaker();
    const limits = resolveRiskLimits(config, policies());
    const breaker = equityBreakerMachine.provide({
      actions: {
        'breaker.publish': ({ context }) => {
          const v = equityBreakerView(context);
          metrics.riskEquityBufferUsd.set(v.bufferUsd);
          metrics.riskEquityFloorBreach.set(v.tripped && v.reason === 'equity_floor' ? 1 : 0);
          metrics.riskEquityDrawdownPct.set(v.drawdownPct);
          breakerStates.publish(id, context);
        },
      },
    });
    const sup = createSupervisor({
      strategy: 'one_for_all',
      intensity: 3,
      periodMs: 60_000,
      backoff: { minMs: 250, maxMs: 8_000, factor: 2, jitter: 0.2, resetAfterMs: 30_000, immediateFirst: true },
      now,
      hooks,
      logics: { equity: breaker },
      children: [
        {
          id,
          src: 'equity',
          flavour: 'guard',
          shutdownMs: 0,
          input: breakerStates.spawnInput(id, {
            floorUsd: limits.equityFloorUsd,
            maxDrawdownPct: limits.maxDrawdownPct,
            cooldownSec: limits.equityCooldownSec,
          }),
        },
      ],
    });
    return { spec: { id: actorId.risk(), src: 'risk', shutdownMs: 1_000 } as ChildSpec, logics: { risk: sup } };
  }

  // ── boot recovery (DESIGN §6) ──
  async function recover(): Promise<{
    snapshotLoaded: boolean;
    reconciled: Awaited<ReturnType<typeof engine.reconcileAll>>;
  }> {
    // 1. portfolio baseline: an operator-edited portfolio.json wins (audited); otherwise LMDB's ledger.
    const file = portfolioFile.read();
    let snapshotLoaded = false;
    if (file.status === 'operator_edited' && file.doc) {
      for (const [venue, v] of Object.entries(file.doc.ledger.venues)) {
        if (!venuesList.includes(venue as VenueId)) continue;
        const before = book.ledger().venues[venue]?.balances ?? null;
        await book.baseline(venue, v.balances, now());
        await store.audit.append({
          actor: 'operator',
          action: 'portfolio.adjust',
          target: `venue:${venue}`,
          before,
          after: v.balances,
          result: 'applied',
          reason: 'state/portfolio.json differs from what Bosun last wrote: loaded as the baseline',
        });
        await store.journal.append({
          type: 'portfolio.baseline',
          venue,
          source: 'operator_edited',
          balances: v.balances,
        });
      }
      log.warn({ path: config.PORTFOLIO_PATH }, 'operator-edited portfolio.json loaded as the baseline (audited)');
      snapshotLoaded = true;
    } else if (file.status === 'ours') {
      snapshotLoaded = true;
    } else if (file.status === 'corrupt') {
      log.warn({ path: config.PORTFOLIO_PATH, detail: file.detail }, 'portfolio.json unreadable: LMDB ledger in force');
    }
    // 2. first boot of a venue: its balances are the baseline (and the trade cursor: trades before it are in
    //    those balances). A transient venue error (Kraken's `Invalid nonce` when two private calls cross on the
    //    wire, a 5xx, a 429) is retried a few times, not a startup failure.
    const bootRead = <T>(venue: string, what: string, read: () => Promise<T>): Promise<T> =>
      retryTransient(
        {
          attempts: 6,
          backoff: { firstMs: 250, maxMs: 2_000 },
          sleep: deps.sleep ?? realSleep,
          onRetry: (attempt, delayMs, e) =>
            log.warn(
              { venue, what, attempt, delayMs, err: errorMessage(e) },
              'boot recovery: transient venue error, retrying',
            ),
        },
        read,
      );
    await Promise.all(
      engineVenues.map(async (v) => {
        await bootRead(v.id, 'loadMarkets', () => v.gateway.loadMarkets());
        if (book.hasVenue(v.id)) return;
        const b = await bootRead(v.id, 'fetchBalances', () => v.gateway.fetchBalances('spot'));
        const balances = Object.fromEntries(Object.entries(b).map(([a, e]) => [a, e.total]));
        await book.baseline(v.id, balances, now());
        await store.journal.append({ type: 'portfolio.baseline', venue: v.id, source: 'venue', balances });
      }),
    );
    // 3. the journal is materialised into LMDB atomically with every fill, so there is nothing to replay beyond it.
    //    Every order the crash left takes its slot and reservation first; then every open/unknown order is
    //    resolved by clientOrderId and fills and balances are reconciled. Only then is anything accepted (a venue
    //    whose reconciliation failed stays refused until one succeeds), and every HALTED/REDUCING scope restored
    //    from LMDB is applied again: the resting entries a kill -9 left are cancelled.
    engine.takeSlots();
    const reconciled = await engine.reconcileAll();
    engine.setAccepting(true);
    const cancelled = await engine.cancelRefused();
    if (cancelled > 0) log.warn({ cancelled }, 'boot: resting entries in halted or reducing scopes cancelled');
    metrics.reconcileLagSeconds.set(engine.reconcileLagSeconds());
    await writePortfolio();
    return { snapshotLoaded, reconciled };
  }

  function startLoops(): void {
    const every = (ms: number, fn: () => Promise<unknown> | undefined) => {
      let busy = false;
      const t = setInterval(() => {
        if (busy) return;
        busy = true;
        Promise.resolve(fn())
          .catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'periodic task failed'))
          .finally(() => {
            busy = false;
          });
      }, ms);
      t.unref();
      timers.push(t);
    };
    every(config.RECONCILE_INTERVAL_SEC * 1000, () => engine.reconcileAll());
    every(config.PORTFOLIO_SNAPSHOT_SEC * 1000, () => writePortfolio());
    // A venue whose reconciliation failed (budget, outage) is retried every 5 s, not only every interval.
    every(5_000, () => (engine.unreconciledVenues().length > 0 ? engine.reconcileAll() : undefined));
    every(1_000, async () => {
      metrics.reconcileLagSeconds.set(engine.reconcileLagSeconds());
      const val = book.valuation(engine.assetPrices());
      lookup(actorId.equityBreaker())?.send({ type: 'equity.update', equityUsd: val.equityUsd, at: now() });
      // Auto-cutback sees the breakers as the rails do (an unavailable breaker counts as tripped: fail closed).
      const eqRef = breakerSnapshot(actorId.equityBreaker());
      const drawdownPct = eqRef ? equityBreakerView(eqRef.getSnapshot().context).drawdownPct : 0;
      const tripped = equityBreaker().tripped || venuesList.some((v) => venueBreaker(v).tripped);
      await allocationGuards.observe({ at: now(), drawdownPct, tripped });
      allocationGuards.refreshWeights();
    });
  }

  const port: TradingPort = {
    submitOrder: (req) => engine.submitOperator(req),
    listOrders(q) {
      const out = [];
      for (const r of store.orders.list()) {
        if (q.venue && r.venue !== q.venue) continue;
        if (q.symbol && r.symbol !== q.symbol) continue;
        const v = toOrderView(r);
        if (q.open && ['filled', 'cancelled', 'rejected'].includes(v.status)) continue;
        out.push(v);
      }
      out.sort((a, b) => b.createdAt - a.createdAt || b.clientOrderId.localeCompare(a.clientOrderId));
      return out.slice(0, q.limit);
    },
    portfolio: () => ({
      ...portfolioDoc(),
      file: { path: config.PORTFOLIO_PATH, lastWrittenAt: lastDoc?.writtenAt ?? null },
    }),
    async reconcile(actor) {
      if (!engine.accepting()) throw new AppError('NOT_READY', 'boot recovery has not finished');
      const r = await engine.reconcileAll();
      log.info({ actor, fillsApplied: r.fillsApplied }, 'manual reconciliation');
      return r;
    },
    weights: () => {
      const w = weights();
      return { weights: { ...w.weights }, raw: { ...w.raw } as Record<string, number> };
    },
    async setWeights(input, actor) {
      const parsed = StrategyWeightsFileSchema.safeParse({ weights: input });
      if (!parsed.success)
        throw new AppError('VALIDATION_FAILED', parsed.error.issues.map((i) => i.message).join('; '));
      writeFileAtomic(config.STRATEGY_WEIGHTS_PATH, `${JSON.stringify({ weights: input }, null, 2)}\n`);
      ops.set('strategy_weights', parsed.data);
      log.info({ actor, weights: parsed.data.weights }, 'strategy weights updated');
      return port.weights();
    },
    breakers(): BreakerView[] {
      const out: BreakerView[] = [];
      const eq = breakerSnapshot(actorId.equityBreaker());
      const ev = eq ? equityBreakerView(eq.getSnapshot().context) : undefined;
      out.push({
        id: actorId.equityBreaker(),
        tripped: ev?.tripped ?? true,
        reason: ev?.reason ?? 'breaker_unavailable',
        since: ev?.since ?? null,
      });
      for (const v of venuesList) {
        const ref = breakerSnapshot(actorId.venueBreaker(v));
        const vv = ref ? venueBreakerView(ref.getSnapshot().context) : undefined;
        out.push({
          id: actorId.venueBreaker(v),
          tripped: vv?.tripped ?? true,
          reason: vv?.reason ?? 'breaker_unavailable',
          since: vv?.since ?? null,
        });
      }
      return out;
    },
    async resetBreaker(id, actor) {
      const known = [actorId.equityBreaker(), ...venuesList.map((v) => actorId.venueBreaker(v))];
      if (!known.includes(id)) throw new AppError('NOT_FOUND', `no breaker '${id}' (known: ${known.join(', ')})`);
      const ref = breakerSnapshot(id);
      if (!ref) throw new AppError('ACTOR_UNAVAILABLE', `breaker '${id}' is not running`);
      ref.send({ type: 'breaker.reset', at: now(), by: actor });
      const view = port.breakers().find((b) => b.id === id);
      if (!view) throw new AppError('NOT_FOUND', `no breaker '${id}'`);
      return view;
    },
    stops() {
      return [...stopValidators.values()].map((sv) => {
        const ref = breakerSnapshot(sv.id);
        const c = ref ? stopValidatorView(ref.getSnapshot().context) : undefined;
        return {
          ...sv.view(),
          health: c?.health ?? { value: 'HALTED', reason: 'actor_unavailable' },
          passes: c?.passes ?? 0,
          lastPassAt: c?.lastPassAt ?? null,
          missingTotal: c?.missingTotal ?? 0,
          placedTotal: c?.placedTotal ?? 0,
        };
      });
    },
    async resetAutoTune(actor) {
      const removed = autoTuneFile.remove();
      autoTune = autoTuneFile.load().state;
      log.info({ actor, params: autoTune.params }, '[TREND-AUTO] reset to env defaults');
      broadcastEnv();
      return { reset: removed };
    },
  };

  return {
    engine,
    router,
    guards,
    /** `GET /guards`, `POST /guards/depeg/rearm`. */
    guardsPort: guards.port,
    externalFeed,
    breakout,
    calibrator,
    book,
    port,
    env,
    venueExtras,
    /** The stop validators by venue (their `child()` is the ChildSpec + logic for any supervisor). */
    stopValidators,
    allocationGuards,
    riskSubtree,
    recover,
    startLoops,
    onGovernance,
    /** The venue link's gateway replaces the raw one, so order traffic counts toward conn and is blocked with it. */
    useLinkedGateway(venue: string, gw: VenueGateway): void {
      const ev = engineVenues.find((v) => v.id === venue);
      if (ev) ev.gateway = gw;
    },
    /** The live symbol set of a venue (feed, engine) and the scanner's hooks to change it. */
    liveSymbols: (venue: string): readonly string[] => liveSymbols[venue] ?? [],
    setLiveSymbols(venue: string, list: readonly string[]): void {
      liveSymbols[venue] = [...list];
    },
    symbolSpec(venue: string, symbol: string): ChildSpec {
      const f = symbolSpecs.get(venue);
      if (!f) throw new AppError('NOT_FOUND', `no symbols supervisor for '${venue}'`);
      return f(symbol);
    },
    /** Symbols whose actor must stay: a strategy position, or a protective order (reduce-only, stop) resting. */
    protectedSymbols(venue: string): Set<string> {
      const out = new Set<string>();
      for (const s of liveSymbols[venue] ?? []) if (book.ownedPosition(venue, s) > 0) out.add(s);
      for (const r of store.orders.listOpen()) {
        if (r.venue !== venue) continue;
        const type = String(r.type ?? '');
        if (r.reduceOnly === true || type.startsWith('stop') || type.startsWith('take_profit'))
          out.add(String(r.symbol));
      }
      return out;
    },
    /** ops/policies.yaml's allow/block lists (the scanner's candidates pass it). */
    symbolAllowed: (symbol: string) => isSymbolAllowedByPolicy(policies(), symbol),
    allocations,
    maxNotionalUsdt: (symbol: string) => resolveRiskLimits(config, policies(), symbol).maxNotionalUsdt,
    equityUsd: () => book.valuation(engine.assetPrices()).equityUsd,
    /** The executor's own position in USD at the latest price the engine has (null before any). */
    positionUsd(venue: string, symbol: string): { usd: number; price: number } | null {
      const p = engine.price(venue, symbol);
      return p === undefined ? null : { usd: book.executorPosition(venue, symbol) * p, price: p };
    },
    /** Cancels a symbol's resting entry orders (reduce-only orders and stops stay; see engine.cancelOpen). */
    drain: (venue: string, symbol: string) => engine.cancelOpen({ venue, symbol }),
    onVenueOutcome(venue: string, ok: boolean): void {
      lookup(actorId.venueBreaker(venue))?.send({ type: 'breaker.result', ok, at: now() });
    },
    async stop(): Promise<void> {
      for (const t of timers) clearInterval(t);
      if (engine.accepting()) await writePortfolio();
      engine.setAccepting(false);
    },
  };
}

export type Trading = ReturnType<typeof createTrading>;
