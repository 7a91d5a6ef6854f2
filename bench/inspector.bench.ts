import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { type AnyActorLogic, type AnyActorRef, createActor } from 'xstate';
import { buildSymbolsSupervisor, createCalibrator } from '../src/actors/symbol.actors.js';
import { createTickRouter } from '../src/actors/tick-router.js';
import { buildServer } from '../src/http/build-server.js';
import { createLogger } from '../src/logging/logger.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { openStore } from '../src/store/index.js';
import { fastTrendEnv } from '../src/strategies/fast-env.js';
import { MAX_FLUSH_DUTY } from '../src/supervisor/inspection-hub.js';
import { createRuntime } from '../src/supervisor/runtime.js';
import { createTransitionHistory } from '../src/supervisor/transition-history.js';

/**
 * Inspector stream (issue 6 benchmarks): the real runtime with 1,000 symbol actors under a `symbols:` supervisor,
 * the tick router, and the real engine listener's `GET /inspect/stream` read over loopback by one SSE client (in
 * this process: its reading costs this process too, as a pessimistic stand-in for a browser). Reports the stream's
 * messages per second by kind and bytes per second at 30,000 ticks/s, and the CPU per tick and sustained tick
 * throughput unwatched, watched (the default stream: tree diff every 250 ms) and watched with `?events=all` (XState
 * inspection attached, every actor event). Sustained figures are the median of five alternating rounds (1.5 s each).
 *
 * Then the page itself (issue 18), in Debian's chromium when it is installed: `/inspector` open on the same engine
 * while ticks flow at 30,000/s for 20 s and 100 symbol actors change health every 250 ms, so every flush carries a diff;
 * the page times each diff it applies (`window.__bosunInspector.applyMs`) and the bench reports p50/p95/max.
 * Last, what recording every actor's transitions costs the symbol actors (`transition_recording`).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Bar length of the symbol actors and of the tick router that builds their bars. */
