import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Trading } from '../../src/actors/trading.actors.js';
import { buildBosun } from '../../src/build-bosun.js';
import { type Config, loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Runtime } from '../../src/supervisor/runtime.js';
import type { SupervisorHooks } from '../../src/supervisor/supervisor.js';
import type { BosunGateway } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { VENUE_RIG_RUNTIME_OPTIONS } from '../support/runtime-options.js';
import { simGateway, TOKEN, tradingEnv } from './support.js';

/**
 * The trading pipeline in-process, composed by `buildBosun` exactly as `main.ts` composes it (real ccxt gateway
 * against the simulator, real LMDB, real supervised runtime, the real engine listener on an ephemeral port), for
 * scenario tests that need to reach inside (a crash seam, the engine) without booting a process. Binance only.
 */
export interface Pipeline {
  config: Config;
  store: Store;
  metrics: Metrics;
  runtime: Runtime;
  trading: Trading;
  gateway: BosunGateway;
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
    ...loadConfig({
      STREAMS_ENABLED: 'false',
      HISTORY_WARMUP_ENABLED: 'false',
      ...tradingEnv(sim),
      VENUES: 'binance',
      STATE_DIR: dir,
      LOG_LEVEL: 'silent',
      ...env,
    }),
    // No symbol actors: the tests place the strategies' orders themselves, so nothing trades behind their back.
    TRADE_SYMBOLS: [],
  };
  const metrics = createMetrics({ defaultMetrics: false });
  const log = createLogger({ level: 'silent', stdout: false }).log;
  const store = await openStore({ dir: config.DB_DIR, logsDir: config.LOG_DIR, metrics });
  const gateway = simGateway(sim, 'binance');
  const gateways = new Map<string, BosunGateway>([['binance', gateway]]);
  const restarts: Pipeline['restarts'] = [];
  const fatal: string[] = [];
  const bosun = buildBosun(config, {
    store,
    gateways,
    metrics,
    log,
    opsToken: TOKEN,
    onFatal: (reason) => fatal.push(reason),
    runtimeOptions: VENUE_RIG_RUNTIME_OPTIONS,
    hooks: (hooks: SupervisorHooks) => ({
      ...hooks,
      onRestart: (e) => {
        restarts.push({ child: e.child, reason: e.reason });
        hooks.onRestart?.(e);
      },
    }),
    ...(opts.beforeStart ? { beforeRuntime: opts.beforeStart } : {}),
    ...(opts.beforePublish ? { tradingHooks: { guardFaults: { beforePublish: opts.beforePublish } } } : {}),
  });
  const { urls } = await bosun.start({ listeners: ['engine'], host: '127.0.0.1', port: () => 0 });
  const url = urls.engine as string;
  const trading = bosun.trading;
  const rt = bosun.runtime;
  return {
    config,
    store,
    metrics,
    runtime: rt,
    trading,
    gateway,
    url,
    restarts,
    stateDir: dir,
    ordersJsonl: () =>
      readFileSync(join(config.LOG_DIR, 'orders.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async close(o: { keep?: boolean } = {}) {
      await bosun.stop();
      await gateway.close();
      await store.close();
      if (!o.keep) rmSync(dir, { recursive: true, force: true });
      if (fatal.length > 0) throw new Error(`fatal: ${fatal.join(', ')}`);
    },
  };
}
