/**
 * The market: fair prices for every listed market, derived from the assets' USD paths and the scenario
 * multipliers (depeg, flash crash, manual price), their synthetic books, 24 h statistics and perpetual
 * funding rates. Assets step lazily, except the ones the engine watches (open orders, positions), which step
 * in lockstep so that every intermediate price can trigger a stop, fill a resting limit or settle funding.
 */
import { clean } from '../../domain/precision.js';
import type { Venue } from './faults.js';
import { seededFundingRate } from './funding-rate.js';
import { type AssetDef, type Catalogue, fromKrakenAsset, type MarketDef, type MarketKind } from './instruments.js';
import { type Book, BookConsumption, type BookShape, bookStream, syntheticBook } from './order-book.js';
import { PricePath } from './price-path.js';
import { hash32, unitFromHash } from './random.js';

export interface MarketOptions {
  seed: number;
  originMs: number;
  stepMs: number;
  fundingIntervalMs: number;
  book: BookShape;
}

interface Shock {
  asset: string;
  startMs: number;
  pct: number;
  downMs: number;
  recoverMs: number;
}

interface Peg {
  pct: number;
  startMs: number;
  rampMs: number;
}

interface FundingOverride {
  symbol: string | undefined;
  rate: number;
  untilMs: number | undefined;
}

export interface Stats24h {
  open: number;
  high: number;
  low: number;
  last: number;
  baseVolume: number;
  quoteVolume: number;
  openTime: number;
  closeTime: number;
  trades: number;
}

export class Market {
  private readonly bookCache = new WeakMap<MarketDef, { k: number; mid: number; book: Book }>();
  /** The book shape cut to its best level (top()). */
  private readonly topShape: BookShape;
  private readonly paths = new Map<string, PricePath>();
  private readonly assets: Map<string, AssetDef>;
  private readonly byKey = new Map<string, MarketDef>();
  private readonly consumption = new Map<string, BookConsumption>();
  private shocks: Shock[] = [];
  private pegs = new Map<string, Peg>();
  private overrides = new Map<string, number>();
  private funding: FundingOverride[] = [];
  private kNow = 0;

  constructor(
    readonly catalogue: Catalogue,
    readonly opts: MarketOptions,
  ) {
    this.assets = new Map(catalogue.assets.map((a) => [a.code, a]));
    this.topShape = { ...opts.book, levels: Math.min(1, opts.book.levels) };
    for (const m of catalogue.markets) {
      this.byKey.set(`${m.venue}|${m.kind}|${m.id}`, m);
      if (m.altname !== m.id) this.byKey.set(`${m.venue}|${m.kind}|${m.altname}`, m);
    }
  }

  /** Forgets scenarios, overrides and book consumption (paths keep stepping: time does not rewind). */
  resetScenarios(): void {
    this.shocks = [];
    this.pegs.clear();
    this.overrides.clear();
    this.funding = [];
    this.consumption.clear();
  }

  get stepMs(): number {
    return this.opts.stepMs;
  }

  /** The step in force at sim time `t`. */
  stepAt(t: number): number {
    return Math.max(0, Math.floor((t - this.opts.originMs) / this.opts.stepMs));
  }

  timeOfStep(k: number): number {
    return this.opts.originMs + k * this.opts.stepMs;
  }

  get currentStep(): number {
    return this.kNow;
  }

  /**
   * Resumes at the step a persisted simulator had reached: paths regenerate up to it lazily (they are pure
   * functions of seed and step), and only the steps after it are replayed one by one for watched assets, so a
   * resting order sees the prices of the downtime once, as a venue's matching engine would have.
   */
  resumeAt(step: number): void {
    this.kNow = Math.max(this.kNow, step);
  }

  market(venue: Venue, kind: MarketKind, id: string): MarketDef | undefined {
    return this.byKey.get(`${venue}|${kind}|${id}`);
  }

  markets(venue: Venue, kind?: MarketKind): MarketDef[] {
    return this.catalogue.markets.filter((m) => m.venue === venue && (kind === undefined || m.kind === kind));
  }

