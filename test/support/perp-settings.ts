import type { PerpSettings } from '../../src/actors/engine/perp-settlement.js';

/**
 * The perpetual settings the test stacks trade with: strategies on, 2× leverage, entries refused closer than 20%
 * to liquidation, Binance's 0.4% maintenance margin of the first tier; isolated or cross margin.
 */
export const ISOLATED_PERP: PerpSettings = {
  strategies: true,
  leverage: 2,
  marginMode: 'isolated',
  minLiqDistancePct: 20,
  maintMarginRate: 0.004,
};

export const CROSS_PERP: PerpSettings = { ...ISOLATED_PERP, marginMode: 'cross' };
