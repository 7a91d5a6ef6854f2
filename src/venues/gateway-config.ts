/**
 * Gateway options, checked once at construction with a specific message (STYLE: options as given vs resolved).
 * Values come from the composition root; nothing here reads the environment.
 */
import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import { isLoopbackUrl } from './loopback-guard.js';

export const GatewayConfigSchema = z
  .object({
    /** `paper` (default everywhere): the simulator on loopback, guarded. `live`: the venue, with keys. */
    mode: z.enum(['paper', 'live']),
    simBaseUrl: z.url().optional(),
    apiKey: z.string().min(1).optional(),
    secret: z.string().min(1).optional(),
    /** Live only: Binance's testnet (Kraken has none). */
    testnet: z.boolean().default(false),
    /** Live only: point every ccxt URL at this origin instead of the venue (paths kept). */
    baseUrl: z.url().optional(),
    timeoutMs: z.number().int().positive().default(5000),
    /**
     * ccxt's own REST throttle, on at this spacing when given (passed to the constructor: setting it later has no
     * effect); off when absent, Bosun's budget pacing every call.
     */
    rateLimitMs: z.number().positive().optional(),
    /** Longest a call waits for the local budget before failing with a retryable rate_limit error. */
    maxBudgetWaitMs: z.number().nonnegative().default(5000),
    /**
     * The same for settlement and reconciliation calls: they wait for the budget rather than fail (a refused step
     * wasted the calls before it; 30 s lets a full Kraken starter counter drain most of the way).
     */
    settlementBudgetWaitMs: z.number().nonnegative().default(30_000),
  })
  .superRefine((c, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
    if ((c.apiKey === undefined) !== (c.secret === undefined)) fail('apiKey and secret go together');
    if (c.mode === 'paper') {
      if (c.simBaseUrl === undefined) fail('paper mode needs simBaseUrl');
      else if (!isLoopbackUrl(c.simBaseUrl)) fail(`paper mode needs a loopback simBaseUrl, got ${c.simBaseUrl}`);
      if (c.baseUrl !== undefined || c.testnet) fail('baseUrl/testnet are live-mode options');
    } else {
      if (c.apiKey === undefined) fail('live mode needs apiKey and secret');
      if (c.simBaseUrl !== undefined) fail('simBaseUrl is a paper-mode option');
      if (c.baseUrl !== undefined && c.testnet) fail('choose testnet or baseUrl, not both');
    }
  });

export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;

/** Parses gateway options or throws AppError(CONFIG_INVALID) naming what is wrong. */
export function parseGatewayConfig(venue: string, input: GatewayConfigInput): GatewayConfig {
  const r = GatewayConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const what = r.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new AppError('CONFIG_INVALID', `${venue} gateway: ${what.join('; ')}`);
}
