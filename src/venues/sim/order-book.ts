/**
 * The synthetic order book: finite depth around the market's fair price, rebuilt every price step with seeded
 * jitter, minus what our own aggressive orders already took during that step. Large orders therefore walk the
 * book (slippage) and can run out of liquidity (partial fills).
 */
import { clean, snapDown, snapUp } from '../../domain/precision.js';
import { mix32, unitFromHash } from './random.js';

export interface BookLevel {
  price: number;
  qty: number;
}

/** Bids best (highest) first, asks best (lowest) first. */
export interface Book {
  bids: BookLevel[];
  asks: BookLevel[];
}

export interface BookShape {
  /** Levels per side. */
  levels: number;
  /** Quote notional of the first level; deeper levels grow 30 % per level. */
  levelNotional: number;
  /** Full spread in basis points of the mid (at least one tick). */
  spreadBps: number;
  /** Gap between levels in basis points of the mid (at least one tick). */
  gapBps: number;
}

export const DEFAULT_BOOK: BookShape = { levels: 20, levelNotional: 5_000, spreadBps: 1, gapBps: 0.5 };

export interface BookInput {
  mid: number;
  tick: number;
  step: number;
  /** Stream id for the jitter (market id hash) and the price step: same inputs → same book. */
  stream: number;
  k: number;
  shape: BookShape;
}

/** Builds the untouched book for one step. */
export function syntheticBook(b: BookInput): Book {
  const half = Math.max(b.tick, (b.mid * b.shape.spreadBps) / 2e4);
  const bestBid = Math.max(b.tick, snapDown(b.mid - half, b.tick));
  let bestAsk = snapUp(b.mid + half, b.tick);
  if (bestAsk <= bestBid) bestAsk = clean(bestBid + b.tick);
  const gap = Math.max(b.tick, snapDown((b.mid * b.shape.gapBps) / 1e4, b.tick));
  const bids: BookLevel[] = [];
  const asks: BookLevel[] = [];
  for (let i = 0; i < b.shape.levels; i++) {
    const size = (side: number) => {
      const jitter = 0.6 + 0.8 * unitFromHash(b.stream, b.k, i, side);
      const q = snapDown((b.shape.levelNotional / b.mid) * (1 + 0.3 * i) * jitter, b.step);
      return Math.max(b.step, q);
    };
    const bid = clean(bestBid - i * gap);
    if (bid > 0) bids.push({ price: bid, qty: size(0) });
    asks.push({ price: clean(bestAsk + i * gap), qty: size(1) });
  }
  return { bids, asks };
}

/**
 * Liquidity our orders took in the current step, per side and price; forgotten when the step changes (the
 * synthetic crowd refills the book every step).
 */
export class BookConsumption {
  private k = -1;
  private taken = new Map<string, number>();

  /** The book for step `k` with this step's consumption removed. */
  apply(book: Book, k: number): Book {
    if (k !== this.k) {
      this.k = k;
      this.taken.clear();
    }
    if (this.taken.size === 0) return book;
    const left = (side: 'b' | 'a', levels: BookLevel[]) =>
      levels
        .map((l) => ({ price: l.price, qty: clean(l.qty - (this.taken.get(`${side}${l.price}`) ?? 0)) }))
        .filter((l) => l.qty > 0);
    return { bids: left('b', book.bids), asks: left('a', book.asks) };
  }

  /** Nothing taken from step `k`'s book. */
  untouched(k: number): boolean {
    return k !== this.k || this.taken.size === 0;
  }

  /** Records a fill of `qty` at `price` against the asks (a buy) or the bids (a sell). */
  take(k: number, against: 'bids' | 'asks', price: number, qty: number): void {
    if (k !== this.k) {
      this.k = k;
      this.taken.clear();
    }
    const key = `${against === 'bids' ? 'b' : 'a'}${price}`;
    this.taken.set(key, clean((this.taken.get(key) ?? 0) + qty));
  }
}

export interface SweepFill {
  price: number;
  qty: number;
}

export interface SweepRequest {
  /** Levels on the opposite side, best first. */
  levels: readonly BookLevel[];
  side: 'buy' | 'sell';
  /** Base quantity wanted (or use `quoteQty`). */
  qty?: number;
  /** Quote amount to spend/receive (market orders by cost). */
  quoteQty?: number;
  /** Worst acceptable price (limit orders). */
  limit?: number;
  step: number;
}

/** Walks the levels best-first and returns the fills an aggressive order gets. */
export function sweep(r: SweepRequest): SweepFill[] {
  const fills: SweepFill[] = [];
  let qtyLeft = r.qty ?? Number.POSITIVE_INFINITY;
  let quoteLeft = r.quoteQty ?? Number.POSITIVE_INFINITY;
  for (const l of r.levels) {
    if (qtyLeft <= 0 || quoteLeft <= 0) break;
    if (r.limit !== undefined && (r.side === 'buy' ? l.price > r.limit : l.price < r.limit)) break;
    let q = Math.min(l.qty, qtyLeft);
    if (Number.isFinite(quoteLeft)) q = Math.min(q, snapDown(quoteLeft / l.price, r.step));
    q = clean(q);
    if (q <= 0) break;
    fills.push({ price: l.price, qty: q });
    qtyLeft = clean(qtyLeft - q);
    quoteLeft = clean(quoteLeft - q * l.price);
  }
  return fills;
}

/** Stable 32-bit stream id for a market's book jitter. */
export function bookStream(seed: number, marketKey: number): number {
  return mix32(seed, marketKey);
}
