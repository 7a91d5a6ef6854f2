import { errorMessage } from '../../domain/errors.js';
import type { Logger } from '../../logging/logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import { isLocalRefusal, isVenueError } from '../../venues/error-classifier.js';
import type { PublicTrade } from '../../venues/venue-gateway.js';
import type { Sleep } from '../retry.js';
import type { TradePrints } from './trade-prints.js';

/**
 * Maker shadow (issue #16 item 3, `MAKER_MODE=shadow`): for every taker order, the post-only alternative at the
 * touch (best bid for a buy, best ask for a sell, as the engine saw it before sending) and whether it would have
 * filled within MAKER_TIMEOUT_SEC, judged from the venue's public trades: a buy posted at the bid fills when a
 * trade prints at or below it, a sell at the ask when one prints at or above it. Prints come from the venue's
 * trade stream (trade-prints.ts, ccxt.pro `watchTrades`) and, while that stream is not live, from REST
 * (`fetchTrades`) every `pollMs`. Only prints after the shadow opened count: their ids above the tape's last id
 * when it opened (read by REST at the open).
 *
 * Queue position: the post joins the back of the queue at its price, behind the quantity the venue showed at the
 * touch when it opened (`queueAhead`, the ticker's or the book's best size). A print through the price fills it
 * for sure; prints at the price first eat the queue ahead, and it counts as filled once the volume printed at the
 * price since the open covers the queue ahead and its own amount (`queueFills`). Cancellations ahead are not seen,
 * so this is the conservative estimate; `filledAtTouch` keeps the optimistic one (any print at or through the price),
 * and with no size known the two are the same. The KPIs and the fill rate use the queue-aware `filled`.
 * A read Bosun's own budget holds back (nothing sent: the venue's public budget is spent, as Kraken's is right
 * after a boot) is waited for rather than dropping the shadow: the opening tape read until the window ends (a
 * late read only moves the tape's start later, so fewer prints count), a REST poll inside the window is skipped
 * (the next one reads the same recent trades), the closing quote for at most one more window.
 *
 * KPIs once the window ends and the taker order's average fill is known, all in bps with positive = good for
 * improvement, positive = cost for the others:
 * - improvement: the post price against the taker's average fill;
 * - adverse: the mid move against the position from the would-be fill to the end of the window;
 * - missed cost (not filled): the price at the end of the window against the taker's fill, i.e. what waiting
 *   and then taking would have cost.
 */
export type MakerMarket = 'spot' | 'perp';

export interface Quote {
  bid: number | null;
  ask: number | null;
  last: number | null;
  /** Base quantity at the best bid / ask, when known. */
  bidSize?: number | null;
  askSize?: number | null;
}

export interface ShadowResult {
  clientOrderId: string;
  venue: string;
  symbol: string;
  market: MakerMarket;
  side: 'buy' | 'sell';
  strategy: string;
  postPrice: number;
  openedAt: number;
  endedAt: number;
  takerAverage: number;
  /** Queue-aware: through the price, or enough volume at it to clear the queue ahead and this order. */
  filled: boolean;
  /** Optimistic: any print at or through the price (the upper bound). */
  filledAtTouch: boolean;
  /** Base quantity ahead at the post price when it opened (null: not known, `filled` = `filledAtTouch`). */
  queueAhead: number | null;
  filledAt: number | null;
  /** Mid when the fill would have happened (null: not filled). */
  fillMid: number | null;
  endMid: number;
  improvementBps: number | null;
  adverseBps: number | null;
  missedCostBps: number | null;
}

export interface MakerSummary {
  venue: string;
  market: MakerMarket;
  orders: number;
  filled: number;
  fillRate: number;
  /** The optimistic fill rate (any print at or through the post price). */
  fillRateAtTouch: number;
  meanImprovementBps: number | null;
  meanAdverseBps: number | null;
  missed: number;
  meanMissedCostBps: number | null;
}

export interface MakerShadowDeps {
  timeoutMs: number;
  /** REST reads of the tape while the trade stream is not live (default 1 s). */
  pollMs?: number;
  now: () => number;
  sleep: Sleep;
  /** The venue's touch now (post price when the engine saw none; the mids of the KPIs). */
  quote(venue: string, symbol: string, market: MakerMarket): Promise<Quote>;
  /** The venues' public trades (stream, REST fallback). */
  prints: TradePrints;
  /** Durable record of each result (journal `order.maker_shadow`, mirrored to orders.jsonl). */
  record(r: ShadowResult): Promise<unknown>;
  metrics: Metrics;
  log: Logger;
  /** Results kept for `GET /maker` (default 200, newest last). */
  keep?: number;
}

