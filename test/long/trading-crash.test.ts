import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { crashCampaign } from '../trading/crash-harness.js';
import { startVenue } from '../trading/support.js';

/** The full issue-4 campaign: 200 kill -9 runs while orders flow (Kraken dialect), each restarted and checked. */
const RUNS = Number(process.env.BOSUN_CRASH_RUNS ?? 200);
let sim: Simulator;

beforeAll(async () => {
  sim = await startVenue(9);
});
afterAll(async () => {
  await sim?.close();
});

it(`survives ${RUNS} kill -9 runs while orders flow: nothing acknowledged lost or duplicated`, async () => {
  const r = await crashCampaign(sim, RUNS, 20261124, ['kraken']);
  console.log(JSON.stringify({ crash: { ...r, failures: r.failures.length } }));
  expect(r.failures).toEqual([]);
  expect(r.acknowledged).toBeGreaterThan(RUNS);
}, 1_800_000);
