import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { retryCrashCampaign } from './crash-harness.js';
import { startVenue } from './support.js';

/**
 * Issue 13 item 5: kill -9 0–30 ms into `POST /orders`, then the client's retry with the same Idempotency-Key:
 * never a second venue order. 4 runs here (two boots each, and a retry whose create never reached Kraken waits out
 * its 15 s accept window before it is resolved); the 200-run campaign is in test/long.
 * BOSUN_RETRY_CRASH_RUNS overrides.
 */
const RUNS = Number(process.env.BOSUN_RETRY_CRASH_RUNS ?? 4);
let sim: Simulator;

beforeAll(async () => {
  sim = await startVenue(13);
});
afterAll(async () => {
  await sim?.close();
});

it(`${RUNS} kill -9 runs into POST /orders, each retried with its Idempotency-Key: 0 duplicates`, async () => {
  const r = await retryCrashCampaign(sim, RUNS, 20261206);
  console.log(JSON.stringify({ retryCrash: { ...r, failures: r.failures.length } }));
  expect(r.failures).toEqual([]);
  expect(r.duplicates).toBe(0);
  expect(r.ordersAtVenue).toBeGreaterThan(0);
}, 600_000);
