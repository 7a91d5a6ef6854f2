import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric Bosun exports, created once on one registry that is passed down (never prom-client's global).
 * Names are exactly the runbook's (DESIGN §10); labels are bounded sets only.
 */
export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const r = [registry];
  // Counts kept outside prom-client and added in at each scrape (see `onStrategyTicksCollect`).
  const tickFlushers = new Set<() => void>();
  const m = {
    registry,
    /**
     * Registers a flush that adds pending `strategy_ticks_total` counts, run before every read of that counter. The
     * tick router counts ticks per symbol in a plain integer: a labelled `inc()` builds a label-hash string and a
     * result object per call, which was most of what a tick allocated (issue 17). Returns the unregister function.
     */
    onStrategyTicksCollect(flush: () => void): () => void {
      tickFlushers.add(flush);
      return () => tickFlushers.delete(flush);
    },
    // health and liveness
    healthState: new Gauge({
      name: 'health_state',
      help: 'Actor health: 0=OK, 1=DEGRADED, 2=HALTED',
      labelNames: ['actor'],
      registers: r,
    }),
    heartbeat: new Gauge({
      name: 'metrics_heartbeat',
      help: 'Unix seconds of the last heartbeat from a live actor; stale means a stuck runtime',
      registers: r,
    }),
    supervisorRestarts: new Counter({
      name: 'supervisor_restarts_total',
      help: 'Child restarts performed by supervisors',
      labelNames: ['supervisor', 'child'],
      registers: r,
    }),
    supervisorEscalations: new Counter({
      name: 'supervisor_escalations_total',
      help: 'Supervisors that exceeded their restart intensity',
      labelNames: ['supervisor'],
      registers: r,
    }),
    eventLoopDelay: new Gauge({
      name: 'event_loop_delay_p99_ms',
      help: 'Event-loop delay p99 over the last heartbeat window, ms',
      registers: r,
    }),
    actorCount: new Gauge({ name: 'actors_live', help: 'Live actors in the tree', registers: r }),
    // governance
    tradingEnabled: new Gauge({
      name: 'metrics_trading_enabled',
      help: 'Effective global trading state: 1 ACTIVE, 0.5 REDUCING, 0 HALTED',
      registers: r,
    }),
    tradingStateScope: new Gauge({
      name: 'trading_state',
      help: 'Trading state per scope: 0 ACTIVE, 1 REDUCING, 2 HALTED',
      labelNames: ['scope'],
      registers: r,
    }),
    opsCommands: new Counter({
      name: 'ops_commands_total',
      help: 'Operator commands by route and result',
      labelNames: ['command', 'result'],
      registers: r,
    }),
    authFailures: new Counter({
      name: 'ops_auth_failures_total',
      help: 'Mutating requests refused for a missing or wrong token',
      registers: r,
    }),
    // config
    configReloadErrors: new Counter({
      name: 'config_reload_errors_total',
      help: 'Hot-reloads of ops/* files that failed validation (last good kept)',
      labelNames: ['file'],
      registers: r,
    }),
    configReloads: new Counter({
      name: 'config_reloads_total',
      help: 'Hot-reloads of ops/* files applied',
      labelNames: ['file'],
      registers: r,
    }),
    // store
    journalSeq: new Gauge({ name: 'journal_sequence', help: 'Last journal sequence number committed', registers: r }),
    storeCommitErrors: new Counter({
      name: 'store_commit_errors_total',
      help: 'LMDB commits that failed',
      registers: r,
    }),
    // portfolio
    equityUsd: new Gauge({ name: 'equity_usd', help: 'Total equity in USD (cash + market value)', registers: r }),
    cashUsd: new Gauge({ name: 'cash_usd', help: 'Cash in USD', registers: r }),
    marketValueUsd: new Gauge({ name: 'market_value_usd', help: 'Market value of positions in USD', registers: r }),
    krakenEquityUsd: new Gauge({ name: 'kraken_equity_usd', help: 'Equity held at Kraken in USD', registers: r }),
    venueEquityUsd: new Gauge({
      name: 'venue_equity_usd',
      help: 'Equity per venue in USD',
      labelNames: ['venue'],
      registers: r,
    }),
    venueExposureUsd: new Gauge({
      name: 'venue_exposure_usd',
      help: 'Gross exposure per venue in USD (from the ledger)',
      labelNames: ['venue'],
      registers: r,
    }),
    ledgerVenueDrift: new Gauge({
      name: 'ledger_venue_drift',
      help: "The venue's balance minus the ledger's, per venue and asset (the ledger is the one book)",
      labelNames: ['venue', 'asset'],
      registers: r,
    }),
    ledgerVenueDriftTolerance: new Gauge({
      name: 'ledger_venue_drift_tolerance',
      help: "Drift tolerated per venue and asset: twice the asset's step on the venue, else 0.01",
      labelNames: ['venue', 'asset'],
      registers: r,
    }),
    // risk
    riskEquityBufferUsd: new Gauge({
      name: 'risk_equity_buffer_usd',
      help: 'Equity above the equity floor, USD',
      registers: r,
    }),
    riskEquityFloorBreach: new Gauge({
      name: 'risk_equity_floor_breach',
      help: '1 while equity is below the floor',
      registers: r,
    }),
    riskEquityDrawdownPct: new Gauge({
      name: 'risk_equity_drawdown_pct',
      help: 'Drawdown from peak equity, percent',
      registers: r,
    }),
    riskDepegActive: new Gauge({ name: 'risk_depeg_active', help: '1 while the depeg guard is tripped', registers: r }),
    breakerRejections: new Counter({
      name: 'breaker_rejections_total',
      help: 'Pre-trade rejections by reason',
      labelNames: ['reason'],
      registers: r,
    }),
    venueErrorRatePct: new Gauge({
      name: 'venue_error_rate_pct',
      help: 'Venue request error rate over the breaker window, percent',
      labelNames: ['venue'],
      registers: r,
    }),
    venueErrors: new Counter({
      name: 'engine_venue_errors_total',
      help: 'Venue request errors',
      labelNames: ['venue', 'kind'],
      registers: r,
    }),
    streamFills: new Counter({
      name: 'engine_stream_fills_total',
      help: 'Fills that reached the ledger (spot) or the perp book (linear) by the user-data stream; the rest came by REST',
      labelNames: ['venue', 'market'],
      registers: r,
    }),
    venueLocalRefusals: new Counter({
      name: 'engine_venue_local_refusals_total',
      help: "Calls Bosun's own request budget refused before sending (not venue errors), by priority class",
      labelNames: ['venue', 'priority'],
      registers: r,
    }),
    stopValidatorMissing: new Counter({
      name: 'stop_validator_missing_total',
      help: 'Open positions found without a live server-side stop',
      labelNames: ['venue', 'symbol'],
      registers: r,
    }),
    // strategy and orders
    strategyTicks: new Counter({
      name: 'strategy_ticks_total',
      help: 'Ticks processed by symbol actors',
      labelNames: ['venue', 'symbol'],
      registers: r,
      collect() {
        for (const flush of tickFlushers) flush();
      },
    }),
    tickToOrderMs: new Histogram({
      name: 'strategy_tick_to_order_latency_ms',
      help: 'Tick receipt to order hand-off to the gateway, ms',
      labelNames: ['venue'],
      buckets: [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 150, 250, 500, 1000, 2500],
      registers: r,
    }),
    ordersSubmitted: new Counter({
      name: 'orders_submitted_total',
      help: 'Orders handed to a venue',
      labelNames: ['venue', 'side'],
      registers: r,
    }),
    reconcileLagSeconds: new Gauge({
      name: 'reconcile_lag_seconds',
      help: 'Seconds since the last successful reconciliation',
      registers: r,
    }),
    trendSignals: new Counter({
      name: 'trend_follow_signals_total',
      help: 'Trend-follow signals emitted',
      registers: r,
    }),
    trendTrades: new Counter({ name: 'trend_follow_trades_total', help: 'Trend-follow trades placed', registers: r }),
    scannerScore: new Gauge({
      name: 'symbol_scanner_score',
      help: 'Latest scanner score per symbol',
      labelNames: ['venue', 'symbol'],
      registers: r,
    }),
    scannerSelected: new Counter({
      name: 'symbol_scanner_selected_total',
      help: 'Symbols selected into the shortlist',
      registers: r,
    }),
    externalFeedLastEvent: new Gauge({
      name: 'external_feed_last_event_epoch',
      help: 'Unix seconds of the last accepted external event',
      labelNames: ['source'],
      registers: r,
    }),
    breakoutDecisions: new Counter({
      name: 'event_breakout_decisions_total',
      help: 'Event breakout decisions (mode dry_run or live)',
      labelNames: ['mode', 'side'],
      registers: r,
    }),
    breakoutLatencyMs: new Histogram({
      name: 'event_breakout_trigger_latency_ms',
      help: 'External event to breakout decision, ms (EVENT_BREAKOUT_METRICS)',
      buckets: [100, 1_000, 10_000, 60_000, 300_000, 900_000],
      registers: r,
    }),
    breakoutSlippageBps: new Histogram({
      name: 'event_breakout_slippage_bps',
      help: 'Breakout fill price against the trigger price, bps, positive = worse (EVENT_BREAKOUT_METRICS)',
      buckets: [-50, -10, -5, 0, 5, 10, 25, 50, 100],
      registers: r,
    }),
    orderSlippageBps: new Histogram({
      name: 'order_slippage_bps',
      help: 'Every filled order: average fill against the mid when it was sent, bps, positive = cost',
      labelNames: ['venue', 'market', 'symbol', 'side', 'strategy', 'liquidity'],
      buckets: [-25, -10, -5, -2, 0, 1, 2, 4, 6, 8, 10, 15, 25, 50, 100],
      registers: r,
    }),
    // maker mode (issue #16 item 3): shadow KPIs and live post-only orders
    makerShadowOrders: new Counter({
      name: 'maker_shadow_orders_total',
      help: 'Taker orders given a shadow post-only alternative at the touch, by outcome (filled, missed)',
      labelNames: ['venue', 'market', 'symbol', 'outcome'],
      registers: r,
    }),
    makerShadowFillRate: new Gauge({
      name: 'maker_shadow_fill_rate',
      help: 'Share of shadow post-only alternatives that would have filled within MAKER_TIMEOUT_SEC (0..1)',
      labelNames: ['venue', 'market'],
      registers: r,
    }),
    makerShadowImprovementBps: new Histogram({
      name: 'maker_shadow_improvement_bps',
      help: 'Would-be maker fill price against the taker fill, bps, positive = better than taking',
      labelNames: ['venue', 'market'],
      buckets: [-10, -5, 0, 1, 2, 4, 6, 8, 10, 15, 25, 50],
      registers: r,
    }),
    makerShadowAdverseBps: new Histogram({
      name: 'maker_shadow_adverse_bps',
      help: 'Mid move against the position from the would-be maker fill to the timeout, bps, positive = adverse',
      labelNames: ['venue', 'market'],
      buckets: [-25, -10, -5, 0, 2, 5, 10, 25, 50],
      registers: r,
    }),
    makerShadowMissedCostBps: new Histogram({
      name: 'maker_shadow_missed_cost_bps',
      help: 'Missed would-be maker fills: the price at the timeout against the taker fill, bps, positive = cost',
      labelNames: ['venue', 'market'],
      buckets: [-25, -10, -5, 0, 2, 5, 10, 25, 50],
      registers: r,
    }),
    makerLiveOrders: new Counter({
      name: 'maker_live_orders_total',
      help: 'Live post-only orders by outcome (filled, timeout_taker, timeout_cancelled, rejected_taker, killed)',
      labelNames: ['venue', 'market', 'outcome'],
      registers: r,
    }),
    // telegram notifier (DESIGN §9)
    notifierSent: new Counter({
      name: 'notifier_alerts_sent_total',
      help: 'Telegram messages accepted by the Bot API',
      registers: r,
    }),
    notifierSuppressed: new Counter({
      name: 'notifier_alerts_suppressed_total',
      help: 'Alerts collapsed into another message by deduplication',
      registers: r,
    }),
    notifierQueueDepth: new Gauge({
      name: 'notifier_queue_depth',
      help: 'Telegram messages queued in LMDB, not yet accepted',
      registers: r,
    }),
    notifierFailures: new Counter({
      name: 'notifier_send_failures_total',
      help: 'Failed Telegram sends (rate_limited, http, network) and alerts dropped from a full queue (dropped)',
      labelNames: ['kind'],
      registers: r,
    }),
    // ── POST /events/external (Grafana: External Feed Event Rate, Fetch Latency p90, Last Event Age, Error Rate) ──
    externalFeedEvents: new Counter({
      name: 'external_feed_events_total',
      help: 'External events accepted and published onto events.external_feed',
      labelNames: ['source'],
      registers: r,
    }),
    externalFeedErrors: new Counter({
      name: 'external_feed_errors_total',
      help: 'External events refused (source "unknown" before the body is verified and parsed)',
      labelNames: ['source', 'reason'],
      registers: r,
    }),
    externalFeedFetchLatencyMs: new Histogram({
      name: 'external_feed_fetch_latency_ms',
      help: 'Request received to event published, ms (signature check, parse, validation, publish)',
      labelNames: ['source'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250],
      registers: r,
    }),
    // ── guards (issue 5: funding guard) ──
    fundingRatePct: new Gauge({
      name: 'funding_rate_pct',
      help: 'Latest funding rate per perpetual, % per funding interval',
      labelNames: ['symbol'],
      registers: r,
    }),
    fundingTrims: new Counter({ name: 'funding_trims_total', help: 'Funding-spike trims sent', registers: r }),
    fundingHedges: new Counter({ name: 'funding_hedges_total', help: 'Funding-spike BTC hedges sent', registers: r }),
    fundingSpikeActive: new Gauge({
      name: 'funding_spike_active',
      help: '1 while a funding rate is above FUNDING_SPIKE_THRESHOLD_PCT',
      registers: r,
    }),
    // ── funding hedge and perpetual funding (issue 16) ──
    fundingHedgeNotional: new Gauge({
      name: 'funding_hedge_notional_usdt',
      help: 'Funding hedge position per symbol, signed USDT at the latest price (its own position owner)',
      labelNames: ['venue', 'symbol'],
      registers: r,
    }),
    fundingHedgePnl: new Gauge({
      name: 'funding_hedge_pnl_usdt',
      help: 'Funding hedge PnL per venue: cash flows of its fills plus what it holds at the latest price, USDT',
      labelNames: ['venue'],
      registers: r,
    }),
    perpFundingUsdt: new Gauge({
      name: 'perp_funding_usdt',
      help: 'Funding received (> 0) or paid (< 0) on perpetual positions since the perp baseline, per venue, USDT',
      labelNames: ['venue'],
      registers: r,
    }),
    // allocation guards
    autoCutbackScale: new Gauge({
      name: 'auto_cutback_scale',
      help: 'Size multiplier applied to every target position by auto-cutback, in [floor, 1]',
      registers: r,
    }),
    riskParityWeight: new Gauge({
      name: 'risk_parity_weight',
      help: 'Inverse-volatility weight of a symbol within its venue allocation (RISK_PARITY_ENABLED)',
      labelNames: ['venue', 'symbol'],
      registers: r,
    }),
    // ── executor, screener (issue 5 items 5–7) ──
    executorOrders: new Counter({
      name: 'executor_orders_total',
      help: 'Executor rebalance orders (mode dry_run: logged only; live: passed the rails and sent)',
      labelNames: ['mode'],
      registers: r,
    }),
    screenerRateLimited: new Counter({
      name: 'screener_rate_limited_total',
      help: 'Screener/universe requests refused with 429 (per-client rate limit)',
      labelNames: ['listener'],
      registers: r,
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

export const HEALTH_VALUE = { OK: 0, DEGRADED: 1, HALTED: 2 } as const;
