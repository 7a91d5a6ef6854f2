import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createAccountBook } from './actors/account-book.js';
import { runtimeOptions, tradedVenueSubtree, tradingExecutor, tradingRuntimeDeps } from './actors/bosun-tree.js';
import { createOpsConfig } from './actors/config.actors.js';
import { cancelOwnEntries } from './actors/engine/halt-cancel.js';
import { createGoLive } from './actors/golive.js';
import { createHistoryWarmup } from './actors/history-warmup.js';
import { createScanner } from './actors/scanner.actors.js';
import { createSituations } from './actors/situations.js';
import { createTrading, type Trading } from './actors/trading.actors.js';
import { ensureOpsToken } from './cli/ops-token.js';
import { type Config, ConfigError, loadConfig, parseDotEnv, unknownFlagNames } from './config/load-config.js';
import { opsFileSpecs } from './config/ops-files.js';
import { errorMessage } from './domain/errors.js';
import { actorId } from './domain/ids.js';
import { RAIL_REASONS } from './domain/rails.js';
import { buildServer } from './http/build-server.js';
import type { PublishedExternalEvent } from './http/ports.js';
import { REPLAY_CACHE_MAX } from './http/routes/events.routes.js';
import { createLogger, type RootLogger } from './logging/logger.js';
import { CONN_ERROR_KINDS } from './machines/conn.machine.js';
import { notifierMachine } from './machines/notifier.machine.js';
import { createMetrics } from './metrics/metrics.js';
import { primeSeries } from './metrics/prime.js';
import {
  createAlertSources,
  createNotifier,
  createTelegramClient,
  makeNotifierPump,
  type Notify,
} from './notify/index.js';
import { createReplayStore, openStore, type Store } from './store/index.js';
import { exitAfterStoreClose } from './store/safe-exit.js';
import { MODEL_VARIANTS, variantSpec } from './strategies/regime-signal.js';
import { createRuntime, type Runtime } from './supervisor/runtime.js';
import { type BosunGateway, CALL_PRIORITIES, createGateway, createVenueStreams } from './venues/index.js';
import { PAPER_BALANCES, type Simulator, startSimulator } from './venues/sim/index.js';

/**
 * Composition root (DESIGN §11): the only module that reads the environment, opens LMDB, builds gateways and
 * listens. Order matters: config is validated before anything starts, governance is restored from LMDB before
 * any actor can trade, and `/readyz` stays 503 until boot recovery has finished.
 */
type Listener = Awaited<ReturnType<typeof buildServer>>;

let fatalInProgress = false;
/** The store once main() has opened it: a failed start closes it before exiting (see exitAfterStoreClose). */
let openedStore: Store | undefined;

