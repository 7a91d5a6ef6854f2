import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { openStore } from '../../src/store/index.js';
import { createRuntime } from '../../src/supervisor/runtime.js';
import { shardedSymbols } from './trading-leaf.js';

/**
 * The runtime core (config, governance, heartbeat) on a real LMDB in a temporary directory, ready: what the HTTP
 * benchmarks put a listener in front of; with `leaves`, also that many trading leaves (`sym:` actors that follow
 * the kill broadcast) laid out as the runtime lays symbols out. `close()` shuts it down and removes the directory.
 */
export async function startBareRuntime(prefix: string, opts: { leaves?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const metrics = createMetrics();
  const log = createLogger({ level: 'silent', stdout: false }).log;
  const store = await openStore({ dir: join(dir, 'db'), logsDir: join(dir, 'logs'), metrics });
  const runtime = createRuntime({
    options: {
      tradingEnabled: true,
      heartbeatMs: 1_000,
      maxLoopDelayMs: 200,
      restartIntensity: 3,
      restartPeriodMs: 60_000,
      shutdownTimeoutMs: 500,
    },
    log,
    metrics,
    kv: store.kv,
    onFatal: () => {},
    ...(opts.leaves
      ? {
          subtrees: () => [
            {
              spec: { id: 'symbols:bench', src: 'symbols', shutdownMs: 0 },
              logics: { symbols: shardedSymbols(opts.leaves as number, 'http', 10) },
            },
          ],
        }
      : {}),
  });
  await runtime.start();
  runtime.markReady();
  return {
    metrics,
    log,
    store,
    runtime,
    async close() {
      await runtime.shutdown();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
