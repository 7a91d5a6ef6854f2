import type { AnyActorRef } from 'xstate';
import type { Config } from '../config/load-config.js';
import type { Logger } from '../logging/logger.js';
import type { GovernanceState } from '../machines/governance.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RuntimeDeps, RuntimeOptions, SubtreeProvider } from '../supervisor/runtime.js';
import type { SupervisorHooks } from '../supervisor/supervisor.js';
import type { MarketStream } from '../venues/streams/market-stream.js';
import type { UserDataStream } from '../venues/streams/user-data-stream.js';
import type { VenueGateway } from '../venues/venue-gateway.js';
import { accountRefreshMs, MIN_TICKER_POLL_MS } from '../venues/venue-limits.js';
import type { AccountBook } from './account-book.js';
import { createExecutor } from './executor.actors.js';
import type { RoutedTick } from './tick-router.js';
import type { Trading } from './trading.actors.js';
import { buildVenueSubtree } from './venue.actors.js';

/**
 * The pieces of the supervised tree as `main.ts` assembles them from config, in one place, so the in-process test
 * stacks and the end-to-end bench build the same tree instead of copies of it that drift.
 */
type TreeConfig = Pick<
  Config,
  | 'TRADING_ENABLED'
  | 'HEARTBEAT_SEC'
  | 'RESTART_INTENSITY'
  | 'RESTART_PERIOD_SEC'
  | 'SHUTDOWN_TIMEOUT_MS'
  | 'FEED_POLL_MS'
  | 'EXECUTOR_ENABLED'
  | 'DRY_RUN'
  | 'EXEC_INTERVAL_SEC'
  | 'VENUES'
  | 'MIN_TRADE_USDT'
  | 'KRAKEN_TIER'
  | 'VENUE_CLOCK_OFFSET_MAX_MS'
>;

/** The runtime's options from config. */
export function runtimeOptions(config: TreeConfig): RuntimeOptions {
  return {
    tradingEnabled: config.TRADING_ENABLED,
    heartbeatMs: config.HEARTBEAT_SEC * 1000,
    maxLoopDelayMs: 200,
    restartIntensity: config.RESTART_INTENSITY,
    restartPeriodMs: config.RESTART_PERIOD_SEC * 1000,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  };
}

/**
 * The runtime's wiring to the trading pipeline: every published trading state reaches the engine (it cancels
 * resting orders on a halt), and a tightening is acknowledged only once the creates already handed to a venue
 * are answered (fail closed). `onGovernance` adds a listener after the engine's (main.ts: the alerts).
 */
export function tradingRuntimeDeps(d: {
  trading: Trading;
  store: Pick<RuntimeDeps, 'kv'> & { journal: NonNullable<RuntimeDeps['journal']> };
  metrics: Metrics;
  log: Logger;
  onGovernance?: (g: GovernanceState) => void;
}): Pick<RuntimeDeps, 'metrics' | 'log' | 'kv' | 'journal' | 'onGovernance' | 'afterTighten'> {
  const { trading, onGovernance } = d;
  return {
    metrics: d.metrics,
    log: d.log,
    kv: d.store.kv,
    journal: d.store.journal,
    onGovernance: (g) => {
      trading.onGovernance(g);
      onGovernance?.(g);
    },
    afterTighten: () => trading.engine.quiesce(),
  };
}

export interface TradedVenueDeps {
  config: TreeConfig;
  venue: string;
  gateway: VenueGateway;
  trading: Trading;
  book: AccountBook;
  metrics: Metrics;
  log: Logger;
  lookup: (systemId: string) => AnyActorRef | undefined;
  hooks: SupervisorHooks;
  /** Sees each tick before the router (benchmarks count them); default: straight to the router. */
  onTick?: (t: RoutedTick) => void;
  /** Streamed tickers (STREAMS_ENABLED); without it the feed polls REST. */
  marketStream?: () => MarketStream;
  /** The account's user-data streams (STREAMS_ENABLED), one per market kind: fills and orders by stream. */
  userDataStreams?: () => UserDataStream[];
}

/**
 * `venue:<v>` with the trading pipeline hung on it: conn, feed (polling no faster than the venue allows), account,
 * and the pipeline's children (breaker, symbols, guards). The feed follows the live symbol set (scanner).
 */
export function tradedVenueSubtree(d: TradedVenueDeps): SubtreeProvider {
  const { config, venue, trading } = d;
  const minPoll = MIN_TICKER_POLL_MS[venue] ?? 0;
  return buildVenueSubtree({
    venue,
    gateway: d.gateway,
    metrics: d.metrics,
    log: d.log,
    book: d.book,
    lookup: d.lookup,
    symbols: [...trading.liveSymbols(venue)],
    symbolsNow: () => trading.liveSymbols(venue),
    feedIntervalMs: Math.max(config.FEED_POLL_MS, minPoll),
    feedStaleMs: Math.max(5_000, config.FEED_POLL_MS * 10, minPoll * 4),
    accountIntervalMs: accountRefreshMs(venue, config.KRAKEN_TIER),
    conn: { clockLimitMs: config.VENUE_CLOCK_OFFSET_MAX_MS },
    hooks: d.hooks,
    restartIntensity: config.RESTART_INTENSITY,
    restartPeriodMs: config.RESTART_PERIOD_SEC * 1000,
    onTick: d.onTick ?? ((t) => trading.router.push(t)),
    watchSymbols: trading.watchSymbols(),
    onQuote: (v, t) => trading.quotes.note(v, t),
    onLink: (gw) => trading.useLinkedGateway(venue, gw),
    onOutcome: (ok) => trading.onVenueOutcome(venue, ok),
    extra: trading.venueExtras(venue, d.hooks),
    ...(d.marketStream === undefined ? {} : { marketStream: d.marketStream }),
    ...(d.userDataStreams === undefined
      ? {}
      : {
          userData: {
            streams: d.userDataStreams,
            ...trading.userData(venue),
            liveRefreshMs: 4 * accountRefreshMs(venue, config.KRAKEN_TIER),
          },
        }),
  });
}

/** The executor (EXECUTOR_ENABLED, EXEC_INTERVAL_SEC, DRY_RUN) on the trading pipeline: every order through the rails. */
export function tradingExecutor(d: {
  config: TreeConfig;
  trading: Trading;
  kv: { get(key: string): unknown; put(key: string, value: unknown): Promise<unknown> };
  metrics: Metrics;
  log: Logger;
  lookup: (systemId: string) => AnyActorRef | undefined;
  /** First retry back-off; default the executor's own (tests shorten it). */
  backoffMs?: number;
}) {
  const { config, trading } = d;
  return createExecutor({
    enabled: config.EXECUTOR_ENABLED,
    dryRun: config.DRY_RUN,
    intervalMs: config.EXEC_INTERVAL_SEC * 1000,
    ...(d.backoffMs === undefined ? {} : { backoffMs: d.backoffMs }),
    venues: config.VENUES,
    liveSymbols: (v) => trading.liveSymbols(v),
    allocations: () => trading.allocations(),
    equityUsd: () => trading.equityUsd(),
    position: (v, s) => trading.positionUsd(v, s),
    maxNotionalUsdt: (s) => trading.maxNotionalUsdt(s),
    minTradeUsdt: config.MIN_TRADE_USDT,
    submit: (o) =>
      trading.engine.submitStrategy({
        venue: o.venue as never,
        symbol: o.symbol,
        side: o.side,
        quote: o.quote,
        strategy: 'executor',
        reason: o.reason,
      }),
    lookup: d.lookup,
    metrics: d.metrics,
    log: d.log,
    kv: d.kv,
  });
}
