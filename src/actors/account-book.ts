import type { AccountSummary } from '../machines/account.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Balances } from '../venues/venue-gateway.js';

/**
 * What the account actors last learned, per venue, and the portfolio metrics derived from it: totals across
 * venues (`equity_usd`, `cash_usd`, `market_value_usd`), Kraken's equity, exposure per venue. `/status` shows
 * the balances from here.
 */
export interface VenueBook {
  summary: AccountSummary;
  balances: Balances;
  at: number;
}

export function createAccountBook(metrics: Metrics) {
  const venues = new Map<string, VenueBook>();
  function publish(): void {
    let cash = 0;
    let market = 0;
    let equity = 0;
    for (const [venue, b] of venues) {
      cash += b.summary.cashUsd;
      market += b.summary.marketValueUsd;
      equity += b.summary.equityUsd;
      metrics.venueEquityUsd.set({ venue }, b.summary.equityUsd);
      metrics.venueExposureUsd.set({ venue }, b.summary.exposureUsd);
      if (venue === 'kraken') metrics.krakenEquityUsd.set(b.summary.equityUsd);
    }
    metrics.cashUsd.set(cash);
    metrics.marketValueUsd.set(market);
    metrics.equityUsd.set(equity);
  }
  return {
    update(venue: string, book: VenueBook): void {
      venues.set(venue, book);
      publish();
    },
    get: (venue: string) => venues.get(venue),
    /** `/status` balances: per venue, non-zero totals only. */
    balances(): Record<
      string,
      { equity_usd: number; cash_usd: number; assets: Record<string, { free: number; used: number; total: number }> }
    > {
      const out: ReturnType<ReturnType<typeof createAccountBook>['balances']> = {};
      for (const [venue, b] of venues) {
        const assets: Record<string, { free: number; used: number; total: number }> = {};
        for (const [a, e] of Object.entries(b.balances)) if (e.total !== 0) assets[a] = e;
        out[venue] = { equity_usd: b.summary.equityUsd, cash_usd: b.summary.cashUsd, assets };
      }
      return out;
    },
  };
}

export type AccountBook = ReturnType<typeof createAccountBook>;