  /** Underlying asset for a symbol in any naming (`BTCUSDT`, `BTC/USDT`, `XBTUSD`, `XXBTZUSD`, `BTC`). */
  assetOf(symbol: string): string | undefined {
    const s = symbol.toUpperCase().replace(/:.*$/, '').replace(/[/-]/g, '');
    if (this.assets.has(s)) return s;
    const k = fromKrakenAsset(s);
    if (this.assets.has(k)) return k;
    for (const m of this.catalogue.markets)
      if (m.id === s || m.altname === s || `${m.base}${m.quote}` === s) return m.base;
    return undefined;
  }

  path(asset: string): PricePath {
    let p = this.paths.get(asset);
    if (p === undefined) {
      const def = this.assets.get(asset);
      if (def === undefined) throw new RangeError(`unknown asset ${asset}`);
      p = new PricePath(def, this.opts.seed, this.opts.stepMs, this.opts.originMs);
      this.paths.set(asset, p);
    }
    if (p.step < this.kNow) p.advanceTo(this.kNow);
    return p;
  }

  /**
   * Moves the market to sim time `t`. Watched assets step one by one and `onStep(k, tMs)` runs after each
   * step; the rest jump lazily when next asked.
   */
  sync(t: number, watched: ReadonlySet<string>, onStep: (k: number, tMs: number) => void): void {
    const target = this.stepAt(t);
    if (target <= this.kNow) return;
    if (watched.size === 0) {
      this.kNow = target;
      return;
    }
    const ps = [...watched].filter((a) => a !== 'USD').map((a) => this.path(a));
    for (let k = this.kNow + 1; k <= target; k++) {
      for (const p of ps) p.advanceTo(k);
      this.kNow = k;
      onStep(k, this.timeOfStep(k));
    }
  }

  /** USD value of one unit of `asset` at sim time `t` (current step), scenarios included. */
  usd(asset: string, t: number): number {
    if (asset === 'USD') return 1;
    const base = this.path(asset).price;
    return base * this.pegFactor(asset, t) * this.shockFactor(asset, t) * (this.overrides.get(asset) ?? 1);
  }

  /** Fair (mid/last) price of a market at sim time `t`, tick-snapped. */
  fair(m: MarketDef, t: number): number {
    const raw = this.usd(m.base, t) / this.usd(m.quote, t);
    return Math.max(m.tickSize, clean(Math.round(raw / m.tickSize) * m.tickSize));
  }

  /** The book at the current step, net of what our orders already took in this step. */
  book(m: MarketDef, t: number): Book {
    const mid = this.fair(m, t);
    // The synthetic book is a pure function of (market, mid, step): a ticker poll of 1,000 markets would
    // otherwise rebuild 1,000 full books per request for their top level alone.
    const cached = this.bookCache.get(m);
    let raw: Book;
    if (cached && cached.k === this.kNow && cached.mid === mid) {
      raw = cached.book;
    } else {
      raw = this.synthetic(m, mid, this.opts.book);
      this.bookCache.set(m, { k: this.kNow, mid, book: raw });
    }
    return this.consumptionOf(m).apply(raw, this.kNow);
  }

  /**
   * The best level of each side of book() (what a ticker shows). Level 0 of the synthetic book depends on nothing
   * deeper, so it is built alone unless the full book of this step is at hand or this step's fills consumed some
   * of it (then the next level may be the best): a ticker push of 1,000 markets built 1,000 full books a step.
   */
  top(m: MarketDef, t: number): Book {
    const mid = this.fair(m, t);
    const cached = this.bookCache.get(m);
    if ((cached && cached.k === this.kNow && cached.mid === mid) || !this.consumptionOf(m).untouched(this.kNow)) {
      const b = this.book(m, t);
      return { bids: b.bids.slice(0, 1), asks: b.asks.slice(0, 1) };
    }
    return this.synthetic(m, mid, this.topShape);
  }

  /** The synthetic book of the current step around `mid`, in `shape` (book() and top() build it the same way). */
  private synthetic(m: MarketDef, mid: number, shape: BookShape): Book {
    return syntheticBook({
      mid,
      tick: m.tickSize,
      step: m.stepSize,
      stream: bookStream(this.opts.seed, hash32(`${m.venue}|${m.kind}|${m.id}`)),
      k: this.kNow,
      shape,
    });
  }

