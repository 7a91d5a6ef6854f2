import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAccountBook, type LedgerView } from '../../src/actors/account-book.js';
import { tradedVenueSubtree, tradingRuntimeDeps } from '../../src/actors/bosun-tree.js';
import { createOpsConfig } from '../../src/actors/config.actors.js';
import { createTrading, type Trading } from '../../src/actors/trading.actors.js';
import { type Config, loadConfig } from '../../src/config/load-config.js';
import { buildServer } from '../../src/http/build-server.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createRuntime, type Runtime } from '../../src/supervisor/runtime.js';
import type { SupervisorHooks } from '../../src/supervisor/supervisor.js';
import type { BosunGateway } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { simGateway, TOKEN, tradingEnv } from './support.js';

/**
 * The trading pipeline in-process, composed exactly as `main.ts` composes it (real ccxt gateway against the
 * simulator, real LMDB, real supervised runtime, the real engine listener on an ephemeral port), for scenario
 * tests that need to reach inside (a crash seam, the engine) without booting a process. Binance only.
 */
export interface Pipeline {
  config: Config;
  store: Store;
  metrics: Metrics;
  runtime: Runtime;
  trading: Trading;
  gateway: BosunGateway;
  engine: FastifyInstance;
  url: string;
  restarts: Array<{ child: string; reason: string }>;
  ordersJsonl(): Array<Record<string, unknown>>;
  stateDir: string;
  /** Stops everything; `keep` leaves the state directory for a restart. */
  close(opts?: { keep?: boolean }): Promise<void>;
}

export async function startPipeline(
  sim: Simulator,
  env: Record<string, string>,
  opts: {
    beforePublish?: (id: string, context: unknown) => void;
    /** Reuse a state directory (a restart); default a fresh temp directory. */
    stateDir?: string;
    /** Called with the pipeline's trading before the runtime starts (e.g. `trading.guards.extend`). */
    beforeStart?: (trading: Trading) => void;
  } = {},
): Promise<Pipeline> {
  const dir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'bosun-guards-'));
  const config: Config = {
    ...loadConfig({ ...tradingEnv(sim), VENUES: 'binance', STATE_DIR: dir, LOG_LEVEL: 'silent', ...env }),
    // No symbol actors: the tests place the strategies' orders themselves, so nothing trades behind their back.
    TRADE_SYMBOLS: [],
  };
  const metrics = createMetrics({ defaultMetrics: false });
  const log = createLogger({ level: 'silent', stdout: false }).log;
  const store = await openStore({ dir: config.DB_DIR, logsDir: config.LOG_DIR, metrics });
  const ops = createOpsConfig();
  const gateway = simGateway(sim, 'binance');
  const gateways = new Map<string, BosunGateway>([['binance', gateway]]);
  let tradingRef: { ledgerView: LedgerView } | undefined;
  const book = createAccountBook(metrics, () => tradingRef?.ledgerView);
  let runtime: Runtime | undefined;
  const trading = createTrading({
    config,
    store,
    metrics,
    log,
    ops,
    gateways,
    runtime: () => runtime,
    ...(opts.beforePublish ? { guardFaults: { beforePublish: opts.beforePublish } } : {}),
  });
  tradingRef = trading;
  opts.beforeStart?.(trading);
  const restarts: Pipeline['restarts'] = [];
  const fatal: string[] = [];
  runtime = createRuntime({
    options: {
      tradingEnabled: true,
      heartbeatMs: 60_000,
      maxLoopDelayMs: 500,
      restartIntensity: 5,
      restartPeriodMs: 60_000,
      shutdownTimeoutMs: 1_000,
    },
    ...tradingRuntimeDeps({ trading, store, metrics, log }),
    onFatal: (reason) => fatal.push(reason),
    subtrees: (hooks: SupervisorHooks) => {
      const h: SupervisorHooks = {
        ...hooks,
        onRestart: (e) => {
          restarts.push({ child: e.child, reason: e.reason });
          hooks.onRestart?.(e);
        },
      };
      return [
        tradedVenueSubtree({
          config,
          venue: 'binance',
          gateway,
          trading,
          book,
          metrics,
          log,
          lookup: (id) => runtime?.root().system.get(id),
          hooks: h,
        }),
        trading.riskSubtree(h),
      ];
    },
  });
  await runtime.start();
  const engine = await buildServer(
    {
      runtime,
      metrics,
      log,
      opsToken: TOKEN,
      idempotency: store.idempotency,
      audit: store.audit,
      trading: trading.port,
      guards: trading.guardsPort,
    },
    'engine',
  );
  await engine.listen({ host: '127.0.0.1', port: 0 });
  const addr = engine.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  await trading.recover();
  trading.startLoops();
  runtime.markReady();
  const rt = runtime;
  return {
    config,
    store,
    metrics,
    runtime: rt,
    trading,
    gateway,
    engine,
    url,
    restarts,
    stateDir: dir,
    ordersJsonl: () =>
      readFileSync(join(config.LOG_DIR, 'orders.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async close(o: { keep?: boolean } = {}) {
      await engine.close();
      await trading.stop();
      await rt.shutdown();
      await gateway.close();
      await store.close();
      if (!o.keep) rmSync(dir, { recursive: true, force: true });
      if (fatal.length > 0) throw new Error(`fatal: ${fatal.join(', ')}`);
    },
  };
}
