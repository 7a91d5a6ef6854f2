/**
 * Portfolio valuation in USD (pure): cash = stablecoins and USD; market value = every other asset at its USD
 * price; equity = cash + market value; exposure = gross market value of non-cash holdings plus the notional of
 * perpetual positions. An asset without a price is reported, not silently valued at zero.
 */
export const CASH_ASSETS: ReadonlySet<string> = new Set(['USDT', 'USDC', 'USD', 'ZUSD', 'BUSD', 'FDUSD']);

export interface Holding {
  asset: string;
  total: number;
}

export interface PerpPosition {
  symbol: string;
  amount: number;
  markPrice: number | null;
  unrealizedPnl: number | null;
}

export interface Valuation {
  cashUsd: number;
  marketValueUsd: number;
  equityUsd: number;
  exposureUsd: number;
  unpriced: string[];
}

/** Values holdings with `prices` (asset → USD); stablecoins count at 1 (the depeg guard watches that assumption). */
export function valueHoldings(
  holdings: readonly Holding[],
  prices: Readonly<Record<string, number>>,
  positions: readonly PerpPosition[] = [],
): Valuation {
  let cash = 0;
  let market = 0;
  let exposure = 0;
  const unpriced: string[] = [];
  for (const h of holdings) {
    if (h.total === 0) continue;
    if (CASH_ASSETS.has(h.asset)) {
      cash += h.total;
      continue;
    }
    const p = prices[h.asset];
    if (p === undefined || !Number.isFinite(p)) {
      unpriced.push(h.asset);
      continue;
    }
    const v = h.total * p;
    market += v;
    exposure += Math.abs(v);
  }
  let upnl = 0;
  for (const pos of positions) {
    if (pos.markPrice !== null) exposure += Math.abs(pos.amount * pos.markPrice);
    upnl += pos.unrealizedPnl ?? 0;
  }
  market += upnl;
  return { cashUsd: cash, marketValueUsd: market, equityUsd: cash + market, exposureUsd: exposure, unpriced };
}
