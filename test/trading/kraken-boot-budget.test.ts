/**
 * A boot on a Kraken key whose call counter is still full of another process's calls (the last incarnation
 * before a restart, or a second client on the key), with the simulator enforcing Kraken's limits (the pro tier,
 * max 20 decaying 1/s, so the drain takes seconds; starter's 0.33/s makes the same boot take about 30 s):
 * Bosun's budget starts empty, so its boot reconciliation meets `EAPI:Rate limit exceeded`. It must wait for the
 * counter to drain and reconcile, not fail and refuse every order `not_reconciled` until the next pass (before
 * the retry in CcxtGateway.run, the crash campaign on starter limits placed 0 of 4 orders).
 */
import type { Exchange } from 'ccxt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { krakenClient } from '../venues/sim-ccxt.js';
import { type InProcessBosun, startInProcess } from './in-process.js';
import { type OrderViewJson, post } from './support.js';

let sim: Simulator;
let b: InProcessBosun | undefined;

beforeAll(async () => {
  sim = await startSimulator({ host: '127.0.0.1', port: 0, seed: 61, krakenTier: 'pro' });
});
afterAll(async () => {
  await b?.stop();
  await sim?.close();
});

/** Spends the key's whole call counter from another client, until Kraken refuses. */
async function spendCounter(ex: Exchange): Promise<number> {
  for (let calls = 0; calls < 40; calls++) {
    try {
      await ex.fetchBalance();
    } catch (e) {
      expect(String(e)).toMatch(/EAPI:Rate limit exceeded/);
      return calls;
    }
  }
  throw new Error('the simulator never refused: are the pro limits on?');
}

it('reconciles at boot on a key whose counter another process spent, then takes an order', async () => {
  const other = krakenClient(sim);
  await other.loadMarkets();
  // The pro counter holds 20 calls.
  expect(await spendCounter(other)).toBe(20);
  const refusedBefore = sim.krakenRateLimited().calls;
  // Where the refusal lands depends on how full the counter is when each boot call comes; this pins one on the
  // reconciliation's trade history read, the read the crash campaign's boots lost.
  sim.faults.add({
    kind: 'venue_error',
    venue: 'kraken',
    path: '/0/private/TradesHistory',
    error: 'EAPI:Rate limit exceeded',
    count: 1,
  });

  b = await startInProcess(sim, {
    VENUES: 'kraken',
    KRAKEN_TIER: 'pro',
    TRADE_SYMBOLS: 'ETHUSDT',
    BAR_MS: '3600000',
  });
  // Bosun met the refusal at boot (the case under test), and boot recovery still reconciled.
  expect(sim.krakenRateLimited().calls).toBeGreaterThan(refusedBefore);
  expect(b.trading.engine.unreconciledVenues()).not.toContain('kraken');

  const placed = await post(`${b.engine}/orders`, { symbol: 'ETHUSDT.KRAKEN', side: 'BUY', quote: 15 });
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  expect((placed.body.order as OrderViewJson).venue).toBe('kraken');
}, 120_000);
