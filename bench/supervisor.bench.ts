import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type AnyActorRef, createActor, setup } from 'xstate';
import { createLogger } from '../src/logging/logger.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { createRuntime, type KvPort } from '../src/supervisor/runtime.js';
import { createSupervisor } from '../src/supervisor/supervisor.js';
import { overlapsPause, recordGcPauses, summarisePauses } from './support/gc.js';
import { openBenchKv } from './support/kv.js';
import { haltedAt, shardedSymbols, tradingLeaf } from './support/trading-leaf.js';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0).toFixed(4));
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Crash → running again, over 1,000 crashes of distinct leaves (first restart is immediate, as in OTP). The GC
 * pauses of the loop are recorded beside it: a restart allocates ~90 KB (mostly XState's actor and initial
 * snapshot), so 1,000 of them run several young-generation collections, and each lands inside one sample.
 */
async function restartLatency(n = 1000) {
  const sup = shardedSymbols(n, 'bench', n * 2);
  const root = createActor(sup, { id: 'root' });
  root.subscribe({ error: () => {} });
  root.start();
  const samples: number[] = [];
  const starts: number[] = [];
  const gcs = recordGcPauses();
  for (let i = 0; i < n; i++) {
    const id = `sym:bench:S${i}`;
    const before = root.system.get(id) as AnyActorRef;
    const t0 = performance.now();
    starts.push(t0);
    before.send({ type: 'bench.crash' });
    const after = root.system.get(id) as AnyActorRef | undefined;
    const t1 = performance.now();
    if (!after || after === before || after.getSnapshot().status !== 'active')
      throw new Error(`leaf ${id} not restarted`);
    samples.push(t1 - t0);
  }
  const pauses = await gcs.stop();
  const over = samples.map((ms, i) => ({ ms, i })).filter((x) => x.ms > 2);
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
    samples_over_target: over.length,
    samples_over_target_with_gc_pause_inside: over.filter((x) => overlapsPause(pauses, starts[x.i] as number, x.ms))
      .length,
    gc_pauses_during_loop: summarisePauses(pauses),
  };
}

/**
 * What one XState event costs on this machine, warm, over 1,000 started actors: a two-state machine (the floor
 * for any actor) and the bench leaf (health region + trading region). A kill broadcast on one thread reaches the
 * last of 1,000 leaves no sooner than 1,000 of these.
 */
function eventCost(n = 1000, rounds = 40) {
  const trivial = setup({}).createMachine({
    id: 'trivial',
    initial: 'a',
    states: { a: { on: { flip: 'b' } }, b: { on: { flip: 'a' } } },
  });
  const perEvent = (logic: typeof trivial | typeof tradingLeaf, event: (r: number) => { type: string }) => {
    const refs = Array.from({ length: n }, () => createActor(logic as typeof trivial).start());
    const perRound: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const e = event(r);
      const t0 = performance.now();
      for (const ref of refs) ref.send(e as never);
      perRound.push(((performance.now() - t0) * 1000) / n);
    }
    for (const ref of refs) ref.stop();
    // The second half: warm code.
    return pct(perRound.slice(rounds / 2), 50);
  };
  const trivialUs = perEvent(trivial, () => ({ type: 'flip' }));
  const leafUs = perEvent(tradingLeaf, (r) => ({
    type: 'gov.trading',
    governance: { global: { state: r % 2 === 0 ? 'HALTED' : 'ACTIVE' } },
  }));
  haltedAt.clear();
  return {
    actors: n,
    two_state_machine_us_per_event: trivialUs,
    bench_leaf_us_per_event: leafUs,
    last_of_1000_leaves_at_least_ms: Number(((leafUs * n) / 1000).toFixed(2)),
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
  const halted = haltedAt;
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
    subtrees: () => {
      const symbols = shardedSymbols(n, 'kill', 10);
      leafCount = n;
      return [{ spec: { id: 'symbols:kill', src: 'symbols', shutdownMs: 0 }, logics: { symbols } }];
    },
  });
  await runtime.start();
  const propagation: number[] = [];
  const commandToAck: number[] = [];
  const lastLeaf: number[] = [];
  const gcs = recordGcPauses();
  for (let r = 0; r < rounds; r++) {
    halted.clear();
    const t0 = performance.now();
    await runtime.setTrading({ scope: 'global', state: 'HALTED', reason: 'bench', actor: 'bench', command: 'kill' });
    commandToAck.push(performance.now() - t0);
    await runtime.governanceDelivered();
    if (halted.size !== leafCount) throw new Error(`only ${halted.size}/${leafCount} leaves halted`);
    let last = 0;
    for (const t of halted.values()) {
      propagation.push(t - t0);
      last = Math.max(last, t - t0);
    }
    lastLeaf.push(last);
    await runtime.setTrading({ scope: 'global', state: 'ACTIVE', reason: 'bench', actor: 'bench', command: 'resume' });
    await runtime.governanceDelivered();
  }
  const pauses = await gcs.stop();
  await runtime.shutdown();
  return {
    leaves: n,
    rounds,
    leaf_halted_p50_ms: pct(propagation, 50),
    leaf_halted_p99_ms: pct(propagation, 99),
    // The first rounds run cold code (the kill path runs rarely in a real process); the rest are warm.
    last_leaf_ms_by_round: lastLeaf.map((x) => Number(x.toFixed(2))),
    gc_pauses_during_rounds: summarisePauses(pauses),
    command_durable_ack_p50_ms: pct(commandToAck, 50),
    command_durable_ack_p99_ms: pct(commandToAck, 99),
    target_p99_ms: 5,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  return {
    restart_after_crash: await restartLatency(),
    heap_per_idle_leaf: heapPerLeaf(),
    kill_propagation: await killPropagation(),
    xstate_event_cost: eventCost(),
  };
}
