import { errorMessage } from '../domain/errors.js';
import { actorId } from '../domain/ids.js';
import type { Valuation } from '../domain/portfolio.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { nextPhaseDelay, POLL_PHASE_MS } from '../venues/poll-schedule.js';
import type { createAllocationGuards } from './allocation-guards.js';
import type { BreakerEffects } from './breaker-effects.js';
import type { LedgerBook } from './ledger-book.js';
import type { PortfolioSnapshots } from './portfolio-snapshots.js';
import type { ReducingScopes } from './reducing-scopes.js';
import type { TradingEngine } from './trading-engine.js';

/**
 * The trading pipeline's periodic work (DESIGN §6, §8): reconciliation (and a 5 s retry of a venue that failed),
 * the portfolio snapshot, and a 1 s tick that publishes the one book (the ledger's equity, cash and exposure),
 * feeds the equity breaker and auto-cutback, and reviews the system's REDUCING scopes.
 */
export interface TradingLoopsDeps {
  engine: TradingEngine;
  book: LedgerBook;
  portfolio: PortfolioSnapshots;
  breakers: BreakerEffects;
  allocationGuards: ReturnType<typeof createAllocationGuards>;
  reducing: ReducingScopes;
  venues: readonly string[];
  lookup: (id: string) => { send(e: unknown): void } | undefined;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  reconcileIntervalMs: number;
  snapshotIntervalMs: number;
  /** Auto-cutback at its floor because of drawdown: global REDUCING (reducing-scopes.ts). */
  cutbackReducing: (drawdownPct: number) => boolean;
}

/** The ledger is the one book (DESIGN §6): equity, cash, market value and exposure come from it, never the venue. */
export function publishBook(metrics: Metrics, val: Valuation): void {
  metrics.equityUsd.set(val.equityUsd);
  metrics.cashUsd.set(val.cashUsd);
  metrics.marketValueUsd.set(val.marketValueUsd);
  for (const [venue, v] of Object.entries(val.venues)) {
    metrics.venueEquityUsd.set({ venue }, v.equityUsd);
    metrics.venueExposureUsd.set({ venue }, v.marketValueUsd);
    if (venue === 'kraken') metrics.krakenEquityUsd.set(v.equityUsd);
  }
}

export function startTradingLoops(d: TradingLoopsDeps): () => void {
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  /** Every `ms`; with `phaseMs`, at that offset past each multiple of `ms` (src/venues/poll-schedule.ts). */
  const every = (ms: number, fn: () => Promise<unknown> | undefined, phaseMs?: number) => {
    let busy = false;
    const tick = () => {
      if (busy) return;
      busy = true;
      Promise.resolve(fn())
        .catch((e: unknown) => d.log.warn({ err: errorMessage(e) }, 'periodic task failed'))
        .finally(() => {
          busy = false;
        });
    };
    const start = () => {
      const t = setInterval(tick, ms);
      t.unref();
      timers.push(t);
    };
    if (phaseMs === undefined) return start();
    const first = setTimeout(
      () => {
        if (stopped) return;
        tick();
        start();
      },
      nextPhaseDelay(d.now(), ms, phaseMs),
    );
    first.unref();
    timers.push(first);
  };
  // Boot recovery reconciled at start; from then on at its own second of the minute, away from the bar close.
  every(d.reconcileIntervalMs, () => d.engine.reconcileAll(), POLL_PHASE_MS.reconcile);
  every(d.snapshotIntervalMs, () => d.portfolio.write());
  // A venue whose reconciliation failed (budget, outage) is retried every 5 s, not only every interval.
  every(5_000, () => (d.engine.unreconciledVenues().length > 0 ? d.engine.reconcileAll() : undefined));
  every(1_000, async () => {
    d.metrics.reconcileLagSeconds.set(d.engine.reconcileLagSeconds());
    const val = d.book.valuation(d.engine.assetPrices());
    publishBook(d.metrics, val);
    d.lookup(actorId.equityBreaker())?.send({ type: 'equity.update', equityUsd: val.equityUsd, at: d.now() });
    // Auto-cutback sees the breakers as the rails do (an unavailable breaker counts as tripped: fail closed).
    const drawdownPct = d.breakers.drawdownPct();
    const tripped = d.breakers.equity().tripped || d.venues.some((v) => d.breakers.venue(v).tripped);
    await d.allocationGuards.observe({ at: d.now(), drawdownPct, tripped });
    if (d.cutbackReducing(drawdownPct)) await d.reducing.enter('global', '', 'auto_cutback');
    await d.reducing.review();
    d.allocationGuards.refreshWeights();
  });
  return () => {
    stopped = true;
    for (const t of timers) clearInterval(t);
  };
}
