import { join, resolve } from 'node:path';
import { createAccountBook } from './actors/account-book.js';
import { runtimeOptions, tradedVenueSubtree, tradingExecutor, tradingRuntimeDeps } from './actors/bosun-tree.js';
import { createOpsConfig } from './actors/config.actors.js';
import { createGoLive } from './actors/golive.js';
import { createHistoryWarmup } from './actors/history-warmup.js';
import { snapshotForBackup } from './actors/portfolio-snapshots.js';
import { poll, realSleep } from './actors/retry.js';
import { createScanner } from './actors/scanner.actors.js';
import { createSituations } from './actors/situations.js';
import type { RoutedTick } from './actors/tick-router.js';
import { createTrading, type Trading, type TradingDeps } from './actors/trading.actors.js';
import type { Config } from './config/load-config.js';
import { opsFileSpecs } from './config/ops-files.js';
import { errorMessage } from './domain/errors.js';
import { actorId } from './domain/ids.js';
import { RAIL_REASONS } from './domain/rails.js';
import { buildServer } from './http/build-server.js';
import type { PublishedExternalEvent } from './http/ports.js';
import { REPLAY_CACHE_MAX } from './http/routes/events.routes.js';
import type { Logger } from './logging/logger.js';
import { CONN_ERROR_KINDS } from './machines/conn.machine.js';
import { notifierMachine } from './machines/notifier.machine.js';
import type { Metrics } from './metrics/metrics.js';
import { primeSeries } from './metrics/prime.js';
import {
  createAlertSources,
  createNotifier,
  createTelegramClient,
  makeNotifierPump,
  type Notify,
} from './notify/index.js';
import { createReplayStore, type Store } from './store/index.js';
import { MODEL_VARIANTS, variantSpec } from './strategies/regime-signal.js';
import { createRuntime, type Runtime, type RuntimeOptions } from './supervisor/runtime.js';
import type { SupervisorHooks } from './supervisor/supervisor.js';
import { type BosunGateway, CALL_PRIORITIES, createVenueStreams, type MarketKind } from './venues/index.js';

/** The five listeners, in the order they listen (ops first: the inspector page on engine needs its port). */
export const LISTENERS = ['ops', 'engine', 'universe', 'screener', 'situations'] as const;
export type ListenerName = (typeof LISTENERS)[number];
type Listener = Awaited<ReturnType<typeof buildServer>>;

/**
 * What the composition root owns and hands in: the opened store, the built gateways, the logger and metrics, the
 * ops token and the fatal path. `buildBosun` opens, reads and binds nothing of its own beyond the listeners.
 */
export interface BosunDeps {
  store: Store;
  gateways: Map<string, BosunGateway>;
  metrics: Metrics;
  /** The root logger (children are made per actor). */
  log: Logger;
  opsToken: string;
  /** Root escalation: the process halts trading durably and exits (main.ts); test stacks record or throw. */
  onFatal: (reason: string, error?: unknown) => void;
  /** Test seams (main.ts passes none of these). */
  runtimeOptions?: RuntimeOptions;
  /** Wraps the supervisor hooks the subtrees get (a test counts restarts). */
  hooks?: (hooks: SupervisorHooks) => SupervisorHooks;
  /** Called with the trading pipeline before the runtime is built (e.g. `trading.guards.extend`). */
  beforeRuntime?: (trading: Trading) => void;
  /** The executor's first retry back-off (default the executor's own, 2 s). */
  executorBackoffMs?: number;
  /** Trading pipeline seams: guard fault injection (tests), hand-off and ack timings (bench/e2e-ccxt). */
  tradingHooks?: Pick<TradingDeps, 'guardFaults' | 'onHandoff' | 'onAck'>;
  /** Replaces a venue's tick delivery (default: the trading router); the bench counts ticks here. */
  onTick?: (venue: string, trading: Trading) => (t: RoutedTick) => void;
}

