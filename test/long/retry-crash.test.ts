import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { retryCrashCampaign } from '../trading/crash-harness.js';
import { startVenue } from '../trading/support.js';

/**
 * The full issue-13 retry campaign: 200 kill -9 runs into POST /orders, each retried with the same key. Two
 * campaigns of 100 run side by side, each against its own simulator and state directory (a run takes ~10 s, most
 * of it a retry waiting out Kraken's 15 s accept window when the first create never reached the venue).
 */
const RUNS = Number(process.env.BOSUN_RETRY_CRASH_RUNS ?? 200);
const sims: Simulator[] = [];

beforeAll(async () => {
  sims.push(await startVenue(17), await startVenue(19));
});
afterAll(async () => {
  for (const s of sims) await s.close();
});

it(`${RUNS} kill -9 runs into POST /orders with client retries: 0 duplicates`, async () => {
  const half = Math.ceil(RUNS / 2);
  const [a, b] = await Promise.all([
    retryCrashCampaign(sims[0] as Simulator, half, 20261207),
    retryCrashCampaign(sims[1] as Simulator, RUNS - half, 20261208),
  ]);
  const total = {
    runs: a.runs + b.runs,
    answeredBeforeKill: a.answeredBeforeKill + b.answeredBeforeKill,
    ordersAtVenue: a.ordersAtVenue + b.ordersAtVenue,
    duplicates: a.duplicates + b.duplicates,
    failures: [...a.failures, ...b.failures],
  };
  console.log(JSON.stringify({ retryCrash: { ...total, failures: total.failures.length } }));
  expect(total.failures).toEqual([]);
  expect(total.duplicates).toBe(0);
}, 3_600_000);
