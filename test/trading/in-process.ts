import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Trading } from '../../src/actors/trading.actors.js';
import { buildBosun } from '../../src/build-bosun.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/logger.js';
import type { SignalEffect } from '../../src/machines/symbol.machine.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Runtime } from '../../src/supervisor/runtime.js';
import type { BosunGateway } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { simGateway, TOKEN, tradingEnv } from './support.js';

/**
 * Bosun's trading stack in this process, composed by `buildBosun` as `src/main.ts` composes it (config from env,
 * LMDB, the real ccxt gateways against `sim`, the supervised runtime with every subtree, the ops and engine
 * listeners on 127.0.0.1:0, boot recovery, the periodic loops) — without the process-level parts (signal handlers,
 * the fatal path's exit). `stop()` then `startInProcess(sim, env, stateDir)` again is a restart over the same LMDB.
 */
export interface InProcessBosun {
  stateDir: string;
  ops: string;
  engine: string;
  store: Store;
  runtime: Runtime;
  trading: Trading;
  /** The venues' gateways (real ccxt against `sim`), e.g. to read their local request budget. */
  gateways: ReadonlyMap<string, BosunGateway>;
  stop(): Promise<void>;
}

/** Test-only knobs of the composition (what env cannot express below a second). */
export interface InProcessOptions {
  /** The executor's first retry back-off (main.ts uses EXECUTOR_BACKOFF_MS, 2 s). */
  executorBackoffMs?: number;
}

/** A strategy signal on a symbol's perpetual at its mark, straight into the engine (PERP_STRATEGIES_ENABLED). */
export function perpSignal(b: InProcessBosun, sim: Simulator, value: number, symbol = 'BTCUSDT'): void {
  const e: SignalEffect = {
    venue: 'binance',
    symbol,
    price: Number(sim.prices('binance')[`binance:perp:${symbol}`]),
    at: Date.now(),
    t0: performance.now(),
    output: { strategy: 'hmm', signal: value, quoteMultiplier: 1 } as SignalEffect['output'],
    trading: 'ACTIVE',
  };
  b.trading.engine.onSignal(e);
}

export async function startInProcess(
  sim: Simulator,
  extra: Record<string, string> = {},
  stateDir = mkdtempSync(join(tmpdir(), 'bosun-inproc-')),
  opts: InProcessOptions = {},
): Promise<InProcessBosun> {
  // These stacks poll (no ccxt.pro streams) and start cold (no OHLCV warm-up) unless a test asks otherwise.
  const config = loadConfig({
    STREAMS_ENABLED: 'false',
    HISTORY_WARMUP_ENABLED: 'false',
    ...tradingEnv(sim, extra),
    STATE_DIR: stateDir,
    LOG_LEVEL: 'silent',
  });
  const root = createLogger({ level: 'silent', stdout: false });
  const metrics = createMetrics({ defaultMetrics: false });
  const store = await openStore({ dir: config.DB_DIR, logsDir: config.LOG_DIR, metrics });
  const gateways = new Map<string, BosunGateway>();
  for (const venue of config.VENUES) gateways.set(venue, simGateway(sim, venue, config.KRAKEN_TIER));
  const bosun = buildBosun(config, {
    store,
    gateways,
    metrics,
    log: root.log,
    opsToken: TOKEN,
    onFatal: (reason) => {
      throw new Error(`fatal in the in-process stack: ${reason}`);
    },
    ...(opts.executorBackoffMs === undefined ? {} : { executorBackoffMs: opts.executorBackoffMs }),
  });
  const { urls } = await bosun.start({ listeners: ['ops', 'engine'], host: '127.0.0.1', port: () => 0 });
  return {
    stateDir,
    ops: urls.ops as string,
    engine: urls.engine as string,
    store,
    runtime: bosun.runtime,
    trading: bosun.trading,
    gateways,
    async stop() {
      await bosun.stop();
      await Promise.all([...gateways.values()].map((g) => g.close()));
      await store.close();
    },
  };
}