export interface BosunStartOptions {
  /** Which listeners to bind (default all five). */
  listeners?: readonly ListenerName[];
  /** Host and port per listener (default config.BIND_HOST and the configured ports). */
  host?: string;
  port?: (name: ListenerName) => number;
}

export interface BosunBoot {
  /** `address:port` per bound listener. */
  bound: Partial<Record<ListenerName, string>>;
  /** `http://host:port` per bound listener. */
  urls: Partial<Record<ListenerName, string>>;
  snapshotLoaded: boolean;
}

export interface Bosun {
  config: Config;
  runtime: Runtime;
  trading: Trading;
  /** Builds the actors' runtime, binds the listeners, runs boot recovery; `/readyz` turns 200 at the end. */
  start(opts?: BosunStartOptions): Promise<BosunBoot>;
  /** Listeners, trading loops, actors, in that order. The caller closes gateways, simulator and store after. */
  stop(steps?: (name: string, fn: () => Promise<unknown> | undefined) => Promise<void>): Promise<void>;
}

/**
 * The one composition of Bosun's actors, trading pipeline and listeners (DESIGN §11), shared by `main.ts` and every
 * in-process test stack so that what the tests run is what production runs. Order matters: governance is restored
 * from LMDB inside `runtime.start()` before any actor can trade, and `/readyz` stays 503 until boot recovery has
 * finished.
 */