async function main(): Promise<void> {
  const started = performance.now();
  let config: Config;
  const dotenvPath = join(process.cwd(), '.env');
  const dotenvText = existsSync(dotenvPath) ? readFileSync(dotenvPath, 'utf8') : undefined;
  try {
    config = loadConfig(process.env, dotenvText);
  } catch (e) {
    // Before any actor starts: name the variable and what was expected, then exit non-zero.
    process.stderr.write(`bosun: ${e instanceof ConfigError ? e.message : errorMessage(e)}\n`);
    process.exit(2);
  }

  // Everything under state/ (LMDB, logs, tokens, portfolio) is the operator's alone: files 0600, directories
  // 0700. data.mdb and the logs were 0644. An existing state directory is closed to others as well.
  process.umask(0o077);
  if (existsSync(config.STATE_DIR)) chmodSync(config.STATE_DIR, 0o700);

  const pretty = config.LOG_PRETTY === 'auto' ? Boolean(process.stdout.isTTY) : config.LOG_PRETTY === 'true';
  const root: RootLogger = createLogger({ level: config.LOG_LEVEL, logDir: config.LOG_DIR, pretty });
  const log = root.log.child({ actor: 'main' });
  const metrics = createMetrics();
  const typos = dotenvText ? unknownFlagNames(Object.keys(parseDotEnv(dotenvText))) : [];
  if (typos.length > 0) log.warn({ names: typos, path: dotenvPath }, '.env names that are not Bosun flags (typo?)');

  let store: Store | undefined;
  let runtime: Runtime | undefined;
  const listeners: Listener[] = [];

  let emergencyCancel: () => Promise<unknown> = async () => undefined;
  /** The crash path: halt trading durably, flush, exit non-zero; the outer supervisor restarts us. */
  const fatal = (reason: string, error?: unknown): void => {
    if (fatalInProgress) return;
    fatalInProgress = true;
    log.fatal(
      { reason, err: error instanceof Error ? { message: error.message, stack: error.stack } : error },
      'fatal: halting trading and exiting',
    );
    let exiting = false;
    const done = () => {
      if (exiting) return;
      exiting = true;
      // The store closes first: an exit with an LMDB transaction callback pending would never finish.
      void exitAfterStoreClose(store, 1, { beforeExit: () => root.flushSync() });
    };
    const halt = runtime
      ?.setTrading({ scope: 'global', state: 'HALTED', reason: `fatal: ${reason}`, actor: 'system', command: 'fatal' })
      .catch(() => undefined);
    // Cancel Bosun's open entry orders straight through the gateways: the actor tree may be what failed.
    const cancel = emergencyCancel().catch(() => undefined);
    const timer = setTimeout(done, 1_500);
    timer.unref();
    void Promise.allSettled([halt, cancel]).finally(() => {
      clearTimeout(timer);
      done();
    });
  };
  process.on('uncaughtException', (e) => fatal('uncaught_exception', e));
  process.on('unhandledRejection', (e) => fatal('unhandled_rejection', e));

  store = await openStore({
    dir: config.DB_DIR,
    logsDir: config.LOG_DIR,
    metrics,
    onFatal: (e) => fatal('store_commit_failed', e),
  });
  openedStore = store;
  const ops = createOpsConfig();

  // Paper mode (the default): the real ccxt classes talk to the exchange simulator on loopback: the embedded
  // one, or an external one (`npm run sim`) when the venue's base URL is set (the loopback guard still applies).
  const venueKeys = (venue: string) =>
    venue === 'binance'
      ? { apiKey: config.BINANCE_API_KEY, secret: config.BINANCE_API_SECRET, baseUrl: config.BINANCE_BASE_URL }
      : { apiKey: config.KRAKEN_API_KEY, secret: config.KRAKEN_API_SECRET, baseUrl: config.KRAKEN_BASE_URL };
  let sim: Simulator | undefined;
  if (config.MODE === 'paper' && config.VENUES.some((v) => !venueKeys(v).baseUrl)) {
    // Its control routes (balances, prices, faults) take a token kept beside the ops token (mode 0600).
    const simToken = ensureOpsToken(join(config.STATE_DIR, 'sim_token'), undefined);
    sim = await startSimulator({
      host: '127.0.0.1',
      port: config.SIM_PORT,
      seed: config.SIM_SEED,
      ...(config.SIM_PERSIST ? { stateDir: config.SIM_STATE_DIR } : {}),
      controlToken: simToken.token,
    });
    // A fresh paper venue: cash plus small holdings under the default exposure caps, so a fresh paper Bosun trades
    // (PAPER_BALANCES). A resumed one keeps what its trading left, as a real account does across Bosun restarts.
    if (!sim.restored) {
      for (const venue of ['binance', 'kraken'] as const) sim.setBalances({ venue, spot: PAPER_BALANCES[venue] });
      await sim.flush();
    }
    log.info(
      {
        baseUrl: sim.baseUrl,
        resumed: sim.restored,
        stateDir: config.SIM_PERSIST ? config.SIM_STATE_DIR : null,
        controlTokenPath: simToken.path,
      },
      'paper mode: embedded exchange simulator listening (control routes need X-Sim-Token)',
    );
  }
  const gateways = new Map<string, BosunGateway>();
  for (const venue of config.VENUES) {
    const keys = venueKeys(venue);
    // Both venues: the Kraken tier sizes its counters; local budget refusals are their own metric.
    const budget = {
      krakenTier: config.KRAKEN_TIER,
      onBudgetRefusal: (r: { priority: string }) => metrics.venueLocalRefusals.inc({ venue, priority: r.priority }),
    };
    if (config.MODE === 'paper') {
      const external = keys.baseUrl !== undefined;
      gateways.set(
        venue,
        createGateway(venue, {
          ...budget,
          mode: 'paper',
          simBaseUrl: external ? (keys.baseUrl as string) : (sim as Simulator).baseUrl,
          apiKey: external ? (keys.apiKey ?? '') : (sim as Simulator).keys[venue].apiKey,
          secret: external ? (keys.secret ?? '') : (sim as Simulator).keys[venue].secret,
        }),
      );
      continue;
    }
    gateways.set(
      venue,
      createGateway(venue, {
        ...budget,
        mode: 'live',
        ...(keys.apiKey ? { apiKey: keys.apiKey } : {}),
        ...(keys.secret ? { secret: keys.secret } : {}),
        ...(keys.baseUrl ? { baseUrl: keys.baseUrl } : {}),
        testnet: venue === 'binance' && config.BINANCE_TESTNET,
      }),
    );
  }
  // Bosun's own open entries by clientOrderId, from LMDB: never the venue's cancel-all (which also took the
  // protective stops, and on Kraken every manual order of the account).
  emergencyCancel = () => cancelOwnEntries((store as Store).orders, gateways, log);
  // The venue's view of each account beside the ledger (the one book, built with the trading pipeline below).
  const book = createAccountBook(metrics, () => tradingRef?.ledgerView);
  const token = ensureOpsToken(config.OPS_TOKEN_PATH, config.OPS_API_TOKEN);
  if (token.source === 'generated')
    log.warn({ path: token.path }, 'paper mode: generated an ops token (mode 0600); the CLI reads it from there');
  else if (token.source === 'file') log.info({ path: token.path }, 'ops token loaded from state');

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
          log: root.log.child({ actor: actorId.notifier() }),
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
    lookup: (id) => runtime?.root().system.get(id),
    log: root.log.child({ actor: 'warmup' }),
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
    lookup: (id) => runtime?.root().system.get(id),
    metrics,
    log: root.log,
  });
  const trading: Trading = createTrading({
    config,
    store,
    metrics,
    log: root.log,
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
  });
  tradingRef = trading;
  const executor = tradingExecutor({
    config,
    trading,
    kv: store.kv,
    metrics,
    log: root.log,
    lookup: (id) => runtime?.root().system.get(id),
  });
  const lookup = (id: string) => runtime?.root().system.get(id);
  const situations = createSituations({ runtime: () => runtime });
  const executorTree = executor.subtree();
  let snapshotLoaded = false;
  runtime = createRuntime({
    options: runtimeOptions(config),
    ...tradingRuntimeDeps({ trading, store, metrics, log: root.log, onGovernance: (g) => alerts.onGovernance(g) }),
    onFatal: fatal,
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
    subtrees: (hooks) => [
      ...[...gateways].map(([venue, gateway]) =>
        tradedVenueSubtree({
          config,
          venue,
          gateway,
          trading,
          book,
          metrics,
          log: root.log,
          lookup,
          hooks,
          ...(config.STREAMS_ENABLED
            ? {
                marketStream: () =>
                  createVenueStreams(gateway, { timing: { silenceMs: config.STREAM_SILENCE_MS } }).tickers('spot'),
              }
            : {}),
        }),
      ),
      trading.riskSubtree(hooks),
      scanner.subtree(),
      ...(executorTree ? [executorTree] : []),
    ],
  });
  // Every series the runbook and dashboards alert on exists at 0 from boot (src/metrics/prime.ts).
  primeSeries(metrics, {
    venues: config.VENUES,
    symbols: (v) => trading.liveSymbols(v),
    venueErrorKinds: CONN_ERROR_KINDS,
    priorities: CALL_PRIORITIES,
    rejectionReasons: [...RAIL_REASONS, 'venue_rejected'],
    configFiles: opsFileSpecs(config).map((f) => f.name),
  });
  await runtime.start();

  const bound: Record<string, string> = {};
  // `bosun golive` / `GET /golive`: the staged go-live's stage and evidence (advisory, never flips a flag).
  const golive = createGoLive({
    config,
    kv: store.kv,
    registry: metrics.registry,
    now: Date.now,
    guards: () => trading.guardsPort.list(),
    fundingOrders: () => trading.port.listOrders({ limit: 1_000 }),
    audit: (q) => store.audit.list(q),
  });
  const deps = {
    runtime,
    metrics,
    log: root.log,
    opsToken: token.token,
    allowedHosts: [config.BIND_HOST, ...(config.ALLOWED_HOSTS ?? [])],
    idempotency: store.idempotency,
    audit: store.audit,
    trading: trading.port,
    events: {
      secret: config.EXTERNAL_EVENTS_SECRET,
      maxBodyBytes: config.EXTERNAL_EVENTS_MAX_BODY_BYTES,
      unsigned: config.MODE === 'paper' ? ('loopback' as const) : ('refuse' as const),
      requireTimestamp: config.EXTERNAL_EVENTS_REQUIRE_TIMESTAMP,
      replayWindowSec: config.EXTERNAL_EVENTS_REPLAY_WINDOW_SEC,
      replay: createReplayStore(store.kv, { maxEntries: REPLAY_CACHE_MAX }),
      publish: (e: PublishedExternalEvent) => trading.externalFeed.publish(e),
    },
    // `POST /backup`: a consistent LMDB copy under state/backups/ for `bosun backup` to archive.
    backup: {
      snapshotDb: async () => {
        const at = Date.now();
        const dir = resolve(config.STATE_DIR, 'backups', `db-${new Date(at).toISOString().replace(/[:.]/g, '-')}`);
        return { ...(await (store as Store).backup(dir)), at };
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
  for (const [name, port] of [
    ['ops', config.OPS_PORT],
    ['engine', config.ENGINE_PORT],
    ['universe', config.UNIVERSE_PORT],
    ['screener', config.SCREENER_PORT],
    ['situations', config.SITUATIONS_PORT],
  ] as const) {
    const app = await buildServer(deps, name);
    await app.listen({ host: config.BIND_HOST, port });
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
  log.info(
    { snapshotLoaded, fillsApplied: recovered.reconciled.fillsApplied, venues: recovered.reconciled.venues },
    'boot recovery finished',
  );
  trading.startLoops();
  await golive.noteTradingStarted();
  situations.start();
  runtime.markReady();
  log.info(
    {
      mode: config.MODE,
      listeners: bound,
      startMs: Math.round(performance.now() - started),
    },
    'bosun ready',
  );

  if (config.FAULT_INJECT === 'uncaught_after_ready') {
    // A named crash drill (DESIGN §12): the same path a real bug takes, exercised end to end by a test.
    setImmediate(() => {
      throw new Error('injected fault: uncaught_after_ready');
    });
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => fatal('shutdown_timeout'), config.SHUTDOWN_TIMEOUT_MS + 2_000);
    force.unref();
    try {
      const steps: Record<string, number> = {};
      const step = async (name: string, fn: () => Promise<unknown> | undefined) => {
        const t = performance.now();
        await fn();
        steps[name] = Math.round(performance.now() - t);
      };
      await step('listeners', () => Promise.all(listeners.map((l) => l.close())));
      await step('trading', () => trading.stop());
      await step('actors', () => runtime?.shutdown());
      await step('gateways', () => Promise.all([...gateways.values()].map((g) => g.close())));
      await step('simulator', () => sim?.close());
      await step('store', () => store?.close());
      log.info({ steps }, 'shutdown complete');
      root.flushSync();
      process.exit(0);
    } catch (e) {
      fatal('shutdown_failed', e);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e) => {
  process.stderr.write(`bosun: startup failed: ${errorMessage(e)}\n`);
  void exitAfterStoreClose(openedStore, 1);
});
