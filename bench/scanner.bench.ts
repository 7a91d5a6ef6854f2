/**
 * The symbol scanner over 1,000 symbols (issue 5): time per pass (ticker batch → scores → shortlist → symbol
 * actors started/stopped under a real supervisor → state file written atomically) and the event-loop delay p99
 * while passes run back to back (target ≤ 10 ms: the pass yields to the loop between chunks of 250 symbols).
 * The venue is a stub gateway answering from memory, so the figure is Bosun's own cost, not the network's.
 * Measures; never asserts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createActor, fromCallback } from 'xstate';
import { createScanner } from '../src/actors/scanner.actors.js';
import { createLogger } from '../src/logging/logger.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { createSupervisor } from '../src/supervisor/supervisor.js';
import type { MarketInfo, Ticker, VenueGateway } from '../src/venues/venue-gateway.js';

const SYMBOLS = 1_000;
const PASSES = 30;
const TOP_N = 50;

function stubGateway(n: number): VenueGateway {
  const markets: Record<string, MarketInfo> = {};
  const price = new Map<string, number>();
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1664525 + 1013904223) % 4294967296;
    return seed / 4294967296;
  };
  for (let i = 0; i < n; i++) {
    const symbol = `S${String(i).padStart(4, '0')}USDT`;
    markets[symbol] = {
      symbol,
      market: 'spot',
      base: symbol.replace('USDT', ''),
      quote: 'USDT',
      active: true,
      minQty: 0.001,
      stepSize: 0.001,
      tickSize: 0.01,
      minNotional: 5,
      venueSymbol: symbol,
    };
    price.set(symbol, 1 + rnd() * 1000);
  }
  return {
    loadMarkets: async () => undefined,
    markets: () => markets,
    fetchTickers: async (symbols: readonly string[]) => {
      const out: Record<string, Ticker> = {};
      for (const s of symbols) {
        const p = (price.get(s) ?? 1) * (1 + (rnd() - 0.5) * 0.02);
        price.set(s, p);
        out[s] = {
          symbol: s,
          market: 'spot',
          bid: p * 0.9999,
          ask: p * 1.0001,
          last: p,
          venueTs: Date.now(),
          receivedAt: Date.now(),
          quoteVolume: rnd() * 1e8,
          changePct: (rnd() - 0.5) * 10,
        };
      }
      return out;
    },
  } as unknown as VenueGateway;
}

export async function run(): Promise<Record<string, unknown>> {
  const gw = stubGateway(SYMBOLS);
  const sup = createSupervisor({
    strategy: 'one_for_one',
    intensity: 1_000,
    periodMs: 60_000,
    logics: { symbol: fromCallback(() => () => {}) },
    children: [],
  });
  const root = createActor(sup, { systemId: 'symbols:binance' }).start();
  let live: readonly string[] = [];
  const scanner = createScanner({
    enabled: true,
    intervalMs: 3_600_000,
    topN: TOP_N,
    statePath: join(mkdtempSync(join(tmpdir(), 'bosun-scan-bench-')), 'symbol_scanner_state.json'),
    venues: ['binance'],
    gateway: () => gw,
    candidate: () => true,
    protectedSymbols: () => [],
    liveSymbols: () => live,
    setLiveSymbols: (_v, l) => {
      live = l;
    },
    symbolSpec: (_v, s) => ({ id: `sym:binance:${s}`, src: 'symbol', shutdownMs: 0 }),
    drain: async () => 0,
    lookup: (id) => root.system.get(id),
    metrics: createMetrics({ defaultMetrics: false }),
    log: createLogger({ level: 'silent', stdout: false }).log,
  });
  await scanner.runPass('warm-up');
  // Control: the same histogram over an idle second, so a loaded machine's own noise is visible in the figures.
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((r) => setTimeout(r, 1_000));
  idle.disable();
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const times: number[] = [];
  let changed = 0;
  for (let i = 0; i < PASSES; i++) {
    const before = new Set(live);
    const t0 = performance.now();
    await scanner.runPass('bench');
    times.push(performance.now() - t0);
    changed += live.filter((s) => !before.has(s)).length;
  }
  h.disable();
  root.stop();
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(2));
  return {
    symbols: SYMBOLS,
    passes: PASSES,
    top_n: TOP_N,
    pass_ms_p50: q(0.5),
    pass_ms_p99: q(0.99),
    pass_ms_max: q(1),
    symbols_swapped_per_pass: Number((changed / PASSES).toFixed(1)),
    event_loop_delay_p99_ms: Number((h.percentile(99) / 1e6).toFixed(2)),
    event_loop_delay_max_ms: Number((h.max / 1e6).toFixed(2)),
    target_event_loop_delay_p99_ms: 10,
    idle_event_loop_delay_p99_ms: Number((idle.percentile(99) / 1e6).toFixed(2)),
    idle_event_loop_delay_max_ms: Number((idle.max / 1e6).toFixed(2)),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
