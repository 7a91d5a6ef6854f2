import type { RegimeName } from './price-path.js';
import { hash32, unitFromHash } from './random.js';

/**
 * The simulator's funding rate for one settlement, a pure function of the seed, the market, the regime the price
 * path is in and the funding time: a per-market base (0.5–1.5 bp per 8 h), a regime tilt (bulls pay, bears are
 * paid) and ±0.3 bp of noise per settlement. The simulator publishes and settles it (market.ts); `bosun backtest`
 * charges the same rates on the same seeded paths, so a backtest and a paper run pay the same funding.
 */
const REGIME_FUNDING: Record<RegimeName, number> = { bull: 0.0001, volatile: 0, bear: -0.00015, peg: 0 };

export function seededFundingRate(seed: number, marketId: string, regime: RegimeName, fundingTime: number): number {
  const base = 0.00005 + 0.0001 * unitFromHash(seed, hash32(marketId));
  const noise = (unitFromHash(seed, hash32(marketId), Math.floor(fundingTime / 1000)) - 0.5) * 0.00006;
  // Published (and settled) with 8 decimals, as Binance does.
  return Number((base + REGIME_FUNDING[regime] + noise).toFixed(8));
}
