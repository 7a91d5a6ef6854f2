import type { AnyActorRef } from 'xstate';
import type { HmmCalibration, StrategyWeights } from '../config/files.schema.js';
import type { Logger } from '../logging/logger.js';
import type { StrategyEnv } from '../strategies/symbol-strategy.js';
import { createAutoTuneOutcomes } from './auto-tune-outcomes.js';
import type { TradingDeps } from './trading-deps.js';

/**
 * The strategies' environment (DESIGN §7): operator weights and HMM calibration from ops/, trend parameters from
 * auto-tune (state/runtime/trend_auto_tune.json). Every symbol actor gets the new environment when one of them
 * changes (`strategy.env`), so a weights edit or a tune reaches the running strategies without a restart.
 */
export function createStrategyEnv(d: {
  config: TradingDeps['config'];
  ops: TradingDeps['ops'];
  weights: () => StrategyWeights;
  calibration: () => HmmCalibration;
  runtime: TradingDeps['runtime'];
  log: Logger;
  now: () => number;
}) {
  const { config } = d;
  const autoTune = createAutoTuneOutcomes({
    path: `${config.RUNTIME_DIR}/trend_auto_tune.json`,
    defaults: { fastBars: config.TREND_FAST_BARS, slowBars: config.TREND_SLOW_BARS, entryZ: config.TREND_ENTRY_Z },
    enabled: config.TREND_AUTO_TUNE_ENABLED,
    log: d.log,
    now: d.now,
    onChange: () => broadcastEnv(),
  });
  const env = (): StrategyEnv => ({
    weights: d.weights().weights,
    calibration: d.calibration(),
    trend: autoTune.params(),
    warmupBars: config.HMM_WARMUP_BARS > 0 ? config.HMM_WARMUP_BARS : undefined,
    trendWeight: config.TREND_SIGNAL_WEIGHT,
  });
  const broadcastEnv = () => {
    const e = env();
    const all = d.runtime()?.root().system.getAll() as Record<string, AnyActorRef> | undefined;
    for (const [id, ref] of Object.entries(all ?? {}))
      if (id.startsWith('sym:')) ref.send({ type: 'strategy.env', env: e });
  };
  d.ops.onChange((name) => {
    if (name === 'strategy_weights' || name === 'hmm_calibration') broadcastEnv();
  });
  return { autoTune, env };
}
