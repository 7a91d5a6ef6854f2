import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createAccountBook } from './actors/account-book.js';
import { runtimeOptions, tradedVenueSubtree, tradingExecutor, tradingRuntimeDeps } from './actors/bosun-tree.js';
import { createOpsConfig } from './actors/config.actors.js';
import { createScanner } from './actors/scanner.actors.js';
import { createSituations } from './actors/situations.js';
import { createTrading, type Trading } from './actors/trading.actors.js';
import { ensureOpsToken } from './cli/ops-token.js';
import { type Config, ConfigError, loadConfig, parseDotEnv, unknownFlagNames } from './config/load-config.js';
import { opsFileSpecs } from './config/ops-files.js';
import { errorMessage } from './domain/errors.js';
import { actorId } from './domain/ids.js';
import { buildServer } from './http/build-server.js';
import type { PublishedExternalEvent } from './http/ports.js';
import { createLogger, type RootLogger } from './logging/logger.js';
import { notifierMachine } from './machines/notifier.machine.js';
import { createMetrics } from './metrics/metrics.js';
import {
  createAlertSources,
  createNotifier,
  createTelegramClient,
  makeNotifierPump,
  type Notify,
} from './notify/index.js';
import { openStore, type Store } from './store/index.js';
import { exitAfterStoreClose } from './store/safe-exit.js';
import { createRuntime, type Runtime } from './supervisor/runtime.js';
import { type BosunGateway, createGateway, createVenueStreams } from './venues/index.js';
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
    // Cancel open orders straight through the gateways: the actor tree may be what failed.
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
    sim = await startSimulator({ host: '127.0.0.1', port: config.SIM_PORT, seed: config.SIM_SEED });
    // Cash plus small holdings under the default exposure caps, so a fresh paper Bosun trades (PAPER_BALANCES).
    for (const venue of ['binance', 'kraken'] as const) sim.setBalances({ venue, spot: PAPER_BALANCES[venue] });
    log.info({ baseUrl: sim.baseUrl }, 'paper mode: embedded exchange simulator listening');
  }
  const gateways = new Map<string, BosunGateway>();
  for (const venue of config.VENUES) {
    const keys = venueKeys(venue);
    if (config.MODE === 'paper') {
      const external = keys.baseUrl !== undefined;
      gateways.set(
        venue,
        createGateway(venue, {
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
        mode: 'live',
        ...(keys.apiKey ? { apiKey: keys.apiKey } : {}),
        ...(keys.secret ? { secret: keys.secret } : {}),
        ...(keys.baseUrl ? { baseUrl: keys.baseUrl } : {}),
        testnet: venue === 'binance' && config.BINANCE_TESTNET,
      }),
    );
  }
  emergencyCancel = () => Promise.allSettled([...gateways.values()].map((g) => g.cancelAllOrders()));
  const book = createAccountBook(metrics);
  const token = ensureOpsToken(config.STATE_DIR, config.OPS_API_TOKEN);
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
  await runtime.start();

  const bound: Record<string, string> = {};
  const deps = {
    runtime,
    metrics,
    log: root.log,
    opsToken: token.token,
    idempotency: store.idempotency,
    audit: store.audit,
    trading: trading.port,
    events: {
      secret: config.EXTERNAL_EVENTS_SECRET,
      maxBodyBytes: config.EXTERNAL_EVENTS_MAX_BODY_BYTES,
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
  const recovered = await trading.recover();
  snapshotLoaded = recovered.snapshotLoaded;
  log.info(
    { snapshotLoaded, fillsApplied: recovered.reconciled.fillsApplied, venues: recovered.reconciled.venues },
    'boot recovery finished',
  );
  trading.startLoops();
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
