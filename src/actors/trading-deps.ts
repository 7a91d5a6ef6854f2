import {
  type HmmCalibration,
  HmmCalibrationFileSchema,
  type Policies,
  PoliciesFileSchema,
  type StrategyWeights,
  StrategyWeightsFileSchema,
} from '../config/files.schema.js';
import type { Config } from '../config/load-config.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/index.js';
import type { AllocationInput } from '../strategies/allocator.js';
import type { Runtime } from '../supervisor/runtime.js';
import { POLL_PHASE_MS } from '../venues/poll-schedule.js';
import type { TradeStream } from '../venues/streams/trade-stream.js';
import type { MarketKind, VenueGateway } from '../venues/venue-gateway.js';
import type { OpsConfig } from './config.actors.js';
import type { TradingEngineDeps } from './engine/engine-types.js';
import type { GuardsConfig } from './guards.actors.js';
import type { Sleep } from './retry.js';
import type { StopAlert } from './stop-validator.actors.js';

/** What the trading pipeline (trading.actors.ts) is built from: its config slice, its seams, its defaults. */
export type TradingConfig = Pick<
  Config,
  | 'NODE_ID'
  | 'TRADE_SYMBOLS'
  | 'VENUES'
  | 'BAR_MS'
  | 'HMM_WARMUP_BARS'
  | 'TREND_SIGNAL_WEIGHT'
  | 'MIN_TRADE_USDT'
  | 'RECONCILE_INTERVAL_SEC'
  | 'PORTFOLIO_SNAPSHOT_SEC'
  | 'PORTFOLIO_PATH'
  | 'RUNTIME_DIR'
  | 'STRATEGY_WEIGHTS_PATH'
  | 'TREND_AUTO_TUNE_ENABLED'
  | 'TREND_FAST_BARS'
  | 'TREND_SLOW_BARS'
  | 'TREND_ENTRY_Z'
  | 'MAX_NOTIONAL_USDT'
  | 'MAX_SYMBOL_EXPOSURE_USDT'
  | 'MAX_VENUE_EXPOSURE_USDT'
  | 'MAX_ASSET_EXPOSURE_USDT'
  | 'EQUITY_FLOOR_USD'
  | 'MAX_DRAWDOWN_PCT'
  | 'EQUITY_COOLDOWN_SEC'
  | 'ORDER_COOLDOWN_SEC'
  | 'VENUE_ERROR_BREAKER_PCT'
  | 'VENUE_ERROR_WINDOW'
  | 'EVENT_BREAKOUT_ENABLED'
  | 'EVENT_BREAKOUT_DRY_RUN'
  | 'EVENT_BREAKOUT_METRICS'
  | 'STOP_VALIDATOR_REPAIR'
  | 'STOPVAL_NOTIFY_ENABLED'
  | 'STOP_VALIDATOR_INTERVAL_SEC'
  | 'STOP_LOSS_PCT'
  | 'AUTO_CUTBACK_ENABLED'
  | 'RISK_PARITY_ENABLED'
  | 'PERP_STRATEGIES_ENABLED'
  | 'PERP_MAX_LEVERAGE'
  | 'PERP_MARGIN_MODE'
  | 'PERP_MIN_LIQ_DISTANCE_PCT'
  | 'PERP_MAINT_MARGIN_RATE'
> &
  // Optional: a config without them (older test rigs) runs with maker mode off.
  Partial<Pick<Config, 'MAKER_MODE' | 'MAKER_TIMEOUT_SEC'>> &
  GuardsConfig;

export interface TradingDeps {
  config: TradingConfig;
  store: Store;
  metrics: Metrics;
  log: Logger;
  ops: OpsConfig;
  gateways: ReadonlyMap<string, VenueGateway>;
  runtime: () => Runtime | undefined;
  now?: () => number;
  hr?: () => number;
  /** Every wait of the order path and boot recovery (default setTimeout). */
  sleep?: Sleep;
  /** Test seam (guard crash drills): see GuardsDeps.beforePublish. */
  guardFaults?: { beforePublish?: (id: string, context: unknown) => void };
  /** The notifier's entry point for guard alerts (🛡 stop repairs); default: logged. */
  notify?: (alert: StopAlert) => void;
  /** The symbols a venue boots with (the scanner's persisted shortlist); TRADE_SYMBOLS when absent. */
  bootSymbols?: (venue: string, fallback: readonly string[]) => string[];
  /** Benchmark seams: the engine's per-order tick → hand-off and tick → ack figures (TradingEngineDeps). */
  onHandoff?: TradingEngineDeps['onHandoff'];
  onAck?: (venue: string, ms: { tickToAckMs: number; roundTripMs: number }) => void;
  /** A venue's public trade stream (STREAMS_ENABLED): the maker shadow's prints; absent: REST. */
  tradeStream?: (venue: string, market: MarketKind) => TradeStream | undefined;
}

export const DEFAULT_WEIGHTS: StrategyWeights = StrategyWeightsFileSchema.parse({
  weights: { stable_model: 0.5, canary_model: 0.5 },
});
export const DEFAULT_CALIBRATION: HmmCalibration = HmmCalibrationFileSchema.parse({});
export const DEFAULT_POLICIES: Policies = PoliciesFileSchema.parse({});
export const DEFAULT_ALLOCATIONS: AllocationInput = { reserve_pct: 10 };

/** The stop validator's settings from the config (one per venue; trading.actors.ts adds the venue's seams). */
export function stopValidatorOptions(config: TradingConfig) {
  return {
    node: config.NODE_ID,
    stopLossPct: config.STOP_LOSS_PCT,
    repair: config.STOP_VALIDATOR_REPAIR,
    notifyEnabled: config.STOPVAL_NOTIFY_ENABLED,
    intervalMs: config.STOP_VALIDATOR_INTERVAL_SEC * 1000,
    // Its own second of the minute, away from the bar close, the account refresh and reconciliation.
    phaseMs: POLL_PHASE_MS.stopValidator,
  };
}
