import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import type { GoLiveReport } from '../../domain/golive.js';
import type { RouteContext, ZodApp } from '../route-context.js';

/**
 * `GET /golive` (ops, a read like `/status`): the staged go-live's stage, the flags it wants against the running
 * config, and the evidence gating the next step (src/actors/golive.ts). Advisory: no route changes a flag.
 */
export interface GoLivePort {
  report(): Promise<GoLiveReport>;
}

const Evidence = z.looseObject({
  id: z.enum(['futures_taker_slippage', 'maker_shadow', 'funding_trims', 'depeg_synthetic_test']),
  status: z.enum(['no_data', 'pass', 'fail', 'attention']),
  summary: z.string(),
  data: z.record(z.string(), z.unknown()).nullable(),
});

export const GoLiveResponse = z
  .looseObject({
    advisory: z.literal(true).describe('bosun golive never changes a flag'),
    now: z.string(),
    start: z.looseObject({ at: z.string(), source: z.enum(['config', 'first_live_start']) }).nullable(),
    hoursIn: z.number().nullable(),
    stage: z.looseObject({
      id: z.enum(['not_started', 'observe', 'small_live', 'expand', 'complete']),
      title: z.string(),
      fromHour: z.number().nullable(),
      toHour: z.number().nullable(),
    }),
    next: z.looseObject({ id: z.string(), title: z.string(), at: z.string().nullable() }).nullable(),
    flags: z.array(
      z.looseObject({
        flag: z.string(),
        wants: z.string(),
        running: z.string().nullable().describe('null: the flag is not in this build'),
        differs: z.boolean(),
        why: z.string().optional(),
      }),
    ),
    differing: z.array(z.string()),
    evidence: z.array(Evidence),
    gates: z.array(z.string()),
  })
  .describe('the go-live stage, the flags it wants (and which differ), and the evidence for the next step');

export function goliveRoutes(app: ZodApp, ctx: RouteContext): void {
  app.get('/golive', async () => {
    const g = ctx.deps.golive;
    if (!g) throw new AppError('NOT_READY', 'the go-live report is not available in this process');
    return g.report();
  });
}