export function buildBosun(config: Config, deps: BosunDeps): Bosun {
  const { store, gateways, metrics } = deps;
  const rootLog = deps.log;
  const log = rootLog.child({ actor: 'main' });
  let runtime: Runtime | undefined;
  const ops = createOpsConfig();
  // The venue's view of each account beside the ledger (the one book, built with the trading pipeline below).
  const book = createAccountBook(metrics, () => tradingRef?.ledgerView);

  // Telegram alerts (DESIGN §9): `notify` is the one alert API (durable in LMDB before it resolves); the
  // `notifier` actor under core delivers the queue. Disabled, it accepts and drops, so callers need no branch.
  const notifier =
    config.TELEGRAM_ENABLED && config.TELEGRAM_BOT_TOKEN && config.TELEGRAM_CHAT_ID
      ? createNotifier({
          store: store.alerts,
          client: createTelegramClient({
            apiRoot: config.TELEGRAM_API_ROOT ?? 'https://api.telegram.org',
            token: config.TELEGRAM_BOT_TOKEN,
            chatId: config.TELEGRAM_CHAT_ID,
          }),
          log: rootLog.child({ actor: actorId.notifier() }),
          metrics,
          digest: { intervalMs: config.DIGEST_INTERVAL_MIN * 60_000, source: () => alerts.digest() },
        })
      : undefined;
  const notify: Notify = notifier ? notifier.alert : async () => undefined;
  const alerts = createAlertSources({
    notify,
    log,
    equityUsd: () => Object.values(book.balances()).reduce((sum, b) => sum + b.equity_usd, 0),
    tradesSince: (since) =>
      trading.port.listOrders({ limit: 1_000 }).filter((o) => o.updatedAt > since && o.filled > 0).length,
    digestPeriodMin: config.DIGEST_INTERVAL_MIN,
  });

  // The symbol scanner (DESIGN §3, §8): its hooks into the trading pipeline are late-bound (the pipeline boots
  // with the scanner's persisted shortlist).
  let tradingRef: Trading | undefined;
  const t = (): Trading => {
    if (!tradingRef) throw new Error('trading pipeline not built yet');
    return tradingRef;
  };
  const lookup = (id: string) => runtime?.root().system.get(id);
  // History warm-up (DESIGN §7): strategies are warm at /readyz, and a symbol the scanner adds is warmed at once.
  const warmupBars =
    config.HISTORY_WARMUP_BARS > 0
      ? config.HISTORY_WARMUP_BARS
      : Math.max(
          config.TREND_SLOW_BARS,
          ...MODEL_VARIANTS.map((v) =>
            config.HMM_WARMUP_BARS > 0 ? config.HMM_WARMUP_BARS : variantSpec(v).warmupBars,
          ),
        );
  const warmup = createHistoryWarmup({
    barMs: config.BAR_MS,
    bars: warmupBars,
    gateway: (v) => gateways.get(v),
    lookup,
    log: rootLog.child({ actor: 'warmup' }),
  });
  const scanner = createScanner({
    enabled: config.SYMBOL_SCANNER_ENABLED,
    intervalMs: config.SYMBOL_SCANNER_INTERVAL_SEC * 1000,
    topN: config.SYMBOL_SCANNER_TOP_N,
    statePath: join(config.RUNTIME_DIR, 'symbol_scanner_state.json'),
    venues: config.VENUES,
    gateway: (v) => gateways.get(v),
    candidate: (_v, symbol) => t().symbolAllowed(symbol),
    protectedSymbols: (v) => t().protectedSymbols(v),
    liveSymbols: (v) => t().liveSymbols(v),
    setLiveSymbols: (v, list) => t().setLiveSymbols(v, list),
    symbolSpec: (v, s) => t().symbolSpec(v, s),
    ...(config.HISTORY_WARMUP_ENABLED ? { onSymbolAdded: (v: string, s: string) => void warmup.warm(v, s) } : {}),
    drain: (v, s) => t().drain(v, s),
    lookup,
    metrics,
    log: rootLog,
  });
  const trading: Trading = createTrading({
    config,
    store,
    metrics,
    log: rootLog,
    ops,
    gateways,
    runtime: () => runtime,
    // 🛡 stop repairs (STOPVAL_NOTIFY_ENABLED): queued durably in LMDB and sent by the notifier.
    notify: (a) => {
      notify({ key: a.key, text: a.text, severity: 'warning' }).catch((e: unknown) =>
        log.warn({ err: errorMessage(e) }, 'could not queue a stop alert'),
      );
    },
    ...(config.SYMBOL_SCANNER_ENABLED
      ? { bootSymbols: (v: string, fallback: readonly string[]) => scanner.bootSymbols(v, fallback) }
      : {}),
    ...(config.STREAMS_ENABLED
      ? {
          tradeStream: (v: string, market: MarketKind) => {
            const g = gateways.get(v);
            return g === undefined ? undefined : createVenueStreams(g).trades(market);
          },
        }
      : {}),
    ...deps.tradingHooks,
  });
  tradingRef = trading;
  deps.beforeRuntime?.(trading);
  const executor = tradingExecutor({
    config,
    trading,
    kv: store.kv,
    metrics,
    log: rootLog,
    lookup,
    ...(deps.executorBackoffMs === undefined ? {} : { backoffMs: deps.executorBackoffMs }),
  });
  const situations = createSituations({ runtime: () => runtime });
  const executorTree = executor.subtree();
  let snapshotLoaded = false;
  runtime = createRuntime({
    options: deps.runtimeOptions ?? runtimeOptions(config),
    ...tradingRuntimeDeps({ trading, store, metrics, log: rootLog, onGovernance: (g) => alerts.onGovernance(g) }),
    onFatal: deps.onFatal,
    onHealthTransition: (id, h, reason) => alerts.onHealthTransition(id, h, reason),
    ...(notifier
      ? {
          core: {
            children: [{ id: actorId.notifier(), src: 'notifier', critical: false, shutdownMs: 0 }],
            logics: { notifier: notifierMachine.provide({ actors: { pump: makeNotifierPump(notifier) } }) },
          },
        }
      : {}),
    opsFiles: { specs: opsFileSpecs(config), pollMs: config.CONFIG_POLL_SEC * 1000, ops },
    statusExtras: () => ({ balances: book.balances(), snapshot_loaded: snapshotLoaded }),
    subtrees: (supervisorHooks) => {
      const hooks = deps.hooks ? deps.hooks(supervisorHooks) : supervisorHooks;
      return [
        ...[...gateways].map(([venue, gateway]) =>
          tradedVenueSubtree({
            config,
            venue,
            gateway,
            trading,
            book,
            metrics,
            log: rootLog,
            lookup,
            hooks,
            ...(deps.onTick ? { onTick: deps.onTick(venue, trading) } : {}),
            ...(config.STREAMS_ENABLED
              ? {
                  marketStream: () =>
                    createVenueStreams(gateway, { timing: { silenceMs: config.STREAM_SILENCE_MS } }).tickers('spot'),
                  // No silence limit on the private stream: an account with nothing happening is quiet; ccxt's
                  // keepalive pings find a dead connection.
                  // Binance's USDⓈ-M account streams by its own listenKey beside the spot WebSocket API stream.
                  userDataStreams: () => {
                    const streams = createVenueStreams(gateway);
                    return gateway.marketKinds.map((k) => streams.userData(k));
                  },
                }
              : {}),
          }),
        ),
        trading.riskSubtree(hooks),
        scanner.subtree(),
        ...(executorTree ? [executorTree] : []),
      ];
    },
  });
  const rt = runtime;
  // Every series the runbook and dashboards alert on exists at 0 from boot (src/metrics/prime.ts).
  primeSeries(metrics, {
    venues: config.VENUES,
    symbols: (v) => trading.liveSymbols(v),
    venueErrorKinds: CONN_ERROR_KINDS,
    priorities: CALL_PRIORITIES,
    rejectionReasons: [...RAIL_REASONS, 'venue_rejected'],
    configFiles: opsFileSpecs(config).map((f) => f.name),
  });

  // `bosun golive` / `GET /golive`: the staged go-live's stage and evidence (advisory, never flips a flag).
  const golive = createGoLive({
    config,
    kv: store.kv,
    registry: metrics.registry,
    now: Date.now,
    guards: () => trading.guardsPort.list(),
    fundingOrders: () => trading.port.listOrders({ limit: 1_000 }),
    audit: (q) => store.audit.list(q),
    // Maker shadow's evidence across venues and markets (GET /maker's summary), weighted by orders.
    maker: {
      shadow() {
        const rows = trading.port.maker?.().shadow.summary ?? [];
        const orders = rows.reduce((n, r) => n + r.orders, 0);
        if (orders === 0) return null;
        const filled = rows.reduce((n, r) => n + r.filled, 0);
        const improved = rows.reduce((sum, r) => sum + (r.meanImprovementBps ?? 0) * r.filled, 0);
        return {
          samples: orders,
          fillRatePct: (filled / orders) * 100,
          improvementBps: filled > 0 ? improved / filled : 0,
        };
      },
    },
  });

  const listeners: Listener[] = [];
  const bound: Partial<Record<ListenerName, string>> = {};
  const httpDeps = {
    runtime: rt,
    metrics,
    log: rootLog,
    opsToken: deps.opsToken,
    allowedHosts: [config.BIND_HOST, ...(config.ALLOWED_HOSTS ?? [])],
    idempotency: store.idempotency,
    audit: store.audit,
    trading: trading.port,
    events: {
      secret: config.EXTERNAL_EVENTS_SECRET,
      maxBodyBytes: config.EXTERNAL_EVENTS_MAX_BODY_BYTES,
      unsigned: config.MODE === 'paper' ? ('loopback' as const) : ('refuse' as const),
      requireTimestamp: timestampRequired(config),
      replayWindowSec: config.EXTERNAL_EVENTS_REPLAY_WINDOW_SEC,
      replay: createReplayStore(store.kv, { maxEntries: REPLAY_CACHE_MAX }),
      publish: (e: PublishedExternalEvent) => trading.externalFeed.publish(e),
    },
    // `POST /backup`: a consistent LMDB copy under state/backups/ for `bosun backup` to archive.
    backup: {
      snapshotDb: async () => {
        const at = Date.now();
        const dir = resolve(config.STATE_DIR, 'backups', `db-${new Date(at).toISOString().replace(/[:.]/g, '-')}`);
        return { ...(await snapshotForBackup(store, config.PORTFOLIO_PATH, dir)), at };
      },
    },
    // The inspector page on engine sends /kill to ops; ops listens first, so its port is known by then.
    inspector: { opsPort: () => Number(bound.ops?.split(':').pop()) || undefined },
    guards: trading.guardsPort,
    golive,
    scanner: scanner.port,
    executor: executor.port,
    situations,
  };

  return {
    config,
    runtime: rt,
    trading,
    async start(opts = {}) {
      await rt.start();
      const urls: BosunBoot['urls'] = {};
      const host = opts.host ?? config.BIND_HOST;
      const configured: Record<ListenerName, number> = {
        ops: config.OPS_PORT,
        engine: config.ENGINE_PORT,
        universe: config.UNIVERSE_PORT,
        screener: config.SCREENER_PORT,
        situations: config.SITUATIONS_PORT,
      };
      for (const name of LISTENERS) {
        if (opts.listeners && !opts.listeners.includes(name)) continue;
        const app = await buildServer(httpDeps, name);
        urls[name] = await app.listen({ host, port: opts.port ? opts.port(name) : configured[name] });
        listeners.push(app);
        const addr = app.server.address();
        bound[name] = typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : String(addr);
      }
      // Boot recovery (DESIGN §6): governance was restored from LMDB inside runtime.start(); now the portfolio
      // baseline, every open or unknown order resolved by clientOrderId, fills and balances reconciled. Only then
      // is the process ready (`/readyz` 503 until here) and may the strategies trade.
      const [recovered] = await Promise.all([
        trading.recover(),
        config.HISTORY_WARMUP_ENABLED
          ? warmup.warmAll(new Map(config.VENUES.map((v) => [v, trading.liveSymbols(v)])))
          : Promise.resolve([]),
      ]);
      snapshotLoaded = recovered.snapshotLoaded;
      // Ready means the money guards can see: the depeg guard reads parity from the feeds' first quotes, and until
      // then it is blind and refuses USDT entries (fail closed). Wait for its first reading, bounded; a venue that
      // truly shows no parity stays blind and says so.
      const sighted = await poll(
        // Every 10 ms (an in-memory read), bounded at 15 s as before: a 100 ms step cost every boot ~50 ms on average.
        { attempts: 1_500, backoff: { firstMs: 10, maxMs: 10 }, sleep: realSleep },
        async () => {
          const blind = trading.guardsPort.list().some((g) => g.kind === 'depeg' && g.state.blind === true);
          return { done: !blind, value: blind };
        },
      );
      if (!sighted.done)
        log.warn('ready with the depeg guard still blind: USDT entries are refused until it sees parity');
      log.info(
        { snapshotLoaded, fillsApplied: recovered.reconciled.fillsApplied, venues: recovered.reconciled.venues },
        'boot recovery finished',
      );
      trading.startLoops();
      await golive.noteTradingStarted();
      situations.start();
      rt.markReady();
      return { bound: { ...bound }, urls, snapshotLoaded };
    },
    async stop(step = async (_name, fn) => void (await fn())) {
      situations.stop();
      await step('listeners', () => Promise.all(listeners.map((l) => l.close())));
      await step('trading', () => trading.stop());
      await step('actors', () => rt.shutdown());
    },
  };
}

/**
 * Whether a signed external event must carry `X-Events-Timestamp`. `auto` requires it in live mode, where a
 * replayed signal moves real money, and leaves it optional in paper mode so the runbook's test-harness curl (a
 * signature, no timestamp) works verbatim; the persisted replay cache refuses a repeat either way.
 */
function timestampRequired(config: Config): boolean {
  const flag = config.EXTERNAL_EVENTS_REQUIRE_TIMESTAMP;
  return flag === 'auto' ? config.MODE === 'live' : flag === 'true';
}