interface Open {
  clientOrderId: string;
  venue: string;
  symbol: string;
  market: MakerMarket;
  side: 'buy' | 'sell';
  strategy: string;
  postPrice: number | null;
  /** Quantity ahead at the post price (null: unknown), the order's own amount, and the volume printed at it. */
  queueAhead: number | null;
  amount: number;
  printedAtPrice: number;
  touched: boolean;
  openedAt: number;
  deadline: number;
  filledAt: number | null;
  fillMid: number | null;
  endMid: number | null;
  /** Stream prints that arrived before the tape was read (judged once `afterId` is known). */
  early: PublicTrade[];
  takerAverage: number | null;
  /** The taker order ended without a fill: nothing to compare with. */
  dropped: boolean;
  ended: boolean;
  /** Prints with an id above this were printed after the open (null until the tape was read). */
  afterId: number | null;
  /** The mid read when the would-be fill was seen (the read is in flight until it resolves). */
  fillRead: Promise<void> | null;
}

const knownSize = (v: number | null | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;

const mid = (q: Quote): number | null =>
  q.bid !== null && q.ask !== null && q.bid > 0 && q.ask >= q.bid ? (q.bid + q.ask) / 2 : q.last;

/** Whether a print at `print` fills a post-only order at `price` on `side` (at or through it). */
export function printFills(side: 'buy' | 'sell', price: number, print: number): boolean {
  return side === 'buy' ? print <= price : print >= price;
}

/**
 * Whether a post of `amount` behind `queueAhead` at its price is filled once `printedAtPrice` has traded at exactly
 * that price (prints through the price are sure fills: `printFills` and a price check decide those). An unknown
 * queue (null) is the optimistic touch rule: any print at the price.
 */
export function queueFills(queueAhead: number | null, amount: number, printedAtPrice: number): boolean {
  if (queueAhead === null) return printedAtPrice > 0;
  return printedAtPrice >= queueAhead + amount - 1e-12;
}

/** A venue trade id as a number (Binance's are integers); NaN when it is not one. */
const idOf = (t: PublicTrade): number => Number(t.id);

/** The KPIs of a finished window (pure: the known-answer tests compute the same by hand). */
export function shadowKpis(
  side: 'buy' | 'sell',
  o: { postPrice: number; takerAverage: number; fillMid: number | null; endMid: number },
): Pick<ShadowResult, 'improvementBps' | 'adverseBps' | 'missedCostBps'> {
  const s = side === 'buy' ? 1 : -1;
  // (a − b) in bps of `base`, to hundredths.
  const bps = (a: number, b: number, base: number) => Math.round(((a - b) / base) * 1e4 * 100) / 100;
  if (o.fillMid === null)
    return {
      improvementBps: null,
      adverseBps: null,
      missedCostBps: s * bps(o.endMid, o.takerAverage, o.takerAverage),
    };
  return {
    improvementBps: s * bps(o.takerAverage, o.postPrice, o.takerAverage),
    adverseBps: s * bps(o.fillMid, o.endMid, o.fillMid),
    missedCostBps: null,
  };
}

export function createMakerShadow(deps: MakerShadowDeps) {
  const pollMs = deps.pollMs ?? 1_000;
  const keep = deps.keep ?? 200;
  const open = new Map<string, Open>();
  const results: ShadowResult[] = [];
  const totals = new Map<
    string,
    { n: number; filled: number; touched: number; imp: number; adv: number; missed: number; cost: number }
  >();

  function observe(o: Open, prints: readonly PublicTrade[]): void {
    if (o.afterId === null) {
      o.early.push(...prints);
      return;
    }
    if (o.fillRead !== null || o.postPrice === null || o.dropped) return;
    const post = o.postPrice;
    let hit: PublicTrade | undefined;
    for (const t of prints) {
      if (!(idOf(t) > (o.afterId as number)) || !printFills(o.side, post, t.price)) continue;
      o.touched = true;
      if (t.price === post) o.printedAtPrice += t.amount;
      if (t.price !== post || queueFills(o.queueAhead, o.amount, o.printedAtPrice)) {
        hit = t;
        break;
      }
    }
    if (hit === undefined) return;
    const fill = hit;
    // The fill counts (`filledAt`) once the mid it is judged against was read.
    const at = deps.now();
    const settle = (m: number) => {
      o.fillMid = m;
      o.filledAt = at;
    };
    o.fillRead = deps
      .quote(o.venue, o.symbol, o.market)
      .then((q) => settle(mid(q) ?? fill.price))
      .catch(() => settle(fill.price));
  }

  /** How long Bosun's own budget asks to wait before `e`'s read can go (undefined: not a local refusal). */
  const budgetWait = (e: unknown): number | undefined =>
    isVenueError(e) && isLocalRefusal(e.info) ? Math.max(1, e.info.retryAfterMs ?? pollMs) : undefined;

  /** `read`, waiting out local budget refusals until `until` (engine clock); any other failure throws. */
  async function patiently<T>(read: () => Promise<T>, until: number): Promise<T> {
    for (;;) {
      try {
        return await read();
      } catch (e) {
        const wait = budgetWait(e);
        if (wait === undefined || deps.now() + wait > until) throw e;
        await deps.sleep(wait);
      }
    }
  }

  async function watch(o: Open): Promise<void> {
    try {
      deps.prints.follow(o.venue, o.symbol, o.market);
      if (o.postPrice === null) {
        // No touch seen before the send: the venue's touch now (the taker's own fill may have moved it).
        const q = await patiently(() => deps.quote(o.venue, o.symbol, o.market), o.deadline);
        o.postPrice = o.side === 'buy' ? q.bid : q.ask;
        o.queueAhead = knownSize(o.side === 'buy' ? q.bidSize : q.askSize);
      }
      // Where the tape stood at the open: prints up to here happened before the post could rest.
      const tape = await patiently(() => deps.prints.poll(o.venue, o.symbol, o.market), o.deadline);
      o.afterId = tape.reduce((m, t) => (Number.isFinite(idOf(t)) ? Math.max(m, idOf(t)) : m), 0);
      observe(o, o.early.splice(0));
      while (deps.now() < o.deadline && !o.dropped) {
        await deps.sleep(Math.max(1, Math.min(pollMs, o.deadline - deps.now())));
        if (!deps.prints.streaming(o.venue, o.market) && o.fillRead === null && deps.now() <= o.deadline) {
          const prints = await deps.prints.poll(o.venue, o.symbol, o.market).catch((e: unknown) => {
            if (budgetWait(e) === undefined) throw e;
            return [];
          });
          observe(o, prints);
        }
      }
      await o.fillRead;
      // The window's end: a read held back by the budget waits at most one more window.
      o.endMid = mid(await patiently(() => deps.quote(o.venue, o.symbol, o.market), o.deadline + deps.timeoutMs));
    } catch (e) {
      deps.log.warn(
        { clientOrderId: o.clientOrderId, err: errorMessage(e) },
        'maker shadow: tape or quote failed; dropped',
      );
      o.dropped = true;
    }
    o.ended = true;
    await finish(o);
  }

  async function finish(o: Open): Promise<void> {
    if (o.dropped || o.postPrice === null || o.endMid === null) {
      if (o.ended) open.delete(o.clientOrderId);
      return;
    }
    if (!o.ended || o.takerAverage === null) return;
    open.delete(o.clientOrderId);
    const fillMid = o.filledAt !== null ? (o.fillMid ?? o.endMid) : null;
    const r: ShadowResult = {
      clientOrderId: o.clientOrderId,
      venue: o.venue,
      symbol: o.symbol,
      market: o.market,
      side: o.side,
      strategy: o.strategy,
      postPrice: o.postPrice,
      openedAt: o.openedAt,
      endedAt: o.deadline,
      takerAverage: o.takerAverage,
      filled: o.filledAt !== null,
      filledAtTouch: o.touched,
      queueAhead: o.queueAhead,
      filledAt: o.filledAt,
      fillMid,
      endMid: o.endMid,
      ...shadowKpis(o.side, { postPrice: o.postPrice, takerAverage: o.takerAverage, fillMid, endMid: o.endMid }),
    };
    results.push(r);
    if (results.length > keep) results.splice(0, results.length - keep);
    tally(r);
    await deps
      .record(r)
      .catch((e: unknown) =>
        deps.log.warn({ clientOrderId: r.clientOrderId, err: errorMessage(e) }, 'maker shadow: record failed'),
      );
  }

  function tally(r: ShadowResult): void {
    const key = `${r.venue}|${r.market}`;
    const t = totals.get(key) ?? { n: 0, filled: 0, touched: 0, imp: 0, adv: 0, missed: 0, cost: 0 };
    t.n += 1;
    if (r.filledAtTouch) t.touched += 1;
    const labels = { venue: r.venue, market: r.market };
    deps.metrics.makerShadowOrders.inc({ ...labels, symbol: r.symbol, outcome: r.filled ? 'filled' : 'missed' });
    if (r.filled) {
      t.filled += 1;
      t.imp += r.improvementBps ?? 0;
      t.adv += r.adverseBps ?? 0;
      deps.metrics.makerShadowImprovementBps.observe(labels, r.improvementBps ?? 0);
      deps.metrics.makerShadowAdverseBps.observe(labels, r.adverseBps ?? 0);
    } else {
      t.missed += 1;
      t.cost += r.missedCostBps ?? 0;
      deps.metrics.makerShadowMissedCostBps.observe(labels, r.missedCostBps ?? 0);
    }
    totals.set(key, t);
    deps.metrics.makerShadowFillRate.set(labels, t.filled / t.n);
  }

  return {
    /** A taker order about to be sent: its post-only alternative at `touch` (null: read the venue's). */
    open(o: {
      clientOrderId: string;
      venue: string;
      symbol: string;
      market: MakerMarket;
      side: 'buy' | 'sell';
      strategy: string;
      touch: number | null;
      /** Quantity shown at the touch when the engine saw it (null: unknown). */
      queueAhead?: number | null;
      /** The taker order's amount (the post's own size in the queue). */
      amount?: number;
    }): void {
      if (open.has(o.clientOrderId)) return;
      const at = deps.now();
      const { queueAhead, amount, touch, ...rest } = o;
      const s: Open = {
        ...rest,
        postPrice: touch !== null && touch > 0 ? touch : null,
        queueAhead: touch !== null && touch > 0 ? knownSize(queueAhead) : null,
        amount: amount !== undefined && amount > 0 ? amount : 0,
        printedAtPrice: 0,
        touched: false,
        openedAt: at,
        deadline: at + deps.timeoutMs,
        filledAt: null,
        fillMid: null,
        endMid: null,
        early: [],
        takerAverage: null,
        dropped: false,
        ended: false,
        afterId: null,
        fillRead: null,
      };
      open.set(o.clientOrderId, s);
      void watch(s);
    },
    /** Prints from the venue's trade stream: every open shadow on their symbol sees them. */
    onPrints(venue: string, market: MakerMarket, prints: readonly PublicTrade[]): void {
      for (const o of open.values()) {
        if (o.venue !== venue || o.market !== market) continue;
        observe(
          o,
          prints.filter((t) => t.symbol === o.symbol),
        );
      }
    },
    /** The taker order settled: its average fill (null: nothing filled, the shadow is dropped). */
    onTakerSettled(clientOrderId: string, averagePrice: number | null): void {
      const o = open.get(clientOrderId);
      if (!o) return;
      if (averagePrice === null || !(averagePrice > 0)) o.dropped = true;
      else o.takerAverage = averagePrice;
      void finish(o);
    },
    /** Shadows still in their window (or waiting for their taker's fill). */
    pending: (): ReadonlyArray<Readonly<Open>> => [...open.values()],
    results: (): readonly ShadowResult[] => results,
    summary(): MakerSummary[] {
      return [...totals.entries()].map(([key, t]) => {
        const [venue, market] = key.split('|') as [string, MakerMarket];
        const mean = (sum: number, n: number) => (n > 0 ? Math.round((sum / n) * 100) / 100 : null);
        return {
          venue,
          market,
          orders: t.n,
          filled: t.filled,
          fillRate: t.n > 0 ? t.filled / t.n : 0,
          fillRateAtTouch: t.n > 0 ? t.touched / t.n : 0,
          meanImprovementBps: mean(t.imp, t.filled),
          meanAdverseBps: mean(t.adv, t.filled),
          missed: t.missed,
          meanMissedCostBps: mean(t.cost, t.missed),
        };
      });
    },
  };
}

export type MakerShadow = ReturnType<typeof createMakerShadow>;
