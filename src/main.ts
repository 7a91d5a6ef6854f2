import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOpsConfig } from './actors/config.actors.js';
import { cancelOwnEntries } from './actors/engine/halt-cancel.js';
import { buildBosun } from './build-bosun.js';
import { ensureOpsToken } from './cli/ops-token.js';
import { type Config, ConfigError, loadConfig, parseDotEnv, unknownFlagNames } from './config/load-config.js';
import { errorMessage } from './domain/errors.js';
import { createLogger, type RootLogger } from './logging/logger.js';
import { createMetrics } from './metrics/metrics.js';
import { openStore, type Store } from './store/index.js';
import { exitAfterStoreClose } from './store/safe-exit.js';
import type { Runtime } from './supervisor/runtime.js';
import { type BosunGateway, createGateway } from './venues/index.js';
import { PAPER_BALANCES, type Simulator, startSimulator } from './venues/sim/index.js';
import { isCcxtDroppedSend } from './venues/streams/ccxt-dropped-send.js';

/**
 * Composition root (DESIGN §11): the only module that reads the environment, opens LMDB, builds gateways and
 * listens. Order matters: config is validated before anything starts, governance is restored from LMDB before
 * any actor can trade, and `/readyz` stays 503 until boot recovery has finished.
 */
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
  process.on('unhandledRejection', (e) => {
    // The one rejection ccxt.pro leaves unhandled on a closing socket (ccxt-dropped-send.ts): the stream recovers.
    if (isCcxtDroppedSend(e)) {
      log.warn({ err: (e as Error).message }, 'ccxt.pro dropped a send on a closing connection: the stream restarts');
      return;
    }
    fatal('unhandled_rejection', e);
  });

  store = await openStore({
    dir: config.DB_DIR,
    logsDir: config.LOG_DIR,
    metrics,
    onFatal: (e) => fatal('store_commit_failed', e),
  });
  openedStore = store;
  const _ops = createOpsConfig();

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
      // The paper venue is as strict as the real one: Kraken's call and trade counters of the account's tier
      // (Binance's weights are always enforced). Both sides restart together, so no counter outlives a restart.
      krakenTier: config.KRAKEN_TIER,
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
  const token = ensureOpsToken(config.OPS_TOKEN_PATH, config.OPS_API_TOKEN);
  if (token.source === 'generated')
    log.warn({ path: token.path }, 'paper mode: generated an ops token (mode 0600); the CLI reads it from there');
  else if (token.source === 'file') log.info({ path: token.path }, 'ops token loaded from state');

  const bosun = buildBosun(config, { store, gateways, metrics, log: root.log, opsToken: token.token, onFatal: fatal });
  runtime = bosun.runtime;
  const { bound } = await bosun.start();
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
      await bosun.stop(step);
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
