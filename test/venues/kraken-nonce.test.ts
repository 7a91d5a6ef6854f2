import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { paperGateway, startTestSim } from './gateway-harness.js';

/**
 * Kraken wants a strictly increasing nonce per key. ccxt's nonce is assigned when a request is signed, so two
 * private calls in flight at once (boot recovery's balance read beside the account actor's, a reconcile beside the
 * stop validator) can reach the venue in the other order, and the later-signed one that arrives first makes the
 * other `EAPI:Invalid nonce`. The gateway sends Kraken's private calls one at a time, in nonce order.
 */
let sim: Simulator;
beforeAll(async () => {
  sim = await startTestSim(41);
});
afterAll(async () => {
  await sim.close();
});

it('concurrent private Kraken calls all succeed (no Invalid nonce)', async () => {
  const g = paperGateway(sim, 'kraken');
  await g.loadMarkets();
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? g.fetchBalances('spot') : g.fetchOpenOrders())),
  );
  const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
  expect(failed).toEqual([]);
});
