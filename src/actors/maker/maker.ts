import type { MakerModes } from '../../config/maker-mode.js';
import { isLocalRefusal, isVenueError } from '../../venues/error-classifier.js';
import type { TradeStream } from '../../venues/streams/trade-stream.js';
import type { MarketKind } from '../../venues/venue-gateway.js';
import type { EngineContext } from '../engine/engine-context.js';
import { type Intent, kindOf, type Submitted } from '../engine/engine-types.js';
import type { OrderLifecycle } from '../engine/order-lifecycle.js';
import { createMakerLive, type MakerOutcome } from './maker-live.js';
import {
  createMakerShadow,
  type MakerMarket,
  type MakerSummary,
  type Quote,
  type ShadowResult,
} from './maker-shadow.js';
import { createTradePrints } from './trade-prints.js';

/**
 * Maker mode on the order path (MAKER_MODE per market, MAKER_TIMEOUT_SEC): `shadow` watches a post-only
 * alternative of every taker order (maker-shadow.ts), `live` sends perpetual strategy orders post-only
 * (maker-live.ts). Hooked into the engine by its two hooks (`onSend`, `onSettled`) and by routing `submit`.
 */
export interface MakerView {
  modes: MakerModes;
  timeoutSec: number;
  shadow: {
    summary: MakerSummary[];
    /** Alternatives still in their window (or waiting for their taker's fill). */
    pending: Array<{
      clientOrderId: string;
      postPrice: number | null;
      filled: boolean;
      endsAt: number;
      /** Prints above this trade id count (null: the tape not read yet). */
      afterTradeId: number | null;
      /** Quantity ahead at the post price when it opened (null: unknown) and the volume printed at it since. */
      queueAhead: number | null;
      printedAtPrice: number;
    }>;
    recent: ShadowResult[];
    /** Where the prints come from: the tapes followed and their trade stream's state (`none`: REST only). */
    tapes: Array<{ venue: string; market: MakerMarket; symbols: string[]; stream: string }>;
  };
  live: { resting: string[]; outcomes: Record<MakerOutcome, number> };
}

export interface MakerConfig {
  modes: MakerModes;
  timeoutMs: number;
  pollMs?: number;
  /** The shadow windows' clock (default the engine's now and sleep): tests step it. */
  clock?: { now: () => number; sleep: (ms: number) => Promise<void> };
  /** A venue's public trade stream (STREAMS_ENABLED); absent: the shadow reads the tape by REST. */
  tradeStream?: (venue: string, market: MarketKind) => TradeStream | undefined;
  /** How old the feed's touch may be to stand for a held-back spot quote (default TOUCH_FRESH_MS). */
  touchFreshMs?: number;
}

/**
 * A feed touch at most this old stands for the venue's touch when the budget holds a ticker read back (Kraken's
 * default ticker poll is 2 s).
 */
export const TOUCH_FRESH_MS = 2_500;

const marketOf = (kind: 'spot' | 'linear'): MakerMarket => (kind === 'linear' ? 'perp' : 'spot');

