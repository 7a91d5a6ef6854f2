/**
 * `npm run sim`: the exchange simulator on its own. Prints its base URL and the API key/secret pairs it
 * accepts, then serves until SIGTERM/SIGINT. Configured from the environment (the only file of the simulator
 * that reads it): SIM_PORT (default 8090), SIM_HOST (default 127.0.0.1), SIM_SEED (default 42),
 * SIM_BINANCE_API_KEY / SIM_BINANCE_SECRET, SIM_KRAKEN_API_KEY / SIM_KRAKEN_SECRET (generated when unset),
 * SIM_EXTRA_ALTS (default 0), SIM_KRAKEN_TIER (starter|intermediate|pro|off, default starter, as Bosun's KRAKEN_TIER: Kraken's rate limits for that tier, so a Bosun restarted against it meets the counter it left), SIM_STATE_DIR (default state/exchange-sim: accounts, orders, trades and the price
 * path survive a restart; `none` keeps nothing), SIM_CONTROL_TOKEN (X-Sim-Token of the control routes; generated and printed when unset).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { startSimulator } from './simulator.js';

const envSchema = z.object({
  SIM_PORT: z.coerce.number().int().min(0).max(65_535).default(8090),
  SIM_HOST: z.string().min(1).default('127.0.0.1'),
  SIM_SEED: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(42),
  SIM_EXTRA_ALTS: z.coerce.number().int().min(0).max(5000).default(0),
  SIM_KRAKEN_TIER: z.enum(['starter', 'intermediate', 'pro', 'off']).default('starter'),
  SIM_STATE_DIR: z.string().min(1).default('state/exchange-sim'),
  SIM_CONTROL_TOKEN: z.string().min(16).optional(),
  SIM_BINANCE_API_KEY: z.string().min(8).optional(),
  SIM_BINANCE_SECRET: z.string().min(8).optional(),
  SIM_KRAKEN_API_KEY: z.string().min(8).optional(),
  SIM_KRAKEN_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64 (Kraken secrets are)')
    .optional(),
});

const parsed = envSchema.safeParse(process.env);
if (!parsed.success) {
  for (const i of parsed.error.issues) process.stderr.write(`sim: ${i.path.join('.')}: ${i.message}\n`);
  process.exit(2);
}
const env = parsed.data;

// The control routes move balances and prices: a token, given or generated, printed below for the operator.
const controlToken = env.SIM_CONTROL_TOKEN ?? randomBytes(24).toString('hex');
const sim = await startSimulator({
  controlToken,
  port: env.SIM_PORT,
  host: env.SIM_HOST,
  seed: env.SIM_SEED,
  extraAlts: env.SIM_EXTRA_ALTS,
  krakenTier: env.SIM_KRAKEN_TIER,
  ...(env.SIM_STATE_DIR === 'none' ? {} : { stateDir: env.SIM_STATE_DIR }),
  keys: {
    binance: { apiKey: env.SIM_BINANCE_API_KEY, secret: env.SIM_BINANCE_SECRET },
    kraken: { apiKey: env.SIM_KRAKEN_API_KEY, secret: env.SIM_KRAKEN_SECRET },
  },
});

let closing = false;
const stop = (signal: string) => {
  if (closing) return;
  closing = true;
  process.stderr.write(`sim: ${signal}, closing\n`);
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

// The banner last: whoever reads it may signal at once, so the handlers must be in place first.
process.stdout.write(
  `${JSON.stringify(
    {
      baseUrl: sim.baseUrl,
      seed: sim.seed,
      keys: sim.keys,
      resumed: sim.restored,
      krakenTier: env.SIM_KRAKEN_TIER,
      stateDir: env.SIM_STATE_DIR === 'none' ? null : env.SIM_STATE_DIR,
      control: `${sim.baseUrl}/__sim/health`,
      controlToken,
    },
    null,
    2,
  )}\n`,
);
