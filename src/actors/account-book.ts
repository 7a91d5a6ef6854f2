import type { AccountSummary } from '../machines/account.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Balances, MarketInfo } from '../venues/venue-gateway.js';

/**
 * The venue's own view of each account, beside the one book (DESIGN §6). The ledger is the source of equity,
 * cash, exposure, `/status` and the metrics; what the account actors last read from the venue is shown next to it
 * as drift per venue and asset (`ledger_venue_drift` = venue − ledger), with a tolerance derived from the asset's
 * precision (`ledger_venue_drift_tolerance`): the alert rule fires when the drift stays past it. Before, the venue
 * polls drove `equity_usd`/`cash_usd`/`/status` and the ledger drove the rails: two books that could disagree
 * with nothing to show the gap.
 */
export interface VenueBook {
  summary: AccountSummary;
  balances: Balances;
  at: number;
}

/** What the ledger says, for `/status` and the drift (trading.actors.ts provides it once built). */
export interface LedgerView {
  balances(venue: string): Readonly<Record<string, number>> | undefined;
  valuation(): { venues: Record<string, { equityUsd: number; cashUsd: number }> };
  markets(venue: string): Readonly<Record<string, MarketInfo>>;
}

/** Twice the asset's smallest step on the venue (a base asset), else a cent (quote and cash assets). */
export function driftTolerance(markets: Readonly<Record<string, MarketInfo>>, asset: string): number {
  let step = Number.POSITIVE_INFINITY;
  for (const m of Object.values(markets)) if (m.base === asset && m.stepSize > 0) step = Math.min(step, m.stepSize);
  return Number.isFinite(step) ? 2 * step : 0.01;
}

export function createAccountBook(metrics: Metrics, ledgerView: () => LedgerView | undefined = () => undefined) {
  const venues = new Map<string, VenueBook>();
  /** Assets whose drift series exist per venue (a series of an asset both books dropped is removed). */
  const published = new Map<string, Set<string>>();

  function publishDrift(venue: string): void {
    const lv = ledgerView();
    const b = venues.get(venue);
    if (!lv || !b) return;
    const ledger = lv.balances(venue) ?? {};
    const markets = lv.markets(venue);
    const assets = new Set([...Object.keys(ledger), ...Object.keys(b.balances)]);
    const seen = published.get(venue) ?? new Set<string>();
    for (const asset of seen)
      if (!assets.has(asset)) {
        metrics.ledgerVenueDrift.remove({ venue, asset });
        metrics.ledgerVenueDriftTolerance.remove({ venue, asset });
      }
    for (const asset of assets) {
      const drift = (b.balances[asset]?.total ?? 0) - (ledger[asset] ?? 0);
      metrics.ledgerVenueDrift.set({ venue, asset }, drift);
      metrics.ledgerVenueDriftTolerance.set({ venue, asset }, driftTolerance(markets, asset));
    }
    published.set(venue, assets);
  }

  return {
    update(venue: string, book: VenueBook): void {
      venues.set(venue, book);
      publishDrift(venue);
    },
    get: (venue: string) => venues.get(venue),
    /**
     * `/status` balances, per venue: equity and cash from the ledger, and each asset's ledger total with the
     * venue's total and the drift beside it (non-zero totals only).
     */
    balances(): Record<
      string,
      {
        equity_usd: number;
        cash_usd: number;
        source: 'ledger';
        assets: Record<string, { total: number; venue_total: number | null; drift: number | null }>;
      }
    > {
      const lv = ledgerView();
      const out: ReturnType<ReturnType<typeof createAccountBook>['balances']> = {};
      if (!lv) return out;
      const val = lv.valuation();
      for (const [venue, v] of Object.entries(val.venues)) {
        const ledger = lv.balances(venue) ?? {};
        const seen = venues.get(venue)?.balances;
        const assets: Record<string, { total: number; venue_total: number | null; drift: number | null }> = {};
        for (const asset of new Set([...Object.keys(ledger), ...Object.keys(seen ?? {})])) {
          const total = ledger[asset] ?? 0;
          const venueTotal = seen ? (seen[asset]?.total ?? 0) : null;
          if (total === 0 && !venueTotal) continue;
          assets[asset] = { total, venue_total: venueTotal, drift: venueTotal === null ? null : venueTotal - total };
        }
        out[venue] = { equity_usd: v.equityUsd, cash_usd: v.cashUsd, source: 'ledger', assets };
      }
      return out;
    },
  };
}

export type AccountBook = ReturnType<typeof createAccountBook>;
