import { errorMessage } from '../../domain/errors.js';
import type { VenueId } from '../../domain/ids.js';
import type { Logger } from '../../logging/logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Store } from '../../store/index.js';
import type { ReconcileResult } from '../../supervisor/trading-port.js';
import type { LedgerBook } from '../ledger-book.js';
import type { PortfolioSnapshots } from '../portfolio-snapshots.js';
import { retryTransient, type Sleep } from '../retry.js';
import type { TradingEngine } from '../trading-engine.js';
import type { EngineVenue } from './engine-types.js';

/**
 * Boot recovery (DESIGN §6), one code path for clean and crash restarts. Governance was restored from LMDB before
 * this runs (the kill switch stays as it was). Then:
 *
 * 1. the portfolio baseline: an operator-edited `portfolio.json` wins (audited); otherwise LMDB's ledger;
 * 2. a venue's first boot: its balances are the baseline and the trade cursor (trades before it are in them);
 * 3. every order the crash left takes its slot and reservation, before anything is accepted;
 * 4. every open/unknown order resolved by clientOrderId, fills and balances reconciled;
 * 5. only then are orders accepted (a venue whose reconciliation failed stays refused until one succeeds), and
 *    every HALTED/REDUCING scope restored from LMDB is applied again: the resting entries a `kill -9` left are
 *    cancelled.
 */
export interface BootRecoveryDeps {
  engine: TradingEngine;
  book: LedgerBook;
  store: Pick<Store, 'audit' | 'journal'>;
  venues: readonly EngineVenue[];
  portfolio: PortfolioSnapshots;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  sleep: Sleep;
}

export interface BootRecoveryResult {
  snapshotLoaded: boolean;
  reconciled: ReconcileResult;
}

/** Step 1: returns whether a portfolio.json of Bosun's own or an operator's was there. */
async function loadPortfolioFile(d: BootRecoveryDeps): Promise<boolean> {
  const file = d.portfolio.read();
  if (file.status === 'ours') return true;
  if (file.status === 'corrupt') {
    d.log.warn({ path: d.portfolio.path, detail: file.detail }, 'portfolio.json unreadable: LMDB ledger in force');
    return false;
  }
  if (file.status !== 'operator_edited' || !file.doc) return false;
  const venues = new Set<string>(d.venues.map((v) => v.id));
  for (const [venue, v] of Object.entries(file.doc.ledger.venues)) {
    if (!venues.has(venue)) continue;
    const before = d.book.ledger().venues[venue]?.balances ?? null;
    await d.book.baseline(venue, v.balances, d.now());
    await d.store.audit.append({
      actor: 'operator',
      action: 'portfolio.adjust',
      target: `venue:${venue}`,
      before,
      after: v.balances,
      result: 'applied',
      reason: 'state/portfolio.json differs from what Bosun last wrote: loaded as the baseline',
    });
    await d.store.journal.append({
      type: 'portfolio.baseline',
      venue,
      source: 'operator_edited',
      balances: v.balances,
    });
  }
  d.log.warn({ path: d.portfolio.path }, 'operator-edited portfolio.json loaded as the baseline (audited)');
  return true;
}

/** Step 2. A transient venue error (Kraken's `Invalid nonce`, a 5xx, a 429) is retried, not a startup failure. */
async function firstBootBaselines(d: BootRecoveryDeps): Promise<void> {
  const bootRead = <T>(venue: VenueId, what: string, read: () => Promise<T>): Promise<T> =>
    retryTransient(
      {
        attempts: 6,
        backoff: { firstMs: 250, maxMs: 2_000 },
        sleep: d.sleep,
        onRetry: (attempt, delayMs, e) =>
          d.log.warn(
            { venue, what, attempt, delayMs, err: errorMessage(e) },
            'boot recovery: transient venue error, retrying',
          ),
      },
      read,
    );
  await Promise.all(
    d.venues.map(async (v) => {
      await bootRead(v.id, 'loadMarkets', () => v.gateway.loadMarkets());
      if (d.book.hasVenue(v.id)) return;
      // The cursor is taken before the read: a trade the balances already hold is older than it.
      const at = d.now();
      const b = await bootRead(v.id, 'fetchBalances', () => v.gateway.fetchBalances('spot'));
      const balances = Object.fromEntries(Object.entries(b).map(([a, e]) => [a, e.total]));
      await d.book.baseline(v.id, balances, at);
      await d.store.journal.append({ type: 'portfolio.baseline', venue: v.id, source: 'venue', balances });
    }),
  );
}

export async function recoverBooks(d: BootRecoveryDeps): Promise<BootRecoveryResult> {
  const snapshotLoaded = await loadPortfolioFile(d);
  await firstBootBaselines(d);
  const unconfigured = await d.engine.perpBoot();
  if (unconfigured.length > 0)
    d.log.error({ perpetuals: unconfigured }, 'boot: perpetuals without the configured leverage take no entries');
  d.engine.takeSlots();
  const reconciled = await d.engine.reconcileAll();
  d.engine.setAccepting(true);
  const cancelled = await d.engine.cancelRefused();
  if (cancelled > 0) d.log.warn({ cancelled }, 'boot: resting entries in halted or reducing scopes cancelled');
  d.metrics.reconcileLagSeconds.set(d.engine.reconcileLagSeconds());
  await d.portfolio.write();
  return { snapshotLoaded, reconciled };
}
