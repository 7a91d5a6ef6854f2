import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printReport, runCampaign, startWorld } from './campaign.js';
import { campaignCoverage, campaignCoverageLine } from './harness.js';
import { perpCoverage, perpCoverageLine } from './perp-steps.js';

/**
 * One campaign test file (the seeds are split over two files, one per vitest worker): its own simulator world, a
 * base seed, SIM_SEEDS runs in `npm run test:long` and 150 in `npm test`.
 */
export function campaignFile(file: string, part: string, seed: number): void {
  const runs = Number(process.env.SIM_SEEDS || 150);
  let world: Awaited<ReturnType<typeof startWorld>>;

  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  describe(`money path, seeded simulation campaign (part ${part})`, () => {
    it(
      'holds I1–I15 over every seeded schedule (known failures reported with their replay)',
      async () => {
        const report = await runCampaign(world, { file, seed, runs });
        console.info(printReport(file, Number(process.env.SIM_SEED || seed), report));
        console.info(perpCoverageLine());
        console.info(campaignCoverageLine());
        expect(report.runs).toBeGreaterThan(0);
        // The perpetual steps reach what they are for (issue 16): positions both ways, exits, stops, funding.
        if (runs >= 100 && !process.env.SIM_PATH)
          for (const [k, v] of Object.entries(perpCoverage)) expect(v, `perpetual coverage: ${k}`).toBeGreaterThan(0);
        // Auto-cutback's REDUCING is reached (I15; its clearing, rarer in random draws, has a witness too).
        if (runs >= 100 && !process.env.SIM_PATH)
          expect(campaignCoverage.cutbackReducing, 'auto-cutback REDUCING entered').toBeGreaterThan(0);
      },
      120_000 + runs * 5_000,
    );
  });
}
