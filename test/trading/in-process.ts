import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAccountBook } from '../../src/actors/account-book.js';
import { createOpsConfig } from '../../src/actors/config.actors.js';
import { createExecutor } from '../../src/actors/executor.actors.js';
import { createTrading, type Trading } from '../../src/actors/trading.actors.js';
import { buildVenueSubtree } from '../../src/actors/venue.actors.js';
import { loadConfig } from '../../src/config/load-config.js';
import { opsFileSpecs } from '../../src/config/ops-files.js';
import { buildServer } from '../../src/http/build-server.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createRuntime, type Runtime } from '../../src/supervisor/runtime.js';
import { type BosunGateway, createGateway } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { MIN_TICKER_POLL_MS } from '../../src/venues/venue-limits.js';
import { TOKEN, tradingEnv } from './support.js';

/**
 * Bosun's trading stack in this process, composed as `src/main.ts` composes it (config from env, LMDB, the real
 * ccxt gateways against `sim`, the supervised runtime with the venue subtrees and `risk`, both listeners on
 * 127.0.0.1:0, boot recovery, the periodic loops) — without the process-level parts (signal handlers, the fatal
 * path, Telegram). `stop()` then `startInProcess(sim, env, stateDir)` again is a restart over the same LMDB.
 */
export interface InProcessBosun {
  stateDir: string;
  ops: string;
  engine: string;
  store: Store;
  runtime: Runtime;
  trading: Trading;
  stop(): Promise<void>;
}

/** Test-only knobs of the composition (what env cannot express below a second). */
export interface InProcessOptions {
  /** The executor's first retry back-off (main.ts uses EXECUTOR_BACKOFF_MS, 2 s). */
  executorBackoffMs?: number;
}

export async function startInProcess(
  sim: Simulator,
  extra: Record<string, string> = {},
  stateDir = mkdtempSync(join(tmpdir(), 'bosun-inproc-')),
  opts: InProcessOptions = {},
): Promise<InProcessBosun> {
  const config = loadConfig({ ...tradingEnv(sim, extra), STATE_DIR: stateDir, LOG_LEVEL: 'silent' });
  const root = createLogger({ level: 'silent', stdout: false });
  const metrics = createMetrics({ defaultMetrics: false });
  const store = await openStore({ dir: config.DB_DIR, logsDir: config.LOG_DIR, metrics });
  const ops = createOpsConfig();
  const gateways = new Map<string, BosunGateway>();
  for (const venue of config.VENUES)
    gateways.set(
      venue,
      createGateway(venue, {
        mode: 'paper',
        simBaseUrl: sim.baseUrl,
        apiKey: sim.keys[venue].apiKey,
        secret: sim.keys[venue].secret,
      }),
    );
  const book = createAccountBook(metrics);
  let runtime: Runtime | undefined;
  const trading = createTrading({ config, store, metrics, log: root.log, ops, gateways, runtime: () => runtime });
  // The executor, as main.ts composes it (EXECUTOR_ENABLED, EXEC_INTERVAL_SEC, DRY_RUN).
  const executor = createExecutor({
    enabled: config.EXECUTOR_ENABLED,
    dryRun: config.DRY_RUN,
    intervalMs: config.EXEC_INTERVAL_SEC * 1000,
    ...(opts.executorBackoffMs === undefined ? {} : { backoffMs: opts.executorBackoffMs }),
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
    lookup: (id) => runtime?.root().system.get(id),
    metrics,
    log: root.log,
    kv: store.kv,
  });
  const executorTree = executor.subtree();
  runtime = createRuntime({
    options: {
      tradingEnabled: config.TRADING_ENABLED,
      heartbeatMs: config.HEARTBEAT_SEC * 1000,
      maxLoopDelayMs: 200,
      restartIntensity: config.RESTART_INTENSITY,
      restartPeriodMs: config.RESTART_PERIOD_SEC * 1000,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    },
    log: root.log,
    metrics,
    kv: store.kv,
    journal: store.journal,
    onFatal: (reason) => {
      throw new Error(`fatal in the in-process stack: ${reason}`);
    },
    onGovernance: (g) => trading.onGovernance(g),
    afterTighten: () => trading.engine.quiesce(),
    opsFiles: { specs: opsFileSpecs(config), pollMs: config.CONFIG_POLL_SEC * 1000, ops },
    statusExtras: () => ({ balances: book.balances() }),
    subtrees: (hooks) => [
      ...[...gateways].map(([venue, gateway]) =>
        buildVenueSubtree({
          venue,
          gateway,
          metrics,
          log: root.log,
          book,
          lookup: (id) => runtime?.root().system.get(id),
          symbols: [...(config.TRADE_SYMBOLS ?? [])],
          feedIntervalMs: Math.max(config.FEED_POLL_MS, MIN_TICKER_POLL_MS[venue] ?? 0),
          feedStaleMs: Math.max(5_000, config.FEED_POLL_MS * 10, (MIN_TICKER_POLL_MS[venue] ?? 0) * 4),
          accountIntervalMs: 10_000,
          hooks,
          restartIntensity: config.RESTART_INTENSITY,
          restartPeriodMs: config.RESTART_PERIOD_SEC * 1000,
          onTick: (t) => trading.router.push(t),
          onLink: (gw) => trading.useLinkedGateway(venue, gw),
          onOutcome: (ok) => trading.onVenueOutcome(venue, ok),
          extra: trading.venueExtras(venue, hooks),
        }),
      ),
      trading.riskSubtree(hooks),
      ...(executorTree ? [executorTree] : []),
    ],
  });
  await runtime.start();
  const deps = {
    runtime,
    metrics,
    log: root.log,
    opsToken: TOKEN,
    idempotency: store.idempotency,
    audit: store.audit,
    trading: trading.port,
    executor: executor.port,
  };
  const listeners: FastifyInstance[] = [];
  const urls: string[] = [];
  for (const name of ['ops', 'engine'] as const) {
    const app = await buildServer(deps, name);
    urls.push(await app.listen({ host: '127.0.0.1', port: 0 }));
    listeners.push(app);
  }
  await trading.recover();
  trading.startLoops();
  runtime.markReady();
  const rt = runtime;
  return {
    stateDir,
    ops: urls[0] as string,
    engine: urls[1] as string,
    store,
    runtime: rt,
    trading,
    async stop() {
      await Promise.all(listeners.map((l) => l.close()));
      await trading.stop();
      await rt.shutdown();
      await Promise.all([...gateways.values()].map((g) => g.close()));
      await store.close();
    },
  };
}
