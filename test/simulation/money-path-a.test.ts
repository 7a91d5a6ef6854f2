import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printReport, runCampaign, startWorld } from './campaign.js';

const FILE = 'test/simulation/money-path-a.test.ts';
/** Seeds run by this file: 150 in `npm test` (two files, one per worker), SIM_SEEDS in `npm run test:long`. */
const RUNS = Number(process.env.SIM_SEEDS || 150);
const SEED = 1301;
let world: Awaited<ReturnType<typeof startWorld>>;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

describe('money path, seeded simulation campaign (part A)', () => {
  it(
    'holds I1–I8 over every seeded schedule (known failures reported with their replay)',
    async () => {
      const report = await runCampaign(world, { file: FILE, seed: SEED, runs: RUNS });
      console.info(printReport(FILE, Number(process.env.SIM_SEED || SEED), report));
      expect(report.runs).toBeGreaterThan(0);
    },
    120_000 + RUNS * 5_000,
  );
});
