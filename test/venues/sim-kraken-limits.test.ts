/**
 * The simulator enforces Kraken's documented spot rate limits per API key (src/venues/sim/kraken-gate.ts), seen
 * through the real `ccxt.kraken` class: the call counter of the starter tier (max 15, decays 0.33/s, trade history
 * costs 2, orders cost nothing on it) and the per-pair trading counter (a cancel of a young order costs 8). Time
 * is a manual clock, so the decay is exact.
 */
import type { Exchange } from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { krakenClient } from './sim-ccxt.js';

let sim: Simulator;
let ex: Exchange;
let clock: ManualClock;

beforeAll(async () => {
  clock = createManualClock();
  sim = await startSimulator({ seed: 35, clock, krakenTier: 'starter' });
  ex = krakenClient(sim);
  await ex.loadMarkets();
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  return 'accepted';
}

describe("Kraken's rate limits in the simulator (starter tier)", () => {
  it('answers the 16th back-to-back private call EAPI:Rate limit exceeded, and the next after the counter decayed', async () => {
    for (let i = 0; i < 15; i++) await ex.fetchBalance();
    const r = await refusal(ex.fetchBalance());
    expect(r).toMatch(/EAPI:Rate limit exceeded/);
    // ccxt maps it to its rate-limit family, which Bosun's error classifier reads as a venue 429.
    expect(r).toMatch(/^(DDoSProtection|RateLimitExceeded)/);
    // A refused call is not counted: 3.1 s later the counter has decayed by 1.02 and one call fits.
    clock.advance(3_100);
    await ex.fetchBalance();
    expect(await refusal(ex.fetchBalance())).toMatch(/EAPI:Rate limit exceeded/);
    expect(sim.krakenRateLimited()).toEqual({ calls: 2, trading: 0 });
  });

  it('charges trade history 2 and order placement nothing on the call counter', async () => {
    for (let i = 0; i < 7; i++) await ex.fetchMyTrades();
    // 14 of 15: one more history call (2) does not fit, a plain call (1) does.
    expect(await refusal(ex.fetchMyTrades())).toMatch(/EAPI:Rate limit exceeded/);
    for (let i = 0; i < 5; i++)
      await ex.createOrder('BTC/USD', 'limit', 'buy', 0.001, 1000, { clientOrderId: `kl-${i}` });
    await ex.fetchBalance();
    expect(await refusal(ex.fetchBalance())).toMatch(/EAPI:Rate limit exceeded/);
  });

  it('charges a cancel of a young order 8 on the pair trading counter, an old one nothing, each pair apart', async () => {
    // Starter threshold 60: six placements (1 each) and their cancels at age 0 (8 each) make 54; the seventh
    // placement makes 55 and its cancel would make 63.
    const cancels: string[] = [];
    let last = '';
    for (let i = 0; i < 7; i++) {
      last = (await ex.createOrder('ETH/USD', 'limit', 'buy', 0.01, 100, { clientOrderId: `kc-${i}` })).id!;
      cancels.push(await refusal(ex.cancelOrder(last, 'ETH/USD')));
    }
    expect(cancels.slice(0, 6)).toEqual(Array(6).fill('accepted'));
    expect(cancels[6]).toMatch(/EOrder:Rate limit exceeded/);
    expect(sim.krakenRateLimited()).toEqual({ calls: 0, trading: 1 });
    // Another pair has its own counter.
    const btc = await ex.createOrder('BTC/USD', 'limit', 'buy', 0.001, 1000, { clientOrderId: 'kc-btc' });
    expect(await refusal(ex.cancelOrder(btc.id!, 'BTC/USD'))).toBe('accepted');
    // The refused cancel left its order open; five minutes on the counter has decayed and the order is old: free.
    clock.advance(301_000);
    expect(await refusal(ex.cancelOrder(last, 'ETH/USD'))).toBe('accepted');
  });

  it('enforces nothing when krakenTier is not given', async () => {
    const free = await startSimulator({ seed: 36, clock: createManualClock() });
    try {
      const c = krakenClient(free);
      await c.loadMarkets();
      for (let i = 0; i < 30; i++) await c.fetchBalance();
    } finally {
      await free.close();
    }
  });
});
