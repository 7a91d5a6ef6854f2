import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AnyActorRef } from 'xstate';
import { buildSymbolsSupervisor, createCalibrator } from '../../../src/actors/symbol.actors.js';
import { createTickRouter } from '../../../src/actors/tick-router.js';
import { buildServer } from '../../../src/http/build-server.js';
import { createLogger } from '../../../src/logging/logger.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { openStore } from '../../../src/store/index.js';
import { fastTrendEnv } from '../../../src/strategies/fast-env.js';
import { createRng } from '../../../src/strategies/seeded-random.js';
import { createRuntime, type Runtime } from '../../../src/supervisor/runtime.js';

/**
 * The real runtime with `count` symbol actors under one `symbols:binance` supervisor (what the scanner's shortlist
 * spawns at its widest), the tick router that feeds them, and the real engine listener on loopback: the inspector's
 * 1,000-symbol browser test, its benchmark and its screenshots.
 */
export interface SymbolsStack {
  runtime: Runtime;
  engine: FastifyInstance;
  /** `http://127.0.0.1:<port>` of the engine listener. */
  base: string;
  symbols: string[];
  /** Pushes `n` ticks round-robin over the symbols, starting at `from`. */
  push(n: number, from: number): void;
  close(): Promise<void>;
}

/** Price jitter is seeded (SYMBOLS_SEED, default 1), printed, and the same seed replays the same ticks. */
export async function startSymbolsStack(count: number, barMs = 100): Promise<SymbolsStack> {
  const seed = Number(process.env.SYMBOLS_SEED ?? 1);
  console.info(`symbols stack: price seed ${seed} (SYMBOLS_SEED=${seed} replays it)`);
  const rng = createRng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'bosun-symbols-'));
  const store = await openStore({ dir: join(dir, 'db') });
  const metrics = createMetrics({ defaultMetrics: false });
  const log = createLogger({ level: 'silent', stdout: false }).log;
  const env = fastTrendEnv();
  const symbols = Array.from({ length: count }, (_, i) => `S${String(i).padStart(4, '0')}USDT`);
  let rootRef: AnyActorRef | undefined;
  const lookup = (id: string) => rootRef?.system.get(id) as AnyActorRef | undefined;
  const calibrator = createCalibrator({ lookup, log, env: () => env });
  const runtime = createRuntime({
    options: {
      tradingEnabled: true,
      heartbeatMs: 60_000,
      maxLoopDelayMs: 10_000,
      restartIntensity: 10,
      restartPeriodMs: 60_000,
      shutdownTimeoutMs: 2_000,
    },
    log,
    metrics,
    kv: store.kv,
    onFatal: () => {},
    subtrees: (hooks) => [
      buildSymbolsSupervisor({
        venue: 'binance',
        symbols,
        barMs,
        baseCooldownMs: 5_000,
        env: () => env,
        trading: () => 'ACTIVE',
        onSignal: () => {},
        calibrator,
        metrics,
        hooks,
      }) as never,
    ],
  });
  await runtime.start();
  runtime.markReady();
  rootRef = runtime.root();
  const engine = await buildServer(
    { runtime, metrics, log, opsToken: 'symbols-stack', idempotency: store.idempotency, audit: store.audit },
    'engine',
  );
  await engine.listen({ host: '127.0.0.1', port: 0 });
  const addr = engine.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const router = createTickRouter({ lookup, metrics, barMs, onPrice: () => {} });
  const px = new Float64Array(count).fill(100);
  return {
    runtime,
    engine,
    base,
    symbols,
    push(n, from) {
      for (let k = 0; k < n; k++) {
        const i = (from + k) % count;
        const v = (px[i] as number) * (1 + (rng.next() - 0.5) * 0.001);
        px[i] = v;
        router.push({
          venue: 'binance',
          symbol: symbols[i] as string,
          bid: null,
          ask: null,
          last: v,
          receivedAt: Date.now(),
          t0: performance.now(),
        });
      }
    },
    async close() {
      await engine.close();
      await runtime.shutdown();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
