import type { MarketKind } from '../../venues/venue-gateway.js';

/**
 * The durable commit of every fill applied in this process and not yet committed, by market, venue and trade id.
 * A book holds a fill from the moment `apply` issues its writes (so a second copy is never applied twice), but
 * LMDB holds it only once their commit lands. A second copy of the fill (the stream's duplicate, a REST poll or a
 * reconciliation reading it meanwhile) waits here before it counts the fill as held: settlement frees the order's
 * slot and reservation and tells its owner only once every fill it depends on is durable, so a crash in the
 * window can no longer lose a fill the process had already acted on.
 */
export interface FillCommits {
  /** Records the commit of a fill just applied (its ledger writes and journal entry); returns it. */
  track(market: MarketKind, venue: string, tradeId: string, commit: Promise<unknown>): Promise<unknown>;
  /** The commit still in flight for a fill, or undefined once it landed (or it was never applied here). */
  pending(market: MarketKind, venue: string, tradeId: string): Promise<unknown> | undefined;
}

export function createFillCommits(): FillCommits {
  const inFlight = new Map<string, Promise<unknown>>();
  const key = (market: MarketKind, venue: string, id: string) => `${market}|${venue}|${id}`;
  return {
    track(market, venue, tradeId, commit) {
      const k = key(market, venue, tradeId);
      inFlight.set(k, commit);
      // A failed commit stays failed for whoever waits on it (the store is poisoned, commit-guard.ts); this
      // handler only forgets it, and keeps the rejection from counting as unhandled here.
      const forget = () => {
        if (inFlight.get(k) === commit) inFlight.delete(k);
      };
      commit.then(forget, forget);
      return commit;
    },
    pending: (market, venue, tradeId) => inFlight.get(key(market, venue, tradeId)),
  };
}
