import type { ConfigFileSpec } from './file-watcher.js';
import {
  CapitalAllocationsFileSchema,
  HmmCalibrationFileSchema,
  PoliciesFileSchema,
  StrategyWeightsFileSchema,
} from './files.schema.js';
import type { Config } from './load-config.js';

/**
 * The hot-reloaded operator files: which env flag holds each path, its schema, and the value used when the
 * file is missing at start. Defaults are the cautious choice: all weight on the stable model, no policy
 * beyond the env limits, neutral calibration.
 */
export const OPS_FILES = [
  {
    name: 'strategy_weights',
    pathFlag: 'STRATEGY_WEIGHTS_PATH',
    schema: StrategyWeightsFileSchema,
    defaultValue: { weights: { stable_model: 1, canary_model: 0 } },
    description:
      'Blend of stable_model and canary_model; weights ≥ 0, at least one > 0, normalised to sum to 1. ' +
      'Written by POST /strategy/weights; takes effect on the next tick.',
  },
  {
    name: 'capital_allocations',
    pathFlag: 'CAPITAL_ALLOCATIONS_PATH',
    schema: CapitalAllocationsFileSchema,
    defaultValue: { reserve_pct: 10 },
    description:
      'reserve_pct of equity kept back; venues: fraction per venue (sum ≤ 1, omitted = equal split); ' +
      'symbols: fraction of the venue share (sum ≤ 1, unlisted symbols share the rest); max_usdt: absolute ceilings.',
  },
  {
    name: 'policies',
    pathFlag: 'POLICIES_PATH',
    schema: PoliciesFileSchema,
    defaultValue: {},
    description:
      'Risk policies (limits, equity, cooldowns, allowed/blocked symbols, per-symbol overrides); ' +
      'each value can only tighten the matching env flag.',
  },
  {
    name: 'hmm_calibration',
    pathFlag: 'HMM_CALIBRATION_PATH',
    schema: HmmCalibrationFileSchema,
    defaultValue: {},
    description:
      'confidence_gain, quote_multiplier, cooldown_scale (default 1 each), states (default 3), ' +
      'optional refresh_bars; shared by backtests and live.',
  },
] as const;

export type OpsFileName = (typeof OPS_FILES)[number]['name'];

type OpsFile = (typeof OPS_FILES)[number];

/** One watcher spec per ops file, typed so `watcher.current('policies')` is a `Policies`. */
export type OpsFileSpec = {
  [N in OpsFileName]: ConfigFileSpec<N, Extract<OpsFile, { name: N }>['schema']>;
}[OpsFileName];

/** The watcher specs for the ops files, with paths from the config. */
export function opsFileSpecs(config: Pick<Config, OpsFile['pathFlag']>): readonly OpsFileSpec[] {
  return OPS_FILES.map((f) => ({
    name: f.name,
    path: config[f.pathFlag],
    schema: f.schema,
    defaultValue: f.defaultValue,
  })) as OpsFileSpec[];
}
