import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { createAccountBook } from '../../src/actors/account-book.js';
import type { RoutedTick } from '../../src/actors/tick-router.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { openStore } from '../../src/store/index.js';
import { createGateway, createVenueStreams } from '../../src/venues/index.js';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { startVenueRig } from '../support/runtime-options.js';
import { until } from '../trading/support.js';

/**
 * feed:<venue> streaming through real ccxt.pro against the simulator: ticks come by stream (no REST ticker polls),
 * a stream outage turns the feed DEGRADED "stream down, polling" with ticks from REST, and the feed is OK again,
 * streaming, once the stream reconnects on its own.
 */
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const TICKERS = 'GET /0/public/Ticker';

async function stack() {
  const sim: Simulator = await startSimulator({ seed: 3, streams: { pushMs: 40, heartbeatMs: 40 } });
  cleanup.push(() => sim.close());
  const store = await openStore({ dir: join(mkdtempSync(join(tmpdir(), 'bosun-feed-stream-')), 'db') });
  cleanup.push(() => store.close());
  const metrics = createMetrics({ defaultMetrics: false });
  const gateway = createGateway('kraken', {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    ...sim.keys.kraken,
    timeoutMs: 2_000,
    // The starter tier's budget would pace the fallback polls seconds apart; this test is about the stream.
    krakenTier: 'pro',
  });
  cleanup.push(() => gateway.close());
  const ticks: RoutedTick[] = [];
  const runtime = await startVenueRig({
    metrics,
    kv: store.kv,
    venue: {
      venue: 'kraken',
      gateway,
      book: createAccountBook(metrics),
      symbols: ['BTCUSD', 'ETHUSD'],
      feedIntervalMs: 100,
      feedStaleMs: 5_000,
      accountIntervalMs: 60_000,
      onTick: (t) => ticks.push(t),
      marketStream: () =>
        createVenueStreams(gateway, {
          timing: { silenceMs: 500, keepAliveMs: 200, backoffMinMs: 20, backoffMaxMs: 100 },
        }).tickers('spot'),
    },
  });
  cleanup.push(() => runtime.shutdown());
  const feed = () => runtime.root().system.get('feed:kraken') as AnyActorRef;
  const ctx = () => feed().getSnapshot().context as { health: { value: string; reason: string }; stream: string };
  return { sim, ticks, ctx };
}

describe('feed by stream', () => {
  it('streams ticks, polls REST while the stream is down (DEGRADED), and streams again on its own', async () => {
    const { sim, ticks, ctx } = await stack();
    await until('streaming', () => (ctx().stream === 'live' ? true : undefined), 10_000);
    // The feed polls REST only until the stream is first live; from then on, ticker requests stop.
    const polledBefore = sim.requests().byPath[TICKERS] ?? 0;
    const streamedFrom = ticks.length;
    await until('ten streamed ticks on each symbol', () =>
      ['BTCUSD', 'ETHUSD'].every((s) => ticks.slice(streamedFrom).filter((t) => t.symbol === s).length >= 10)
        ? true
        : undefined,
    );
    // Polling every 100 ms would have sent one request per 100 ms of that wait; at the switch to live one poll may
    // be in flight and one more may have fired in the same turn (seen under the full suite's load).
    expect((sim.requests().byPath[TICKERS] ?? 0) - polledBefore).toBeLessThanOrEqual(2);
    expect(ctx().health.value).toBe('OK');

    sim.streams.fault({ kind: 'outage', venue: 'kraken' });
    sim.streams.fault({ kind: 'drop', venue: 'kraken' });
    const degraded = await until('degraded', () => (ctx().health.value === 'DEGRADED' ? ctx().health : undefined));
    expect(degraded.reason).toMatch(/^stream down, polling/);
    const polledDuring = sim.requests().byPath[TICKERS] ?? 0;
    const during = ticks.length;
    await until('REST polls deliver ticks', () =>
      (sim.requests().byPath[TICKERS] ?? 0) > polledDuring && ticks.length > during ? true : undefined,
    );
    expect(ctx().health.reason).toMatch(/^stream down, polling/);

    sim.streams.clearFaults();
    await until('OK and streaming', () => (ctx().health.value === 'OK' && ctx().stream === 'live' ? true : undefined));
    const polledAfter = sim.requests().byPath[TICKERS] ?? 0;
    const after = ticks.length;
    await until('streamed ticks resume', () => (ticks.length > after + 4 ? true : undefined));
    // At most one poll was in flight when the stream came back.
    expect((sim.requests().byPath[TICKERS] ?? 0) - polledAfter).toBeLessThanOrEqual(1);
  });
});
