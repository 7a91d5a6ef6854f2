import {
  applyFundingTo,
  applyPerpFillTo,
  emptyPerpVenue,
  type PerpFill,
  type PerpOwner,
  type PerpVenue,
} from '../domain/perp-ledger.js';
import type { Json, KvStore } from '../store/index.js';

/**
 * The perpetual side of the ledger as LMDB holds it (`portfolio` database, beside the spot ledger): per venue the
 * margin wallet, the venue's net positions and each owner's share (perp-ledger.ts), one key per applied trade and
 * per applied funding payment (each applied exactly once, whichever path sees it first). A venue's record is small
 * (one entry per traded perpetual) and is rewritten whole with the applied-id key in one synchronous block: one
 * lmdb-js transaction, so after a crash the record and the applied set agree.
 */
export interface PerpBook {
  hasVenue(venue: string): boolean;
  /** First-boot baseline from the venue: wallet and positions (owner-less: not Bosun's). */
  baseline(
    venue: string,
    wallet: number,
    positions: Record<string, { qty: number; entryPrice: number }>,
  ): Promise<void>;
  venue(venue: string): PerpVenue | undefined;
  hasTrade(venue: string, tradeId: string): boolean;
  /** Applies a fill once (null: already applied); `owner` null for a trade that is not Bosun's. */
  apply(venue: string, tradeId: string, fill: PerpFill, owner: PerpOwner | null): Promise<void> | null;
  /** Applies a funding payment once by the venue's transaction id (null: already applied). */
  applyFunding(venue: string, tranId: string, symbol: string, amount: number): Promise<void> | null;
  /** The owner's signed quantity on a symbol (> 0 long, < 0 short). */
  position(venue: string, symbol: string, owner: PerpOwner): number;
  /** Σ |net position| × price per venue / per base asset, for the exposure rails (prices by base asset). */
  notionalUsdt(
    venue: string,
    baseOf: (symbol: string) => string,
    prices: Readonly<Record<string, number>>,
  ): {
    venueUsdt: number;
    byBase: Record<string, number>;
  };
}

const venueKey = (venue: string) => `perp:${venue}`;
const tradeKey = (venue: string, id: string) => `ptrade:${venue}:${id}`;
const fundKey = (venue: string, id: string) => `pfund:${venue}:${id}`;

export function createPerpBook(kv: KvStore, venues: readonly string[]): PerpBook {
  const books = new Map<string, PerpVenue>();
  for (const v of venues) {
    const stored = kv.get<PerpVenue & Json>(venueKey(v)) as PerpVenue | undefined;
    if (stored) books.set(v, structuredClone(stored));
  }
  // Ids applied in this process: an async put is not visible to reads until it commits.
  const applied = new Set<string>();
  const seen = (k: string) => applied.has(k) || kv.get(k) !== undefined;
  const save = (venue: string, v: PerpVenue) => kv.put(venueKey(venue), v as unknown as Json);

  return {
    hasVenue: (v) => books.has(v),
    venue: (v) => {
      const b = books.get(v);
      return b ? structuredClone(b) : undefined;
    },
    async baseline(venue, wallet, positions) {
      const v = emptyPerpVenue(wallet);
      for (const [s, p] of Object.entries(positions)) if (p.qty !== 0) v.positions[s] = { ...p };
      books.set(venue, v);
      await save(venue, v);
    },
    hasTrade: (venue, id) => seen(tradeKey(venue, id)),
    apply(venue, tradeId, fill, owner) {
      const k = tradeKey(venue, tradeId);
      if (seen(k)) return null;
      const v = books.get(venue) ?? emptyPerpVenue(0);
      // Validate on a copy: a bad fill throws before anything changed.
      const next = structuredClone(v);
      applyPerpFillTo(next, fill, owner);
      books.set(venue, next);
      applied.add(k);
      return Promise.all([save(venue, next), kv.put(k, { symbol: fill.symbol })]).then(() => undefined);
    },
    applyFunding(venue, tranId, symbol, amount) {
      const k = fundKey(venue, tranId);
      if (seen(k)) return null;
      const next = structuredClone(books.get(venue) ?? emptyPerpVenue(0));
      applyFundingTo(next, amount);
      books.set(venue, next);
      applied.add(k);
      return Promise.all([save(venue, next), kv.put(k, { symbol, amount })]).then(() => undefined);
    },
    position: (venue, symbol, owner) => books.get(venue)?.owners[symbol]?.[owner] ?? 0,
    notionalUsdt(venue, baseOf, prices) {
      const byBase: Record<string, number> = {};
      let venueUsdt = 0;
      for (const [s, p] of Object.entries(books.get(venue)?.positions ?? {})) {
        const base = baseOf(s);
        const px = prices[base];
        // An unpriced position counts at its entry: never as 0 exposure.
        const n = Math.abs(p.qty) * (px !== undefined && px > 0 ? px : p.entryPrice);
        byBase[base] = (byBase[base] ?? 0) + n;
        venueUsdt += n;
      }
      return { venueUsdt, byBase };
    },
  };
}