const BAR_MS = 100;
const SYMBOLS = 1_000;
const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${String(i).padStart(4, '0')}USDT`);

const env = fastTrendEnv();

interface StreamCount {
  tree: number;
  nodes: number;
  event: number;
  heartbeat: number;
  bytes: number;
  nodeUpdates: number;
}

/** One SSE client: counts messages by kind (cheap scan, no JSON parse except the node-update count). */
async function openStream(url: string): Promise<{ counts: StreamCount; close(): Promise<void> }> {
  const ac = new AbortController();
  const counts: StreamCount = { tree: 0, nodes: 0, event: 0, heartbeat: 0, bytes: 0, nodeUpdates: 0 };
  const r = await fetch(url, { signal: ac.signal });
  const reader = r.body?.getReader();
  if (!reader) throw new Error('no stream body');
  const decoder = new TextDecoder();
  let buf = '';
  const done = (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) return;
        counts.bytes += value.byteLength;
        buf += decoder.decode(value, { stream: true });
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (block.startsWith(':')) counts.heartbeat += 1;
          else if (block.startsWith('event: tree')) counts.tree += 1;
          else if (block.startsWith('event: nodes')) {
            counts.nodes += 1;
            counts.nodeUpdates += (JSON.parse(block.slice(block.indexOf('data: ') + 6)) as unknown[]).length;
          } else if (block.startsWith('event: event')) counts.event += 1;
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    counts,
    async close() {
      ac.abort();
      await done;
    },
  };
}

/**
 * What recording transitions costs the hot symbol actors (issue 18: every actor's last transitions are kept from
 * boot, watched or not, so the stream figures above include it on both sides): the same 1,000 symbol actors under
 * two supervisors, one whose hooks record each change of active states into the runtime's ring and one without,
 * ticked alternately as fast as the loop takes it. CPU per delivered tick, median of five rounds each.
 */
async function recordingCost(log: ReturnType<typeof createLogger>['log']): Promise<Record<string, unknown>> {
  const metrics = createMetrics({ defaultMetrics: false });
  const history = createTransitionHistory({ now: Date.now });
  let recorded = 0;
  const sides = (['plain', 'recorded'] as const).map((name) => {
    let ref: AnyActorRef | undefined;
    const lookup = (id: string) => ref?.system.get(id) as AnyActorRef | undefined;
    const built = buildSymbolsSupervisor({
      venue: 'binance',
      symbols,
      barMs: BAR_MS,
      baseCooldownMs: 5_000,
      env: () => env,
      trading: () => 'ACTIVE',
      onSignal: () => {},
      calibrator: createCalibrator({ lookup, log, env: () => env }),
      metrics,
      hooks:
        name === 'recorded'
          ? {
              onTransition: (id, event, from, to) => {
                recorded++;
                history.record(id, event, from, to);
              },
            }
          : {},
    });
    const logic = Object.values(built.logics)[0] as AnyActorLogic;
    ref = createActor(logic, { systemId: 'symbols:binance' }).start();
    const router = createTickRouter({ lookup, metrics, barMs: BAR_MS, onPrice: () => {} });
    return { name, ref, router, cpu: [] as number[] };
  });
  const px = new Float64Array(SYMBOLS).fill(100);
  const startedWith = recorded;
  for (let round = 0; round < 6; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) {
      const before = side.router.stats().ticks;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let pushed = 0; performance.now() - t0 < 1_500; pushed += 5_000) {
        for (let k = 0; k < 5_000; k++) {
          const i = (pushed + k) % SYMBOLS;
          const v = (px[i] as number) * (1 + (Math.random() - 0.5) * 0.001);
          px[i] = v;
          side.router.push({
            venue: 'binance',
            symbol: symbols[i] as string,
            bid: null,
            ask: null,
            last: v,
            receivedAt: Date.now(),
            t0: performance.now(),
          });
        }
        await new Promise((r) => setImmediate(r));
      }
      const cpu = process.cpuUsage(cpu0);
      // The first round of each side warms the JIT and the actors.
      if (round > 0) side.cpu.push((cpu.user + cpu.system) / (side.router.stats().ticks - before));
    }
  }
  for (const side of sides) side.ref.stop();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const [plain, rec] = sides.map((s) => median(s.cpu)) as [number, number];
  return {
    cpu_us_per_tick: { plain: Number(plain.toFixed(3)), recorded: Number(rec.toFixed(3)) },
    rounds_cpu_us_per_tick: Object.fromEntries(sides.map((s) => [s.name, s.cpu.map((x) => Number(x.toFixed(3)))])),
    cpu_slowdown_pct: Number(((1 - plain / rec) * 100).toFixed(1)),
    transitions_recorded_while_ticking: recorded - startedWith,
    target_slowdown_pct: 5,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-bench-insp-'));
  const store = await openStore({ dir: join(dir, 'db') });
  const metrics = createMetrics({ defaultMetrics: false });
  const log = createLogger({ level: 'silent', stdout: false }).log;
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
        barMs: BAR_MS,
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
    {
      runtime,
      metrics,
      log,
      opsToken: 'bench',
      idempotency: store.idempotency,
      audit: store.audit,
    },
    'engine',
  );
  await engine.listen({ host: '127.0.0.1', port: 0 });
  const addr = engine.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/inspect/stream`;

  const router = createTickRouter({ lookup, metrics, barMs: BAR_MS, onPrice: () => {} });
  const px = new Float64Array(SYMBOLS).fill(100);
  const push = (n: number, base: number) => {
    for (let k = 0; k < n; k++) {
      const i = (base + k) % SYMBOLS;
      const v = (px[i] as number) * (1 + (Math.random() - 0.5) * 0.001);
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
  };

  /** 30,000 ticks/s (300 every 10 ms) for `seconds`: CPU per tick and event-loop delay. */
  async function paced(seconds: number) {
    const rate = 30_000;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const before = router.stats();
    const cpu0 = process.cpuUsage();
    let pushed = 0;
    const t0 = performance.now();
    loop.enable();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(rate * seconds, Math.floor(((performance.now() - t0) / 1000) * rate));
        push(due - pushed, pushed);
        pushed = due;
        if (pushed >= rate * seconds) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    loop.disable();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const delivered = router.stats().ticks - before.ticks;
    return {
      ticks_pushed: pushed,
      ticks_delivered: delivered,
      wall_s: Number(wall.toFixed(2)),
      cpu_us_per_tick: Number(((cpu.user + cpu.system) / delivered).toFixed(2)),
      // Per pushed tick too: the router's coalescing depends on how busy the machine is, pushing does not.
      cpu_us_per_pushed_tick: Number(((cpu.user + cpu.system) / pushed).toFixed(2)),
      event_loop_delay_ms: {
        p50: Number((loop.percentile(50) / 1e6).toFixed(2)),
        p99: Number((loop.percentile(99) / 1e6).toFixed(2)),
      },
    };
  }

  /** As fast as the loop takes it, 5,000 ticks per turn: ticks through the symbol actors per second. */
  const cpuPerTick: Record<'un' | 'wa' | 'all', number[]> = { un: [], wa: [], all: [] };
  let side: keyof typeof cpuPerTick = 'un';
  async function sustained(ms: number): Promise<number> {
    const before = router.stats().ticks;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let pushed = 0;
    while (performance.now() - t0 < ms) {
      push(5_000, pushed);
      pushed += 5_000;
      await new Promise((r) => setImmediate(r));
    }
    const delivered = router.stats().ticks - before;
    const cpu = process.cpuUsage(cpu0);
    cpuPerTick[side].push(Number(((cpu.user + cpu.system) / delivered).toFixed(2)));
    return Math.round(delivered / ((performance.now() - t0) / 1000));
  }

  async function watched<T>(
    fn: () => Promise<T>,
    query = '',
  ): Promise<{ result: T; counts: StreamCount; seconds: number }> {
    const stream = await openStream(url + query);
    const t0 = performance.now();
    const result = await fn();
    const seconds = (performance.now() - t0) / 1000;
    const counts = { ...stream.counts };
    await stream.close();
    // The hub detaches once the stream is gone (inspection off again).
    for (let i = 0; i < 100 && runtime.inspection().attached; i++) await new Promise((r) => setTimeout(r, 10));
    return { result, counts, seconds };
  }

  /** The page in chromium: how long each diff takes to apply while ticks flow and 100 symbols flip health. */
  async function pageDiffs(): Promise<Record<string, unknown> | string> {
    if (!existsSync(CHROMIUM)) return `skipped: ${CHROMIUM} not found`;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
      await page.goto(url.replace('/inspect/stream', '/inspector'));
      await page.waitForSelector('#conn[data-state="open"]');
      await page.waitForSelector('#tree .row[data-actor-id="root"]');
      let flip = 0;
      const flips = setInterval(() => {
        for (let k = 0; k < 100; k++) {
          const sym = symbols[(flip * 100 + k) % SYMBOLS] as string;
          lookup(`sym:binance:${sym}`)?.send(
            flip % 2 === 0 ? { type: 'health.degrade', reason: `bench flip ${flip}` } : { type: 'health.ok' },
          );
        }
        flip++;
      }, 250);
      const ticks = await paced(20);
      clearInterval(flips);
      const stats = await page.evaluate(
        () =>
          (
            globalThis as unknown as {
              __bosunInspector: { applyMs: number[]; diffs: number; trees: number; treeMs?: number };
            }
          ).__bosunInspector,
      );
      const ms = [...stats.applyMs].sort((a, b) => a - b);
      const pct = (p: number) =>
        Number((ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))] ?? 0).toFixed(2));
      return {
        diffs_applied: stats.diffs,
        trees_received: stats.trees,
        diff_apply_ms: { p50: pct(50), p95: pct(95), max: pct(100) },
        full_tree_render_ms: Number((stats.treeMs ?? 0).toFixed(2)),
        rows_in_dom: await page.locator('#tree .row').count(),
        health_flips: flip * 100,
        ticks_delivered: ticks.ticks_delivered,
        target_p95_ms: 50,
      };
    } finally {
      await browser.close();
    }
  }

  // What the default stream costs per flush, whatever the tick rate: one tree description (1,000+ nodes) and the
  // per-node signature the diff compares; it runs 4 times a second while a client watches.
  const describeMs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    const walk = (n: ReturnType<typeof runtime.tree>): void => {
      JSON.stringify([n.status, n.liveness, n.health, n.reason, n.restarts, n.lastError ?? null, n.value]);
      for (const c of n.children) walk(c);
    };
    walk(runtime.tree());
    describeMs.push(performance.now() - t);
  }
  describeMs.sort((a, b) => a - b);
  const flushMs = Number((describeMs[15] as number).toFixed(2));
  // The hub spaces its flushes out to stay under MAX_FLUSH_DUTY of the event loop (inspection-hub.ts).
  const flushIntervalMs = Math.max(250, flushMs / MAX_FLUSH_DUTY);

  // Warm the actors and the JIT, unwatched.
  await sustained(1_000);
  cpuPerTick.un.length = 0;

  const pacedUnwatched = await paced(5);
  const w = await watched(() => paced(5));
  const perS = (n: number) => Number((n / w.seconds).toFixed(1));

  // Alternate unwatched / watched / watched-with-every-event, so drift on a shared machine hits every side.
  const un: number[] = [];
  const wa: number[] = [];
  const all: number[] = [];
  let allCounts: StreamCount | undefined;
  let allSeconds = 1;
  for (let round = 0; round < 5; round++) {
    side = 'un';
    un.push(await sustained(1_500));
    side = 'wa';
    wa.push((await watched(() => sustained(1_500))).result);
    side = 'all';
    const a = await watched(() => sustained(1_500), '?events=all');
    all.push(a.result);
    allCounts = a.counts;
    allSeconds = a.seconds;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const unwatched = median(un);
  const watchedRate = median(wa);
  const allRate = median(all);

  const page = await pageDiffs();

  await engine.close();
  await runtime.shutdown();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const recording = await recordingCost(log);

  return {
    symbols: SYMBOLS,
    stream_at_30k_ticks_per_s: {
      messages_per_s: perS(w.counts.tree + w.counts.nodes + w.counts.event + w.counts.heartbeat),
      tree_per_s: perS(w.counts.tree),
      nodes_messages_per_s: perS(w.counts.nodes),
      node_updates_per_s: perS(w.counts.nodeUpdates),
      event_batches_per_s: perS(w.counts.event),
      kbytes_per_s: Number((w.counts.bytes / 1024 / w.seconds).toFixed(1)),
    },
    diff_flush_ms_median: flushMs,
    flush_interval_ms: Math.round(flushIntervalMs),
    diff_cpu_pct_of_one_core: Number(((flushMs / flushIntervalMs) * 100).toFixed(2)),
    paced_30k_unwatched: pacedUnwatched,
    paced_30k_watched: w.result,
    cpu_per_tick_watched_over_unwatched: Number((w.result.cpu_us_per_tick / pacedUnwatched.cpu_us_per_tick).toFixed(2)),
    cpu_per_pushed_tick_watched_over_unwatched: Number(
      (w.result.cpu_us_per_pushed_tick / pacedUnwatched.cpu_us_per_pushed_tick).toFixed(2),
    ),
    sustained_ticks_per_s: {
      unwatched,
      watched: watchedRate,
      watched_all_events: allRate,
      rounds_unwatched: un,
      rounds_watched: wa,
      rounds_watched_all_events: all,
    },
    // CPU per delivered tick is less disturbed than wall throughput by other processes on a shared machine.
    sustained_cpu_us_per_tick: {
      unwatched: median(cpuPerTick.un),
      watched: median(cpuPerTick.wa),
      watched_all_events: median(cpuPerTick.all),
    },
    cpu_slowdown_pct: Number(((1 - median(cpuPerTick.un) / median(cpuPerTick.wa)) * 100).toFixed(1)),
    cpu_slowdown_all_events_pct: Number(((1 - median(cpuPerTick.un) / median(cpuPerTick.all)) * 100).toFixed(1)),
    sustained_slowdown_pct: Number((((unwatched - watchedRate) / unwatched) * 100).toFixed(1)),
    sustained_slowdown_all_events_pct: Number((((unwatched - allRate) / unwatched) * 100).toFixed(1)),
    all_events_stream: allCounts
      ? {
          event_batches_per_s: Number((allCounts.event / allSeconds).toFixed(1)),
          kbytes_per_s: Number((allCounts.bytes / 1024 / allSeconds).toFixed(1)),
        }
      : null,
    target_slowdown_pct: 5,
    transition_recording: recording,
    page,
  };
}
