import type { Metrics } from './metrics.js';

/**
 * Every labelled series the runbook and the dashboards alert on, at 0 for its known label sets from boot. A
 * counter or gauge without a sample until its first event shows "No data" on a panel and makes `rate()` and
 * `absent()`-style alerts lie (`venue_error_rate_pct > 20` never fires on a series that does not exist, and
 * the first increment of `breaker_rejections_total` is invisible to `increase()`).
 */
export interface KnownLabels {
  venues: readonly string[];
  /** The symbols each venue trades at boot (stop validator, ticks, orders per symbol). */
  symbols: (venue: string) => readonly string[];
  /** `engine_venue_errors_total{kind}` (conn's error kinds). */
  venueErrorKinds: readonly string[];
  /** `engine_venue_local_refusals_total{priority}`. */
  priorities: readonly string[];
  /** `breaker_rejections_total{reason}`: every pre-trade rail plus the venue's own rejection. */
  rejectionReasons: readonly string[];
  /** `config_reloads_total{file}` / `config_reload_errors_total{file}`. */
  configFiles?: readonly string[];
}

/** Touches every known series so it exists at 0 (`inc(0)` / `set(0)` leave an existing value unchanged). */
export function primeSeries(metrics: Metrics, known: KnownLabels): void {
  for (const reason of known.rejectionReasons) metrics.breakerRejections.inc({ reason }, 0);
  for (const venue of known.venues) {
    metrics.venueErrorRatePct.set({ venue }, 0);
    for (const kind of known.venueErrorKinds) metrics.venueErrors.inc({ venue, kind }, 0);
    for (const priority of known.priorities) metrics.venueLocalRefusals.inc({ venue, priority }, 0);
    for (const side of ['buy', 'sell']) metrics.ordersSubmitted.inc({ venue, side }, 0);
    metrics.streamFills.inc({ venue, market: 'spot' }, 0);
    // The Funding dashboard's hedge PnL and perpetual funding panels.
    metrics.fundingHedgePnl.set({ venue }, 0);
    metrics.perpFundingUsdt.set({ venue }, 0);
    for (const symbol of known.symbols(venue)) {
      metrics.stopValidatorMissing.inc({ venue, symbol }, 0);
      metrics.strategyTicks.inc({ venue, symbol }, 0);
    }
  }
  for (const file of known.configFiles ?? []) {
    metrics.configReloads.inc({ file }, 0);
    metrics.configReloadErrors.inc({ file }, 0);
  }
}

/** Drops the per-symbol series of a symbol a venue no longer trades (scanner drop, delisting). */
export function dropSymbolSeries(metrics: Metrics, venue: string, symbol: string): void {
  metrics.stopValidatorMissing.remove({ venue, symbol });
  metrics.strategyTicks.remove({ venue, symbol });
  metrics.scannerScore.remove({ venue, symbol });
  metrics.riskParityWeight.remove({ venue, symbol });
}
