/**
 * The backtest's slippage model, in basis points of the mid (positive = a cost): half the spread plus the walk
 * through a book of equal-gap levels whose sizes grow per level — the shape of the simulator's synthetic book
 * (`src/venues/sim/order-book.ts`, DEFAULT_BOOK) without its jitter, so a fill cost is a pure function of the
 * order's notional. Kept apart from the live slippage measurement (`order_slippage_bps`): that one measures
 * fills, this one predicts them, and comparing the two is how the model gets calibrated.
 */
export interface SlippageModel {
  /** Full spread in bps of the mid (the simulator's default book: 1). */
  spreadBps: number;
  /** Quote notional of the first level (simulator: 5,000). */
  levelNotionalUsd: number;
  /** Price gap between levels in bps (simulator: 0.5). */
  gapBps: number;
  /** Each deeper level holds this much more than the one before (simulator: 0.3, i.e. +30 %). */
  levelGrowth: number;
}

export const SIM_BOOK_SLIPPAGE: SlippageModel = {
  spreadBps: 1,
  levelNotionalUsd: 5_000,
  gapBps: 0.5,
  levelGrowth: 0.3,
};

/** Slippage in bps of the mid for a market order of `notionalUsd` (volume-weighted over the levels it takes). */
export function slippageBps(m: SlippageModel, notionalUsd: number): number {
  const half = m.spreadBps / 2;
  if (!(notionalUsd > 0)) return half;
  let left = notionalUsd;
  let weighted = 0;
  for (let i = 0; left > 0; i++) {
    const size = m.levelNotionalUsd > 0 ? m.levelNotionalUsd * (1 + m.levelGrowth * i) : Number.POSITIVE_INFINITY;
    const take = Math.min(size, left);
    weighted += take * (half + i * m.gapBps);
    left -= take;
    // Past 1,000 levels the book is not a model of anything; price the rest at the last level.
    if (i >= 1_000) {
      weighted += left * (half + i * m.gapBps);
      break;
    }
  }
  return weighted / notionalUsd;
}

/** The average fill price of a market order at `mid`: above it for a buy, below for a sell. */
export function fillPrice(m: SlippageModel, side: 'buy' | 'sell', mid: number, notionalUsd: number): number {
  const bps = slippageBps(m, notionalUsd);
  return side === 'buy' ? mid * (1 + bps / 1e4) : mid * (1 - bps / 1e4);
}