export function createMaker(
  ctx: EngineContext,
  life: OrderLifecycle,
  submit: (intent: Intent) => Promise<Submitted>,
  cfg: MakerConfig,
) {
  const { deps } = ctx;
  const touchFreshMs = cfg.touchFreshMs ?? TOUCH_FRESH_MS;
  async function quote(venue: string, symbol: string, market: MakerMarket): Promise<Quote> {
    const gw = ctx.venues.get(venue);
    if (!gw) throw new Error(`no venue '${venue}'`);
    if (market === 'spot') {
      try {
        const t = (await gw.gateway.fetchTickers([symbol], 'spot'))[symbol];
        return {
          bid: t?.bid ?? null,
          ask: t?.ask ?? null,
          last: t?.last ?? null,
          bidSize: t?.bidSize ?? null,
          askSize: t?.askSize ?? null,
        };
      } catch (e) {
        // Bosun's own budget held the read back (Kraken's public 10 calls / 10 s are gone right after a boot, and
        // the shadow was dropped): the feed's touch stands for the venue's when it is fresh.
        const seen = ctx.prices.touch(venue, symbol);
        if (!isVenueError(e) || !isLocalRefusal(e.info) || seen === undefined) throw e;
        if (deps.now() - seen.at > touchFreshMs) throw e;
        return { ...seen, last: ctx.prices.price(venue, symbol) ?? null };
      }
    }
    // USDⓈ-M's 24 h ticker carries no bid/ask (Binance serves the touch on bookTicker/depth): the book's top.
    const [book, tickers] = await Promise.all([
      gw.gateway.fetchOrderBook(symbol, 5, 'linear'),
      gw.gateway.fetchTickers([symbol], 'linear'),
    ]);
    return {
      bid: book.bids[0]?.[0] ?? null,
      ask: book.asks[0]?.[0] ?? null,
      last: tickers[symbol]?.last ?? null,
      bidSize: book.bids[0]?.[1] ?? null,
      askSize: book.asks[0]?.[1] ?? null,
    };
  }
  const prints = createTradePrints({
    gateway: (venue) => ctx.venues.get(venue)?.gateway,
    ...(cfg.tradeStream !== undefined ? { stream: cfg.tradeStream } : {}),
    onPrints: (venue, market, p) => shadow.onPrints(venue, market, p),
    log: deps.log,
  });
  const shadow = createMakerShadow({
    timeoutMs: cfg.timeoutMs,
    ...(cfg.pollMs !== undefined ? { pollMs: cfg.pollMs } : {}),
    now: cfg.clock?.now ?? deps.now,
    sleep: cfg.clock?.sleep ?? ctx.sleep,
    quote,
    prints,
    record: (r) => deps.journal.append({ type: 'order.maker_shadow', ...r }),
    metrics: deps.metrics,
    log: deps.log,
  });
  const live = createMakerLive(ctx, life, {
    timeoutMs: cfg.timeoutMs,
    sleep: cfg.clock?.sleep ?? ctx.sleep,
    submit,
    async touch(venue, symbol) {
      const q = await quote(venue, symbol, 'perp');
      return q.bid !== null && q.ask !== null && q.bid > 0 && q.ask >= q.bid ? { bid: q.bid, ask: q.ask } : null;
    },
  });

  ctx.onSend.push((rec) => {
    const market = marketOf(kindOf(rec));
    if (cfg.modes[market] !== 'shadow' || rec.type !== 'market' || rec.postOnly === true) return;
    const side = rec.side === 'sell' ? 'sell' : 'buy';
    const touch = market === 'spot' ? ctx.prices.touch(rec.venue, rec.symbol) : undefined;
    shadow.open({
      clientOrderId: rec.clientOrderId,
      venue: rec.venue,
      symbol: rec.symbol,
      market,
      side,
      strategy: String(rec.strategy ?? ''),
      touch: touch === undefined ? null : side === 'buy' ? touch.bid : touch.ask,
      queueAhead: touch === undefined ? null : side === 'buy' ? touch.bidSize : touch.askSize,
      amount: rec.amount,
    });
  });
  ctx.onSettled.push((rec) => {
    shadow.onTakerSettled(
      rec.clientOrderId,
      rec.filled > 0 && typeof rec.averagePrice === 'number' ? rec.averagePrice : null,
    );
    live.onSettled(rec);
  });

  return {
    /** The order path's submit, with live maker in front of it where it applies. */
    submit(intent: Intent): Promise<Submitted> {
      if (cfg.modes.perp === 'live' && live.applies(intent)) return live.submit(intent);
      return submit(intent);
    },
    /** A tick from the feed: the touch for maker prices (spot). */
    onTick(venue: string, symbol: string, q: Quote): void {
      ctx.prices.noteTouch(venue, symbol, q.bid, q.ask, q);
    },
    /** Stops the shadow's trade streams (shutdown). */
    stop: () => prints.stop(),
    shadow,
    live,
    view(): MakerView {
      return {
        modes: cfg.modes,
        timeoutSec: cfg.timeoutMs / 1000,
        shadow: {
          summary: shadow.summary(),
          pending: shadow.pending().map((o) => ({
            clientOrderId: o.clientOrderId,
            postPrice: o.postPrice,
            filled: o.filledAt !== null,
            queueAhead: o.queueAhead,
            printedAtPrice: o.printedAtPrice,
            endsAt: o.deadline,
            afterTradeId: o.afterId,
          })),
          recent: [...shadow.results()].slice(-50),
          tapes: prints.tapes(),
        },
        live: { resting: live.resting(), outcomes: { ...live.outcomes() } },
      };
    },
  };
}

export type Maker = ReturnType<typeof createMaker>;
