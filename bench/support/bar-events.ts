import { createActor } from 'xstate';
import { type BarClosedEvent, symbolMachine } from '../../src/machines/symbol.machine.js';
import { fastTrendEnv } from '../../src/strategies/fast-env.js';

/**
 * Bar events straight into symbol actors, no router, no engine: the actor's own cost per `bar.closed` (CPU and
 * bytes allocated), for `tick-to-order.bench.ts` and profiling (`node --cpu-prof --import tsx bench/support/bar-events.ts`).
 */
export function barEventCost(opts: { symbols: number; bars: number }) {
  const env = fastTrendEnv();
  let signals = 0;
  const logic = symbolMachine.provide({ actions: { 'sym.signal': () => void signals++ } });
  const actors = Array.from({ length: opts.symbols }, (_, i) =>
    createActor(logic, {
      input: { venue: 'binance', symbol: `S${i}`, barMs: 100, baseCooldownMs: 5_000, env, trading: 'ACTIVE' },
    }).start(),
  );
  const px = new Float64Array(opts.symbols).fill(100);
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const send = (round: number, from = 0, to = opts.symbols) => {
    for (let i = from; i < to; i++) {
      const p = (px[i] as number) * (1 + (rnd() - 0.5) * 0.004);
      px[i] = p;
      const at = 1_000_000 + round * 100;
      const e: BarClosedEvent = {
        type: 'bar.closed',
        bar: { openAt: at - 100, open: p, high: p, low: p, close: p, ticks: 1 },
        price: p,
        receivedAt: at,
        t0: at,
        ticks: 1,
      };
      (actors[i] as { send(e: BarClosedEvent): void }).send(e);
    }
  };
  // Warm-up (JIT, the trend's slow EMA).
  for (let r = 0; r < 200; r++) send(r);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  let allocated = 0;
  let cleanRounds = 0; // events in the clean chunks
  let last = heap0;
  // Measured in chunks of CHUNK events, small next to the young generation so most chunks see no scavenge.
  const CHUNK = 50;
  for (let r = 200; r < 200 + opts.bars; r++)
    for (let from = 0; from < opts.symbols; from += CHUNK) {
      last = process.memoryUsage().heapUsed;
      send(r, from, Math.min(opts.symbols, from + CHUNK));
      // Heap growth over a chunk; a chunk a scavenge ran in (the heap shrank) is left out of the average.
      const h = process.memoryUsage().heapUsed;
      if (h >= last) {
        allocated += h - last;
        cleanRounds += Math.min(opts.symbols, from + CHUNK) - from;
      }
    }
  const cpu = process.cpuUsage(cpu0);
  const events = opts.symbols * opts.bars;
  for (const a of actors) a.stop();
  return {
    bar_events: events,
    cpu_us_per_bar_event: Number(((cpu.user + cpu.system) / events).toFixed(2)),
    bytes_per_bar_event: Math.round(allocated / cleanRounds),
    signals,
  };
}

if (process.argv[1]?.endsWith('bar-events.ts')) {
  process.stdout.write(`${JSON.stringify(barEventCost({ symbols: 1_000, bars: 300 }))}\n`);
}

if (process.argv[1]?.endsWith('bar-events.ts') && process.env.ALLOC_PROFILE) {
  const { allocationProfile } = await import('./alloc-profile.js');
  const top = await allocationProfile(
    () => void barEventCost({ symbols: 200, bars: 300 }),
    process.env.ALLOC_PROFILE,
    25,
  );
  for (const t of top) process.stdout.write(`${t.pct}%\t${t.site}\n`);
}
