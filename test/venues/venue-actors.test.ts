import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AnyActorRef, waitFor } from 'xstate';
import { createAccountBook } from '../../src/actors/account-book.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createGateway } from '../../src/venues/index.js';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { startVenueRig } from '../support/runtime-options.js';

/**
 * Venue actors against the real simulator through the real ccxt classes: conn health under injected faults,
 * the account actor's balances, and a bad key that must halt the venue without a retry storm.
 */
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function stack(opts: { secret?: string } = {}) {
  const sim: Simulator = await startSimulator({ seed: 7 });
  cleanup.push(() => sim.close());
  const store: Store = await openStore({ dir: join(mkdtempSync(join(tmpdir(), 'bosun-venue-')), 'db') });
  cleanup.push(() => store.close());
  const metrics: Metrics = createMetrics({ defaultMetrics: false });
  const book = createAccountBook(metrics);
  const gateway = createGateway('binance', {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    apiKey: sim.keys.binance.apiKey,
    secret: opts.secret ?? sim.keys.binance.secret,
    timeoutMs: 2_000,
  });
  cleanup.push(() => gateway.close());
  const runtime = await startVenueRig({
    metrics,
    kv: store.kv,
    statusExtras: () => ({ balances: book.balances() }),
    venue: {
      venue: 'binance',
      gateway,
      book,
      symbols: ['BTCUSDT', 'ETHUSDT'],
      feedIntervalMs: 25,
      feedStaleMs: 5_000,
      accountIntervalMs: 100,
      conn: { windowSize: 20, minSamples: 5 },
    },
  });
  cleanup.push(() => runtime.shutdown());
  const conn = () => runtime.root().system.get('conn:binance') as AnyActorRef;
  const healthMetric = async (actor: string) =>
    (await metrics.healthState.get()).values.find((v) => v.labels.actor === actor)?.value;
  return { sim, runtime, metrics, book, conn, healthMetric };
}

describe('venue actors against the simulator', () => {
  it('the account actor reads the venue, but never drives equity: the ledger is the one book', async () => {
    const s = await stack();
    const acct = s.runtime.root().system.get('account:binance') as AnyActorRef;
    const snap = await waitFor(acct, (x) => x.context.summary !== undefined, { timeout: 10_000 });
    expect(snap.context.summary.cashUsd).toBeGreaterThan(0);
    expect(snap.context.summary.equityUsd).toBeGreaterThan(snap.context.summary.cashUsd);
    expect(s.book.get('binance')?.balances.USDT?.total).toBeGreaterThan(0);
    // No ledger in this stack: no balances claimed in /status and no equity published from the venue's view.
    expect(s.runtime.statusExtras().balances).toEqual({});
    expect((await s.metrics.equityUsd.get()).values[0]?.value ?? 0).toBe(0);
  });

  it('walks OK → DEGRADED → HALTED → OK under injected faults and recovery, and health_state follows', async () => {
    const s = await stack();
    await waitFor(s.conn(), (x) => x.context.requests >= 10, { timeout: 10_000 });
    expect(s.conn().getSnapshot().context.health.value).toBe('OK');
    expect(await s.healthMetric('conn:binance')).toBe(0);
    const partial = s.sim.faults.add({ kind: 'http_5xx', venue: 'binance', path: '/api/v3/ticker', rate: 0.4 });
    const degraded = await waitFor(s.conn(), (x) => x.context.health.value !== 'OK', { timeout: 10_000 });
    expect(degraded.context.health.value).toBe('DEGRADED');
    expect(degraded.context.health.reason).toMatch(/^error_rate/);
    expect(await s.healthMetric('conn:binance')).toBe(1);
    s.sim.faults.remove(partial.id);
    s.sim.faults.add({ kind: 'http_5xx', venue: 'binance', rate: 1 });
    const halted = await waitFor(s.conn(), (x) => x.context.health.value === 'HALTED', { timeout: 10_000 });
    expect(halted.context.health.reason).toMatch(/^venue_unavailable/);
    expect(await s.healthMetric('conn:binance')).toBe(2);
    expect(s.runtime.health().value).toBe('HALTED');
    s.sim.faults.clear();
    await waitFor(s.conn(), (x) => x.context.health.value === 'OK', { timeout: 10_000 });
    expect(await s.healthMetric('conn:binance')).toBe(0);
  });

  it('halts on a bad signature with the reason and sends no more requests (no retry storm)', async () => {
    const s = await stack({ secret: 'f'.repeat(64) });
    const halted = await waitFor(s.conn(), (x) => x.context.health.value === 'HALTED', { timeout: 10_000 });
    expect(halted.context.health.reason).toMatch(/^auth: /);
    const feed = s.runtime.root().system.get('feed:binance') as AnyActorRef;
    const atHalt = feed.getSnapshot().context.failures as number;
    // Let requests already in flight when the venue was blocked finish: five polls later, none can be left.
    await waitFor(feed, (x) => x.context.failures >= atHalt + 5, { timeout: 10_000 });
    const before = s.sim.requests().byVenue.binance;
    // Twenty more polls happen while the venue is blocked; none of them may reach the venue.
    await waitFor(feed, (x) => x.context.failures >= atHalt + 25, { timeout: 10_000 });
    expect(s.sim.requests().byVenue.binance).toBe(before);
    expect(before).toBeLessThanOrEqual(8);
    s.runtime.send('conn:binance', { type: 'conn.reset', at: Date.now() });
    expect(s.conn().getSnapshot().context.health.value).toBe('OK');
  });
});
