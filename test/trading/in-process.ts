import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAccountBook, type LedgerView } from '../../src/actors/account-book.js';
import {
  runtimeOptions,
  tradedVenueSubtree,
  tradingExecutor,
  tradingRuntimeDeps,
} from '../../src/actors/bosun-tree.js';
import { createOpsConfig } from '../../src/actors/config.actors.js';
import { createTrading, type Trading } from '../../src/actors/trading.actors.js';
import { loadConfig } from '../../src/config/load-config.js';
import { opsFileSpecs } from '../../src/config/ops-files.js';
import { buildServer } from '../../src/http/build-server.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createRuntime, type Runtime } from '../../src/supervisor/runtime.js';
import type { BosunGateway } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { simGateway, TOKEN, tradingEnv } from './support.js';

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
  for (const venue of config.VENUES) gateways.set(venue, simGateway(sim, venue));
  let tradingRef: { ledgerView: LedgerView } | undefined;
  const book = createAccountBook(metrics, () => tradingRef?.ledgerView);
  let runtime: Runtime | undefined;
  const trading = createTrading({ config, store, metrics, log: root.log, ops, gateways, runtime: () => runtime });
  tradingRef = trading;
  const lookup = (id: string) => runtime?.root().system.get(id);
  const executor = tradingExecutor({
    config,
    trading,
    kv: store.kv,
    metrics,
    log: root.log,
    lookup,
    ...(opts.executorBackoffMs === undefined ? {} : { backoffMs: opts.executorBackoffMs }),
  });
  const executorTree = executor.subtree();
  runtime = createRuntime({
    options: runtimeOptions(config),
    ...tradingRuntimeDeps({ trading, store, metrics, log: root.log }),
    onFatal: (reason) => {
      throw new Error(`fatal in the in-process stack: ${reason}`);
    },
    opsFiles: { specs: opsFileSpecs(config), pollMs: config.CONFIG_POLL_SEC * 1000, ops },
    statusExtras: () => ({ balances: book.balances() }),
    subtrees: (hooks) => [
      ...[...gateways].map(([venue, gateway]) =>
        tradedVenueSubtree({ config, venue, gateway, trading, book, metrics, log: root.log, lookup, hooks }),
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
