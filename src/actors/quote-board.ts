import type { Ticker } from '../venues/venue-gateway.js';

/**
 * The shared feed's latest quote per venue and symbol (DESIGN §5): every tick a venue feed delivers, streamed or
 * polled, is noted here before it goes to the symbols, so readers that only need a price (the depeg guard's
 * parity) read what the feed already has instead of polling tickers on their own (issue 14 item 6: the guard's
 * own poll doubled ticker traffic, and on Kraken's starter tier the public budget has no room for it).
 */
export interface Quote {
  bid: number | null;
  ask: number | null;
  last: number | null;
  receivedAt: number;
}

export interface QuoteBoard {
  note(venue: string, t: Ticker): void;
  get(venue: string, symbol: string): Quote | undefined;
  /** Mid (else last) of a quote no older than `maxAgeMs` at `now`; null when there is none. */
  mid(venue: string, symbol: string, now: number, maxAgeMs: number): number | null;
}

export function createQuoteBoard(): QuoteBoard {
  const byVenue = new Map<string, Map<string, Quote>>();
  const get = (venue: string, symbol: string) => byVenue.get(venue)?.get(symbol);
  return {
    note(venue, t) {
      let m = byVenue.get(venue);
      if (!m) {
        m = new Map();
        byVenue.set(venue, m);
      }
      m.set(t.symbol, { bid: t.bid, ask: t.ask, last: t.last, receivedAt: t.receivedAt });
    },
    get,
    mid(venue, symbol, now, maxAgeMs) {
      const q = get(venue, symbol);
      if (!q || now - q.receivedAt > maxAgeMs) return null;
      if (q.bid !== null && q.ask !== null && q.bid > 0 && q.ask > 0) return (q.bid + q.ask) / 2;
      return q.last !== null && q.last > 0 ? q.last : null;
    },
  };
}
