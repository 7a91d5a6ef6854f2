import { z } from 'zod';
import { VENUE_IDS, type VenueId } from '../domain/ids.js';
import { SYMBOL_PATTERN } from './env.schema.js';

/**
 * Schemas of the hot-reloaded operator files in `ops/`. Objects are strict: an unknown key (a typo such as
 * `confidence_gian`) is an error, so the file is rejected loudly (config DEGRADED) instead of the typo being
 * silently ignored. Every file may carry a `_comment` string, since JSON has no comments.
 */

const comment = z.string().optional();
const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const fraction = finite.min(0, 'expected a fraction in 0..1').max(1, 'expected a fraction in 0..1');
const usdt = finite.min(0, 'expected a non-negative USDT amount');
const symbolKey = z.string().regex(SYMBOL_PATTERN, 'expected a symbol like BTCUSDT');
const venueKey = z.enum(VENUE_IDS as [VenueId, ...VenueId[]]);
const sumOf = (r: Record<string, number | undefined>) => Object.values(r).reduce<number>((a, b) => a + (b ?? 0), 0);
/** Sums may exceed 1 by float noise (0.1 + 0.2 + 0.7). */
const SUM_EPS = 1e-9;

// ── ops/strategy_weights.json ──

export const STRATEGY_MODELS = ['stable_model', 'canary_model'] as const;
export type StrategyModel = (typeof STRATEGY_MODELS)[number];

/**
 * The weights as an operator writes them (also the body of `POST /strategy/weights`). Non-negative, at least
 * one above zero; they need not sum to 1.
 */
export const StrategyWeightsInputSchema = z
  .strictObject({
    stable_model: finite.min(0, 'expected a weight ≥ 0').optional(),
    canary_model: finite.min(0, 'expected a weight ≥ 0').optional(),
  })
  .refine((w) => sumOf(w) > 0, 'at least one weight must be > 0');

/**
 * `ops/strategy_weights.json`. Weights are **normalised** to sum to 1 (0.7/0.3 and 7/3 mean the same), a
 * missing model counts as 0. `weights` holds the normalised blend; `raw` what the file says.
 */
export const StrategyWeightsFileSchema = z
  .strictObject({ _comment: comment, weights: StrategyWeightsInputSchema })
  .transform(({ weights }) => {
    const total = sumOf(weights);
    const normalised = Object.fromEntries(STRATEGY_MODELS.map((m) => [m, (weights[m] ?? 0) / total])) as Record<
      StrategyModel,
      number
    >;
    return { weights: normalised, raw: weights };
  });
export type StrategyWeights = z.output<typeof StrategyWeightsFileSchema>;

// ── ops/capital_allocations.json ──

/**
 * `ops/capital_allocations.json`: how equity is split.
 * - `reserve_pct` of equity is never allocated; the rest is *deployable*.
 * - `venues`: fraction of deployable capital per venue (sum ≤ 1). Omitted = equal split over `VENUES`;
 *   present = a venue not listed gets nothing.
 * - `symbols`: fraction of its venue's share per symbol (sum ≤ 1). Symbols not listed share the remainder equally.
 * - `max_usdt`: optional absolute ceilings per venue and per symbol, applied after the fractions.
 */
export const CapitalAllocationsFileSchema = z.strictObject({
  _comment: comment,
  reserve_pct: finite.min(0, 'expected a percentage in 0..100').max(100, 'expected a percentage in 0..100').default(10),
  venues: z
    .partialRecord(venueKey, fraction)
    .refine((r) => sumOf(r) <= 1 + SUM_EPS, 'venue fractions must sum to at most 1')
    .optional(),
  symbols: z
    .record(symbolKey, fraction)
    .refine((r) => sumOf(r) <= 1 + SUM_EPS, 'symbol fractions must sum to at most 1')
    .optional(),
  max_usdt: z
    .strictObject({ venues: z.partialRecord(venueKey, usdt).optional(), symbols: z.record(symbolKey, usdt).optional() })
    .optional(),
});
export type CapitalAllocations = z.output<typeof CapitalAllocationsFileSchema>;

// ── ops/policies.yaml ──

const symbolOverride = z.strictObject({
  max_notional_usdt: usdt.optional(),
  max_exposure_usdt: usdt.optional(),
  order_cooldown_sec: finite.min(0).optional(),
});

/**
 * `ops/policies.yaml`: risk policies for the rails. Every value is optional and can only **tighten** the
 * matching env flag (the rails apply the stricter of the two, see `resolveRiskLimits`), so a policy edit can
 * never loosen a limit set at start.
 */
export const PoliciesFileSchema = z.strictObject({
  _comment: comment,
  version: z.literal(1).default(1),
  limits: z
    .strictObject({
      max_notional_usdt: usdt.optional(),
      max_symbol_exposure_usdt: usdt.optional(),
      max_venue_exposure_usdt: usdt.optional(),
      max_asset_exposure_usdt: usdt.optional(),
    })
    .default({}),
  equity: z
    .strictObject({
      floor_usd: usdt.optional(),
      max_drawdown_pct: finite.gt(0).max(100).optional(),
      cooldown_sec: finite.min(0).optional(),
    })
    .default({}),
  cooldowns: z.strictObject({ order_sec: finite.min(0).optional() }).default({}),
  symbols: z
    .strictObject({
      /** Empty = no extra restriction (TRADE_SYMBOLS / the scanner decide). */
      allowed: z.array(symbolKey).default([]),
      blocked: z.array(symbolKey).default([]),
      overrides: z.record(symbolKey, symbolOverride).default({}),
    })
    .default({ allowed: [], blocked: [], overrides: {} }),
});
export type Policies = z.output<typeof PoliciesFileSchema>;

// ── ops/hmm_calibration.json ──

/**
 * `ops/hmm_calibration.json`, shared by backtests and live: scales the HMM signal's confidence gain, the
 * quote size and the post-trade cooldown. `states` is the number of regimes; `refresh_bars`, when set,
 * re-runs Baum–Welch every that many bars (unset = calibrate once on the warm-up window).
 */
export const HmmCalibrationFileSchema = z.strictObject({
  _comment: comment,
  confidence_gain: finite.gt(0).max(10).default(1),
  quote_multiplier: finite.gt(0).max(10).default(1),
  cooldown_scale: finite.gt(0).max(100).default(1),
  states: z.int().min(2).max(8).default(3),
  refresh_bars: z.int().min(50).max(1_000_000).optional(),
});
export type HmmCalibration = z.output<typeof HmmCalibrationFileSchema>;
