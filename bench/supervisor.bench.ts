import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type AnyActorRef, createActor } from 'xstate';
import { createLogger } from '../src/logging/logger.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { createRuntime, type KvPort } from '../src/supervisor/runtime.js';
import { createSupervisor } from '../src/supervisor/supervisor.js';
import { openBenchKv } from './support/kv.js';
import { tradingLeaf } from './support/trading-leaf.js';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0).toFixed(4));
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Crash → running again, over 1,000 crashes of distinct leaves (first restart is immediate, as in OTP). */
function restartLatency(n = 1000) {
  const sup = createSupervisor({
    strategy: 'one_for_one',
    intensity: n * 2,
    periodMs: 60_000,
    logics: { leaf: tradingLeaf },
    children: Array.from({ length: n }, (_, i) => ({
      id: `sym:bench:L${i}`,
      src: 'leaf',
      shutdownMs: 0,
      critical: false,
    })),
  });
  const root = createActor(sup, { id: 'root' });
  root.subscribe({ error: () => {} });
  root.start();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = `sym:bench:L${i}`;
    const before = root.system.get(id) as AnyActorRef;
    const t0 = performance.now();
    before.send({ type: 'bench.crash' });
    const after = root.system.get(id) as AnyActorRef | undefined;
    const t1 = performance.now();
    if (!after || after === before || after.getSnapshot().status !== 'active')
      throw new Error(`leaf ${id} not restarted`);
    samples.push(t1 - t0);
  }
  // Plain-function baseline: the same bookkeeping without actors (create a record, replace it in a map).
  const m = new Map<string, { n: number }>();
  const base: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    m.set(`L${i}`, { n: 0 });
    base.push(performance.now() - t0);
  }
  root.stop();
  return {
    crashes: n,
    p50_ms: pct(samples, 50),
    p99_ms: pct(samples, 99),
    max_ms: pct(samples, 100),
    baseline_p99_ms: pct(base, 99),
    target_p99_ms: 2,
  };
}

/** Heap per idle leaf at 1,000 leaves (after forced GC). */
function heapPerLeaf(n = 1000) {
  if (!gc) return { skipped: 'run with --expose-gc' };
  gc();
  const before = process.memoryUsage().heapUsed;
  const sup = createSupervisor({
    strategy: 'one_for_one',
    intensity: 3,
    periodMs: 60_000,
    logics: { leaf: tradingLeaf },
    children: Array.from({ length: n }, (_, i) => ({ id: `sym:heap:L${i}`, src: 'leaf', shutdownMs: 0 })),
  });
  const root = createActor(sup, { id: 'root' });
  root.subscribe({ error: () => {} });
  root.start();
  gc();
  const after = process.memoryUsage().heapUsed;
  const perLeaf = (after - before) / n;
  root.stop();
  return { leaves: n, heap_bytes_per_leaf: Math.round(perLeaf), target_bytes: 8192 };
}

/** Kill propagation: POST-equivalent setTrading(HALTED) → every leaf of a 1,000-leaf tree reports HALTED. */
async function killPropagation(n = 1000, rounds = 20) {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-bench-kill-'));
  const kv: KvPort = await openBenchKv(dir);
  const metrics = createMetrics({ defaultMetrics: false });
  const halted = new Map<string, number>();
  let leafCount = 0;
  const runtime = createRuntime({
    options: {
      tradingEnabled: true,
      heartbeatMs: 5_000,
      maxLoopDelayMs: 200,
      restartIntensity: 3,
      restartPeriodMs: 60_000,
      shutdownTimeoutMs: 1_000,
    },
    log: createLogger({ level: 'silent', stdout: false }).log,
    metrics,
    kv,
    onFatal: (r, e) => {
      throw new Error(`fatal ${r}: ${String(e)}`);
    },
    subtrees: (hooks) => {
      const wrapped = {
        ...hooks,
        onHealth: (id: string, h: string, reason: string) => {
          hooks.onHealth?.(id, h as never, reason);
          if (h === 'HALTED' && id.startsWith('sym:')) halted.set(id, performance.now());
        },
      };
      const symbols = createSupervisor({
        strategy: 'one_for_one',
        intensity: 10,
        periodMs: 60_000,
        logics: { leaf: tradingLeaf },
        hooks: wrapped,
        children: Array.from({ length: n }, (_, i) => ({
          id: `sym:bench:K${i}`,
          src: 'leaf',
          shutdownMs: 0,
          critical: false,
        })),
      });
      leafCount = n;
      return [{ spec: { id: 'symbols:bench', src: 'symbols', shutdownMs: 0 }, logics: { symbols } }];
    },
  });
  await runtime.start();
  const propagation: number[] = [];
  const commandToAck: number[] = [];
  for (let r = 0; r < rounds; r++) {
    halted.clear();
    const t0 = performance.now();
    await runtime.setTrading({ scope: 'global', state: 'HALTED', reason: 'bench', actor: 'bench', command: 'kill' });
    commandToAck.push(performance.now() - t0);
    if (halted.size !== leafCount) throw new Error(`only ${halted.size}/${leafCount} leaves halted`);
    for (const t of halted.values()) propagation.push(t - t0);
    await runtime.setTrading({ scope: 'global', state: 'ACTIVE', reason: 'bench', actor: 'bench', command: 'resume' });
  }
  await runtime.shutdown();
  return {
    leaves: n,
    rounds,
    leaf_halted_p50_ms: pct(propagation, 50),
    leaf_halted_p99_ms: pct(propagation, 99),
    command_durable_ack_p50_ms: pct(commandToAck, 50),
    command_durable_ack_p99_ms: pct(commandToAck, 99),
    target_p99_ms: 5,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  return {
    restart_after_crash: restartLatency(),
    heap_per_idle_leaf: heapPerLeaf(),
    kill_propagation: await killPropagation(),
  };
}
