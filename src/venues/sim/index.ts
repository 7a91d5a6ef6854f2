/**
 * Public surface of Bosun's exchange simulator: one loopback HTTP server speaking the Binance (spot + USDⓈ-M)
 * and Kraken dialects, with a control API under `/__sim/`. See docs/SIMULATOR.md.
 */

export { PAPER_BALANCES } from './accounts.js';
export type { BinanceLimits } from './binance-gate.js';
export type { ManualClock, SimClock } from './clock.js';
export { createManualClock, DEFAULT_MANUAL_START_MS, realClock } from './clock.js';
export type { CcxtErrorClass, FaultCase, NaturalFailure, Probe } from './fault-matrix.js';
export { FAULT_MATRIX } from './fault-matrix.js';
export type { FaultInfo, FaultInput, FaultKind, FaultSpec, Venue } from './faults.js';
export { faultSpecSchema } from './faults.js';
export type { SimRequest } from './http-types.js';
export type { OrderEvent, OrderEventOpenOrder } from './order-events.js';
export type { RequestRecord, RequestStats } from './request-log.js';
export type { ScenarioInfo, ScenarioInput, ScenarioSpec } from './scenario.schema.js';
export { scenarioSpecSchema } from './scenario.schema.js';
export { signBinance, signKraken } from './signatures.js';
export type {
  AccountInput,
  ApiKeyPair,
  ManualOrderInput,
  SimKeys,
  SimProbe,
  Simulator,
  SimulatorOptions,
} from './simulator.js';
export { startSimulator } from './simulator.js';
export type { AccountState, OrderState, PositionState, RegimeTruth, SimState } from './state-views.js';