  /** Records liquidity taken from the current step's book. */
  take(m: MarketDef, against: 'bids' | 'asks', price: number, qty: number): void {
    this.consumptionOf(m).take(this.kNow, against, price, qty);
  }

  /** Makes the market's fair price `price` now by scaling its base asset (every market on that asset moves). */
  setPrice(m: MarketDef, price: number, t: number): void {
    const now = this.usd(m.base, t) / this.usd(m.quote, t);
    this.overrides.set(m.base, (this.overrides.get(m.base) ?? 1) * (price / now));
  }

  depeg(asset: string, pct: number, startMs: number, rampMs: number): void {
    this.pegs.set(asset, { pct, startMs, rampMs });
  }

  flashCrash(asset: string, pct: number, startMs: number, downMs: number, recoverMs: number): void {
    this.shocks.push({ asset, pct, startMs, downMs, recoverMs });
  }

  fundingSpike(symbol: string | undefined, rate: number, untilMs: number | undefined): void {
    this.funding.push({ symbol, rate, untilMs });
  }

  /** 24 h statistics from the path's minute bars, in the market's quote. */
  stats(m: MarketDef, t: number): Stats24h {
    const last = this.fair(m, t);
    const p = this.path(m.base);
    const scale = last / (p.price || 1);
    const bars = p.bars();
    let high = last;
    let low = last;
    let baseVolume = 0;
    let quoteVolume = 0;
    const stream = hash32(`vol|${m.venue}|${m.id}`);
    for (const b of bars) {
      high = Math.max(high, b.high * scale);
      low = Math.min(low, b.low * scale);
      const v = (2_000 / last) * (0.5 + unitFromHash(stream, b.minute - p.firstMinute));
      baseVolume += v;
      quoteVolume += v * b.close * scale;
    }
    const first = bars[0];
    return {
      open: clean(first === undefined ? last : first.open * scale),
      high: clean(high),
      low: clean(low),
      last,
      baseVolume: clean(baseVolume),
      quoteVolume: clean(quoteVolume),
      openTime: first === undefined ? t : Math.max(this.opts.originMs, first.minute * 60_000),
      closeTime: t,
      trades: bars.length * 17,
    };
  }

  /** Start of the funding interval after `t`. */
  nextFundingTime(t: number): number {
    const i = this.opts.fundingIntervalMs;
    return Math.floor(t / i) * i + i;
  }

  /** Funding rate of a perpetual for the settlement at `fundingTime`, as known at sim time `t`. */
  fundingRate(m: MarketDef, fundingTime: number, t: number): number {
    for (let i = this.funding.length - 1; i >= 0; i--) {
      const o = this.funding[i]!;
      if (
        (o.symbol === undefined || o.symbol === m.id) &&
        (o.untilMs === undefined || Math.min(t, fundingTime) < o.untilMs)
      )
        return o.rate;
    }
    const p = this.path(m.base);
    return seededFundingRate(this.opts.seed, m.id, p.regimeAt(this.stepAt(Math.min(t, fundingTime))), fundingTime);
  }

  private pegFactor(asset: string, t: number): number {
    const p = this.pegs.get(asset);
    if (p === undefined || t < p.startMs) return 1;
    const ramp = p.rampMs === 0 ? 1 : Math.min(1, (t - p.startMs) / p.rampMs);
    return 1 - (p.pct / 100) * ramp;
  }

  private shockFactor(asset: string, t: number): number {
    let f = 1;
    for (const s of this.shocks) {
      if (s.asset !== asset || t < s.startMs) continue;
      const into = t - s.startMs;
      let depth: number;
      if (into < s.downMs) depth = into / s.downMs;
      else if (into < s.downMs + s.recoverMs) depth = 1 - (into - s.downMs) / s.recoverMs;
      else depth = 0;
      f *= 1 - (s.pct / 100) * depth;
    }
    return f;
  }

  private consumptionOf(m: MarketDef): BookConsumption {
    const key = `${m.venue}|${m.kind}|${m.id}`;
    let c = this.consumption.get(key);
    if (c === undefined) {
      c = new BookConsumption();
      this.consumption.set(key, c);
    }
    return c;
  }
}
