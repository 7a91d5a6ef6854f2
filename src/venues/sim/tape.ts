/**
 * The public trade tape of every market the simulator lists (Binance `<symbol>@trade` / `@aggTrade`, GET
 * `/api/v3/trades` and `aggTrades`, their USDⓈ-M twins): what a venue's public trade stream shows, so a maker's
 * "would a post at the touch have filled" can be judged from prints as on the real venue.
 *
 * Two sources, in one id sequence per market:
 * - fills: every trade the matching engine makes is a public print (price, quantity; the buyer is the maker when
 *   the buy side rested);
 * - the synthetic flow: the rest of the market's traders. A market someone reads (a trade stream, a trades
 *   request) is sampled whenever the simulator syncs; a fair price that moved since the last sample prints one
 *   trade at the touch on the side that moved it (a fall is a seller hitting the bid, a rise a buyer lifting the
 *   ask). A market nobody reads is not sampled: its tape starts when the first reader asks (the venue's tape has
 *   history, but nothing in Bosun reads further back than its own watch).
 */

import type { MarketDef } from './instruments.js';
import type { Market } from './market.js';
import type { SimTrade } from './order-store.js';
import { hash32, unitFromHash } from './random.js';

export interface Print {
  id: number;
  price: number;
  qty: number;
  time: number;
  /** Binance's `m`: the buyer was the maker (the aggressor sold). */
  buyerMaker: boolean;
}

/** Prints kept per market (Binance serves up to 1,000 recent trades). */
const KEEP = 1000;
/** A market unread for this long stops being sampled. */
const INTEREST_MS = 10 * 60_000;

interface MarketTape {
  m: MarketDef;
  prints: Print[];
  nextId: number;
  lastFair: number | undefined;
  readAt: number;
}

export class Tape {
  private readonly tapes = new Map<MarketDef, MarketTape>();

  constructor(
    private readonly market: Market,
    private readonly now: () => number,
  ) {}

  private of(m: MarketDef): MarketTape {
    let t = this.tapes.get(m);
    if (t === undefined) {
      t = {
        m,
        prints: [],
        nextId: 1 + (hash32(`${m.venue}|${m.kind}|${m.id}`) % 100_000),
        lastFair: undefined,
        readAt: 0,
      };
      this.tapes.set(m, t);
    }
    return t;
  }

  private append(t: MarketTape, p: Omit<Print, 'id'>): void {
    const print = { id: t.nextId++, ...p };
    t.prints.push(print);
    if (t.prints.length > KEEP) t.prints.splice(0, t.prints.length - KEEP);
  }

  /** A reader's interest: the market is sampled from now on (and its first sample sets the baseline). */
  watch(m: MarketDef): void {
    const t = this.of(m);
    t.readAt = Date.now();
    if (t.lastFair === undefined) t.lastFair = this.market.fair(m, this.now());
  }

  /** A fill of the matching engine: one public print (the taker side is the aggressor). */
  fill(trade: SimTrade): void {
    const o = trade.order;
    const buyerMaker = o.side === 'buy' ? trade.maker : !trade.maker;
    this.append(this.of(o.market), { price: trade.price, qty: trade.qty, time: trade.time, buyerMaker });
  }

  /** The synthetic flow of every watched market up to now (called after the simulator synced its prices). */
  sample(): void {
    const wall = Date.now();
    const t = this.now();
    for (const tape of this.tapes.values()) {
      if (tape.lastFair === undefined) continue;
      if (wall - tape.readAt > INTEREST_MS) {
        tape.lastFair = undefined;
        continue;
      }
      const fair = this.market.fair(tape.m, t);
      if (fair === tape.lastFair) continue;
      const falling = fair < tape.lastFair;
      tape.lastFair = fair;
      const book = this.market.book(tape.m, t);
      const touch = falling ? book.bids[0]?.price : book.asks[0]?.price;
      if (touch === undefined || !(touch > 0)) continue;
      const lots = 1 + Math.floor(unitFromHash(tape.nextId, hash32(tape.m.id)) * 20);
      const qty = Math.max(tape.m.minQty, tape.m.stepSize) * lots;
      this.append(tape, { price: touch, qty, time: t, buyerMaker: falling });
    }
  }

  /** Prints after `id`, oldest first, without sampling (a stream session pushes these; it keeps the market read). */
  after(m: MarketDef, id: number): Print[] {
    const t = this.of(m);
    t.readAt = Date.now();
    return t.prints.filter((p) => p.id > id);
  }

  /** The last print id of a market (0 before any). */
  lastId(m: MarketDef): number {
    return this.of(m).prints.at(-1)?.id ?? 0;
  }

  /** Recent prints of a market, oldest first (`fromId` inclusive; times inclusive); marks it read. */
  recent(m: MarketDef, q: { limit: number; fromId?: number; startTime?: number; endTime?: number }): Print[] {
    this.watch(m);
    this.sample();
    let list = this.of(m).prints;
    const { fromId, startTime, endTime } = q;
    if (fromId !== undefined) return list.filter((p) => p.id >= fromId).slice(0, q.limit);
    if (startTime !== undefined || endTime !== undefined) {
      list = list.filter(
        (p) => (startTime === undefined || p.time >= startTime) && (endTime === undefined || p.time <= endTime),
      );
      return list.slice(0, q.limit);
    }
    return list.slice(-q.limit);
  }
}
