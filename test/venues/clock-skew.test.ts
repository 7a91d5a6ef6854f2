import { afterEach, describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { waitFor } from 'xstate';
import { createAccountBook } from '../../src/actors/account-book.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { startVenueRig } from '../support/runtime-options.js';
import { until } from '../trading/support.js';
import { paperGateway, startTestSim } from './gateway-harness.js';

/**
 * Clock skew between Bosun and the venue. The simulator enforces Binance's recvWindow (-1021 for a timestamp
 * 1 s ahead of its clock or older than recvWindow), so ±20 s refuses every signed call unless the gateway
 * measures the venue clock and offsets its timestamps (ccxt `adjustForTimeDifference`).
 */
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function sim(): Promise<Simulator> {
  const s = await startTestSim(13);
  cleanup.push(() => s.close());
  return s;
}

describe('venue clock offset', () => {
  it.each([20_000, -20_000])('with the venue clock %i ms from ours, signed Binance calls succeed', async (ms) => {
    const s = await sim();
    s.faults.add({ kind: 'clock_skew', venue: 'binance', ms });
    const gw = paperGateway(s, 'binance');
    cleanup.push(() => gw.close());
    await gw.loadMarkets();
    await expect(gw.fetchBalances()).resolves.toHaveProperty('USDT');
    await expect(gw.fetchOpenOrders('BTCUSDT')).resolves.toBeInstanceOf(Array);
    expect(Math.abs((gw.clockOffsetMs() ?? 0) - ms)).toBeLessThan(1_000);
    expect(s.requests().byStatus['binance 400'] ?? 0).toBe(0);
  });

  it('a skew that appears at run time costs a -1021, flags the clock for measuring, and a measure fixes it', async () => {
    const s = await sim();
    const gw = paperGateway(s, 'binance');
    cleanup.push(() => gw.close());
    await gw.loadMarkets();
    await gw.fetchBalances();
    s.faults.add({ kind: 'clock_skew', venue: 'binance', ms: 20_000 });
    await expect(gw.fetchBalances()).rejects.toMatchObject({ info: { tag: 'nonce' } });
    expect(gw.clockSyncNeeded()).toBe(true);
    await gw.syncClock(); // what the account refresh does on its next run
    expect(gw.clockSyncNeeded()).toBe(false);
    await expect(gw.fetchBalances()).resolves.toHaveProperty('USDT');
    expect(Math.abs((gw.clockOffsetMs() ?? 0) - 20_000)).toBeLessThan(1_000);
  });

  it('conn:binance shows the offset and goes DEGRADED beyond VENUE_CLOCK_OFFSET_MAX_MS, still trading', async () => {
    const s = await sim();
    s.faults.add({ kind: 'clock_skew', venue: 'binance', ms: 20_000 });
    const gw = paperGateway(s, 'binance');
    cleanup.push(() => gw.close());
    const metrics = createMetrics({ defaultMetrics: false });
    const book = createAccountBook(metrics);
    const kv = new Map<string, unknown>();
    const runtime = await startVenueRig({
      metrics,
      kv: { get: (k) => kv.get(k), put: async (k, v) => kv.set(k, v) },
      venue: {
        venue: 'binance',
        gateway: gw,
        book,
        symbols: ['BTCUSDT'],
        feedIntervalMs: 50,
        feedStaleMs: 60_000,
        accountIntervalMs: 100,
        conn: { clockLimitMs: 2_000 },
      },
    });
    cleanup.push(() => runtime.shutdown());
    const conn = runtime.root().system.get('conn:binance') as AnyActorRef;
    const snap = await waitFor(conn, (x) => x.context.clockOffsetMs !== null, { timeout: 10_000 });
    expect(Math.abs(snap.context.clockOffsetMs - 20_000)).toBeLessThan(1_000);
    await waitFor(conn, (x) => x.context.health.value === 'DEGRADED', { timeout: 10_000 });
    expect(conn.getSnapshot().context.health.reason).toMatch(/^clock_offset: venue clock \+/);
    // Corrected: the account refresh (signed) works.
    await until('balances', () => book.get('binance')?.balances.USDT);
    expect(conn.getSnapshot().context.errors).toBe(0);
  });
});
