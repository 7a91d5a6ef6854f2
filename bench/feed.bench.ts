import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assign, setup } from 'xstate';
import { createAccountBook } from '../src/actors/account-book.js';
import { buildVenueSubtree } from '../src/actors/venue.actors.js';
import { createLogger } from '../src/logging/logger.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { openStore } from '../src/store/index.js';
import { createRuntime, type Runtime } from '../src/supervisor/runtime.js';
import { createSupervisor } from '../src/supervisor/supervisor.js';
import { createGateway } from '../src/venues/index.js';
import { startSimulator } from '../src/venues/sim/index.js';
import { VENUE_RIG_RUNTIME_OPTIONS } from '../test/support/runtime-options.js';

/**
 * Feed throughput: the real feed actor polls 1,000 symbols from the simulator through the real Binance gateway
 * and delivers one tick per symbol per poll (latest wins) to 1,000 symbol actors (bench leaves counting ticks,
 * in buckets of 100). Reports ticks delivered per second of wall time and the per-poll cost.
 */
const counter = setup({
  types: {} as { context: { ticks: number; last: number } },
}).createMachine({
  context: { ticks: 0, last: 0 },
  on: {
    'venue.tick': {
      actions: assign({
        ticks: ({ context }) => context.ticks + 1,
        last: ({ event }) => (event as unknown as { receivedAt: number }).receivedAt,
      }),
    },
  },
});

export async function run(): Promise<Record<string, unknown>> {
  const sim = await startSimulator({ seed: 5, extraAlts: 995 });
  const store = await openStore({ dir: join(mkdtempSync(join(tmpdir(), 'bosun-bench-feed-')), 'db') });
  const metrics = createMetrics({ defaultMetrics: false });
  const log = createLogger({ level: 'silent', stdout: false }).log;
  const gateway = createGateway('binance', {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    apiKey: sim.keys.binance.apiKey,
    secret: sim.keys.binance.secret,
  });
  await gateway.loadMarkets();
  const symbols = Object.keys(gateway.markets('spot')).slice(0, 1000);
  const buckets = Array.from({ length: 10 }, (_, b) =>
    createSupervisor({
      strategy: 'one_for_one',
      intensity: 10,
      periodMs: 60_000,
      logics: { counter },
      children: symbols
        .slice(b * 100, b * 100 + 100)
        .map((s) => ({ id: `sym:binance:${s}`, src: 'counter', shutdownMs: 0, critical: false })),
    }),
  );
  const symbolsSup = createSupervisor({
    strategy: 'one_for_one',
    intensity: 10,
    periodMs: 60_000,
    logics: Object.fromEntries(buckets.map((b, i) => [`b${i}`, b])),
    children: buckets.map((_, i) => ({ id: `symbols:binance:${i}`, src: `b${i}`, shutdownMs: 0 })),
  });
  let runtime: Runtime | undefined;
  runtime = createRuntime({
    options: VENUE_RIG_RUNTIME_OPTIONS,
    log,
    metrics,
    kv: store.kv,
    onFatal: () => {},
    subtrees: (hooks) => [
      { spec: { id: 'symbols:binance', src: 'symbols', shutdownMs: 0 }, logics: { symbols: symbolsSup } },
      buildVenueSubtree({
        venue: 'binance',
        gateway,
        metrics,
        log,
        book: createAccountBook(metrics),
        lookup: (id) => runtime?.root().system.get(id),
        symbols,
        feedIntervalMs: 100,
        feedStaleMs: 10_000,
        accountIntervalMs: 60_000,
        hooks,
      }),
    ],
  });
  await runtime.start();
  const total = () => {
    let n = 0;
    for (const s of symbols)
      n += (runtime!.root().system.get(`sym:binance:${s}`)?.getSnapshot().context.ticks as number) ?? 0;
    return n;
  };
  const feed = () => runtime!.root().system.get('feed:binance')?.getSnapshot().context as { polls: number };
  const t0 = performance.now();
  const n0 = total();
  const p0 = feed().polls;
  await new Promise((r) => setTimeout(r, 10_000));
  const secs = (performance.now() - t0) / 1000;
  const delivered = total() - n0;
  const polls = feed().polls - p0;
  await runtime.shutdown();
  await gateway.close();
  await sim.close();
  await store.close();
  return {
    symbols: symbols.length,
    seconds: Number(secs.toFixed(1)),
    polls,
    ticks_delivered: delivered,
    ticks_per_s: Math.round(delivered / secs),
    ms_per_poll: Number(((secs * 1000) / Math.max(1, polls)).toFixed(1)),
    note: 'one tick per symbol per poll (latest wins); polls never overlap, so a slow venue lowers the poll rate instead of queueing',
  };
}
