/**
 * Scenario inputs (market-wide events), shared by the control API and `sim.scenario()`. The effects live in
 * `scenarios.ts`.
 */
import { z } from 'zod';
import { venueScope } from './faults.js';

export const scenarioSpecSchema = z.discriminatedUnion('kind', [
  /**
   * USDT loses `pct` percent against USD/USDC (negative = trades above par): USDT/USDC falls by `pct`, and
   * every USDT-quoted price rises against its USDC/USD twin, so BTCUSDT/BTCUSDC parity moves by `pct`.
   */
  z
    .object({
      kind: z.literal('depeg'),
      pct: z.number().min(-50).max(90),
      asset: z.enum(['USDT', 'USDC']).default('USDT'),
      /** Sim time over which the move happens linearly (0 = at once). */
      rampMs: z.number().int().min(0).default(0),
    })
    .strict(),
  /** Sets the funding rate of one perpetual (default all) for `durationMs` of sim time (default until reset). */
  z
    .object({
      kind: z.literal('funding_spike'),
      symbol: z.string().min(2).max(40).optional(),
      rate: z.number().min(-0.05).max(0.05),
      durationMs: z.number().int().positive().optional(),
    })
    .strict(),
  /** The venue answers every request with a 5xx HTML page (default 503) for `durationMs` (default until reset). */
  z
    .object({
      kind: z.literal('venue_outage'),
      venue: venueScope,
      status: z.number().int().min(500).max(599).default(503),
      durationMs: z.number().int().positive().optional(),
    })
    .strict(),
  /**
   * The asset (or symbol's base, default BTC) drops `pct` percent over `durationMs`, then recovers over
   * `recoverMs`, on every venue and market that quotes it.
   */
  z
    .object({
      kind: z.literal('flash_crash'),
      symbol: z.string().min(2).max(40).default('BTC'),
      pct: z.number().gt(0).max(99),
      durationMs: z.number().int().min(0).default(60_000),
      recoverMs: z.number().int().min(0).default(300_000),
    })
    .strict(),
]);

export type ScenarioInput = z.input<typeof scenarioSpecSchema>;
export type ScenarioSpec = z.output<typeof scenarioSpecSchema>;

export interface ScenarioInfo {
  id: string;
  spec: ScenarioSpec;
  startedAtMs: number;
}
