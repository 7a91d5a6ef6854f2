import { AppError } from '../../domain/errors.js';
import { tickPrice } from '../../machines/symbol.machine.js';
import type { EngineVenue } from './engine-types.js';

/**
 * The latest price (the mid, else the last trade) per venue, then symbol. Written on every tick (`note`): two map lookups, no key string built
 * per tick. Operator and guard orders that arrive before any tick ask the venue's ticker once (`current`).
 */
export interface PriceBook {
  price(venue: string, symbol: string): number | undefined;
  note(venue: string, symbol: string, price: number): void;
  /** USD prices by base asset from the latest ticks (quote assets count 1: the depeg guard watches that). */
  assetPrices(): Record<string, number>;
  /** The latest price seen for a symbol, else the venue's ticker (remembered). */
  current(venue: string, symbol: string): Promise<number>;
  /**
   * The latest touch (best bid and ask) seen for a spot symbol and when (engine clock): a maker order's price and
   * the maker shadow's mids (maker mode). Updated in place on every tick: copy it to keep it.
   */
  touch(venue: string, symbol: string): Readonly<Touch> | undefined;
  noteTouch(venue: string, symbol: string, bid: number | null, ask: number | null, sizes?: TouchSizes): void;
}

/** Base quantity at the best bid and ask, when the tick carried it. */
export interface TouchSizes {
  bidSize?: number | null | undefined;
  askSize?: number | null | undefined;
}

export interface Touch {
  bid: number;
  ask: number;
  bidSize: number | null;
  askSize: number | null;
  at: number;
}

const size = (v: number | null | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;

export function createPriceBook(venues: ReadonlyMap<string, EngineVenue>, now: () => number = Date.now): PriceBook {
  const prices = new Map<string, Map<string, number>>();
  const touches = new Map<string, Touch>();
  const noteTouch = (venue: string, symbol: string, bid: number | null, ask: number | null, sizes?: TouchSizes) => {
    if (bid === null || ask === null || !(bid > 0) || !(ask >= bid)) return;
    const k = `${venue}|${symbol}`;
    const t = touches.get(k);
    const bidSize = size(sizes?.bidSize);
    const askSize = size(sizes?.askSize);
    if (t === undefined) touches.set(k, { bid, ask, bidSize, askSize, at: now() });
    else {
      t.bid = bid;
      t.ask = ask;
      t.bidSize = bidSize;
      t.askSize = askSize;
      t.at = now();
    }
  };
  const price = (venue: string, symbol: string): number | undefined => prices.get(venue)?.get(symbol);
  function note(venue: string, symbol: string, p: number): void {
    let byVenue = prices.get(venue);
    if (!byVenue) {
      byVenue = new Map();
      prices.set(venue, byVenue);
    }
    byVenue.set(symbol, p);
  }
  return {
    price,
    note,
    touch: (venue, symbol) => touches.get(`${venue}|${symbol}`),
    noteTouch,
    assetPrices() {
      const out: Record<string, number> = {};
      for (const [venue, bySymbol] of prices) {
        const markets = venues.get(venue)?.gateway.markets('spot');
        if (markets === undefined) continue;
        for (const [symbol, p] of bySymbol) {
          const m = markets[symbol];
          if (m && out[m.base] === undefined) out[m.base] = p;
        }
      }
      return out;
    },
    async current(venue, symbol) {
      const seen = price(venue, symbol);
      if (seen !== undefined) return seen;
      const gw = venues.get(venue);
      if (!gw) throw new AppError('NOT_FOUND', `no venue '${venue}'`);
      const t = (await gw.gateway.fetchTickers([symbol]))[symbol];
      // The mid, else the last trade: the same price the tick router notes (tickPrice), so an order's arrival
      // price (slippage.ts) means the same whether a tick or this lookup supplied it.
      const p = t ? tickPrice(t) : null;
      if (p === null || !(p > 0)) throw new AppError('UNPROCESSABLE', `no price for ${symbol} on ${venue}`);
      note(venue, symbol, p);
      if (t) noteTouch(venue, symbol, t.bid, t.ask);
      return p;
    },
  };
}
