import { applyFill, emptyLedger, type Fill, type Ledger, valueLedger, withBaseline } from '../domain/portfolio.js';
import type { Json, KvStore } from '../store/index.js';

/**
 * The portfolio ledger as LMDB holds it (`portfolio` database): one key per venue with its balances, one key per
 * applied trade (so a fill is applied exactly once, whichever path sees it first), and the strategies' own
 * position per symbol (strategies only ever sell what they bought, never an operator's holdings).
 *
 * Every write for one fill is issued in the same synchronous block, so lmdb-js puts them in the same transaction
 * as the journal entry written beside them: after a crash the ledger, the applied-trade set and the journal agree.
 */
export interface LedgerBook {
  ledger(): Ledger;
  hasTrade(venue: string, tradeId: string): boolean;
  /** Sets a venue's balances (first-boot baseline or an operator-edited portfolio.json); durable on resolve. */
  baseline(venue: string, balances: Record<string, number>, at: number): Promise<void>;
  hasVenue(venue: string): boolean;
  /** Applies a fill once; returns the durable-commit promise, or null when it was already applied. */
  apply(fill: Fill, strategyOwned: boolean): Promise<void> | null;
  /** Base quantity the strategies hold on a venue's symbol (≥ 0). */
  strategyPosition(venue: string, symbol: string): number;
  valuation(prices: Record<string, number>): ReturnType<typeof valueLedger>;
}

const ledgerKey = (venue: string) => `ledger:${venue}`;
const tradeKey = (venue: string, id: string) => `trade:${venue}:${id}`;
const posKey = (venue: string, symbol: string) => `pos:${venue}:${symbol}`;

type VenueLedger = Ledger['venues'][string];

export function createLedgerBook(kv: KvStore, venues: readonly string[]): LedgerBook {
  let ledger = emptyLedger();
  for (const v of venues) {
    const stored = kv.get<VenueLedger & Json>(ledgerKey(v));
    if (stored) ledger = { venues: { ...ledger.venues, [v]: stored as VenueLedger } };
  }
  // Trades applied in this process: an async put is not visible to reads until it commits, and two paths (the
  // order's own settlement and a reconciliation) may see the same trade inside one commit window.
  const applied = new Set<string>();
  const positions = new Map<string, number>();
  for (const key of kv.keys('pos:')) positions.set(key, Number(kv.get(key)) || 0);

  return {
    ledger: () => ledger,
    hasVenue: (v) => ledger.venues[v] !== undefined,
    hasTrade: (venue, id) => applied.has(tradeKey(venue, id)) || kv.get(tradeKey(venue, id)) !== undefined,
    async baseline(venue, balances, at) {
      ledger = withBaseline(ledger, venue, balances);
      const v = ledger.venues[venue];
      if (v) v.lastTradeAt = Math.max(v.lastTradeAt, at);
      await kv.put(ledgerKey(venue), ledger.venues[venue]);
    },
    apply(fill, strategyOwned) {
      const tk = tradeKey(fill.venue, fill.tradeId);
      if (applied.has(tk) || kv.get(tk) !== undefined) return null;
      applied.add(tk);
      ledger = applyFill(ledger, fill);
      const writes: Promise<void>[] = [
        kv.put(ledgerKey(fill.venue), ledger.venues[fill.venue]),
        kv.put(tk, { at: fill.at, clientOrderId: fill.clientOrderId }),
      ];
      if (strategyOwned) {
        const k = posKey(fill.venue, fill.symbol);
        const next = Math.max(0, (positions.get(k) ?? 0) + (fill.side === 'buy' ? fill.amount : -fill.amount));
        positions.set(k, next);
        writes.push(kv.put(k, next));
      }
      return Promise.all(writes).then(() => undefined);
    },
    strategyPosition: (venue, symbol) => positions.get(posKey(venue, symbol)) ?? 0,
    valuation: (prices) => valueLedger(ledger, prices),
  };
}
