import { AppError, errorMessage } from '../../domain/errors.js';
import type { VenueId } from '../../domain/ids.js';
import type { SignalEffect } from '../../machines/symbol.machine.js';
import type { OrderRecord } from '../../store/index.js';
import { perpClose } from '../../strategies/perp-intent.js';
import { sizeSignal } from '../../strategies/signal-sizing.js';
import type {
  OperatorOrderRequest,
  OperatorOrderResult,
  OrderView,
  SlippageView,
} from '../../supervisor/trading-port.js';
import type { EngineContext } from './engine-context.js';
import { type Intent, num, ownerOf, type Submitted, slotSymbolOf, str } from './engine-types.js';
import type { OrderLifecycle } from './order-lifecycle.js';

/**
 * The order path's entry points (DESIGN §5): a symbol actor's signal sized into an intent (allocator), an
 * operator's order (with its Idempotency-Key), a strategy order not sized from a signal (breakout, executor) and a
 * guard's order (depeg exit, funding trim or hedge). All of them go through the same `submit`.
 */
const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export function toOrderView(r: OrderRecord): OrderView {
  return {
    clientOrderId: r.clientOrderId,
    venue: String(r.venue ?? ''),
    symbol: String(r.symbol ?? ''),
    side: r.side === 'sell' ? 'sell' : 'buy',
    strategy: String(r.strategy ?? ''),
    status: r.status,
    amount: r.amount,
    filled: r.filled,
    averagePrice: typeof r.averagePrice === 'number' ? r.averagePrice : null,
    quote: r.quote,
    venueOrderId: str(r.venueOrderId),
    reason: str(r.reason),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    slippage: slippageView(r.slippage),
    ...(r.postOnly === true ? { execution: 'post_only' } : {}),
  };
}

function slippageView(v: unknown): SlippageView | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  return {
    decisionMid: num(o.decisionMid),
    sendMid: typeof o.sendMid === 'number' ? o.sendMid : null,
    averagePrice: num(o.averagePrice),
    decisionBps: num(o.decisionBps),
    sendBps: typeof o.sendBps === 'number' ? o.sendBps : null,
    liquidity: o.liquidity === 'maker' ? 'maker' : 'taker',
  };
}

/** The answer an operator's order has now (a retry with the same Idempotency-Key gets this, never a new order). */
export function operatorResult(rec: OrderRecord): OperatorOrderResult {
  const order = toOrderView(rec);
  if (rec.status === 'rejected')
    return { status: 'rejected', reason: String(rec.reason ?? 'rejected'), message: String(rec.reason ?? ''), order };
  if (rec.status === 'intent' || rec.status === 'submitted' || rec.status === 'unknown')
    return { status: 'unknown', reason: 'outcome_unknown', message: 'the order is being resolved at the venue', order };
  return { status: 'accepted', order };
}

export function createOrderEntry(
  ctx: EngineContext,
  submit: (intent: Intent) => Promise<Submitted>,
  idempotency: { claimed(key: string): string | undefined; keyed(venue: string, symbol: string, key: string): string },
  life: Pick<OrderLifecycle, 'adopt'>,
  rails: {
    /** Room left under the exposure caps for an order adding exposure (order-submit.ts `headroom`). */
    headroom: (venue: string, symbol: string, kind: 'spot' | 'linear') => number;
    /** The rails' verdict without taking anything (order-submit.ts `precheck`). */
    precheck: (intent: Intent) => Submitted | null;
  },
) {
  const { deps } = ctx;
  const { book, inputs, log } = deps;

  /** The order an Idempotency-Key already caused (within 24 h), or undefined; a different body is a 422. */
  function earlier(req: OperatorOrderRequest): OrderRecord | undefined {
    if (!req.idempotency) return undefined;
    const cid = idempotency.claimed(req.idempotency.key);
    if (cid === undefined) return undefined;
    const rec = deps.orders.get(cid);
    if (!rec)
      throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'a request with this Idempotency-Key is still running; retry');
    if (deps.now() - rec.createdAt > IDEMPOTENCY_TTL_MS) return undefined;
    if (rec.requestHash !== req.idempotency.hash)
      throw new AppError('IDEMPOTENCY_MISMATCH', 'Idempotency-Key was already used with a different request');
    return rec;
  }

  /**
   * The id a keyed operator order goes out under, or the order it already caused (answered instead). A key this
   * store does not know may still have placed an order from a store that is gone (a fresh state directory, a
   * restored older backup): its keyed id is looked up at the venue first (one read; Binance answers
   * origClientOrderId lookups for closed orders too, Kraken's are scanned in OpenOrders and ClosedOrders), and a
   * hit within the key's 24 hours is recorded and answered, never placed again. A lookup that fails sends nothing
   * (fail closed: the client retries). An order older than 24 h, or a key whose own record expired, gets an
   * ordinary id (an id is never sent twice).
   */
  async function keyedSend(
    req: OperatorOrderRequest & { idempotency: { key: string; hash: string } },
    intent: Intent,
  ): Promise<{ cid: string } | { earlier: OrderRecord } | { fresh: true } | { refused: Submitted }> {
    if (idempotency.claimed(req.idempotency.key) !== undefined) return { fresh: true };
    const cid = idempotency.keyed(req.venue, req.symbol, req.idempotency.key);
    const known = deps.orders.get(cid);
    if (known) return deps.now() - known.createdAt > IDEMPOTENCY_TTL_MS ? { fresh: true } : { earlier: known };
    const gw = ctx.venues.get(req.venue)?.gateway;
    if (!gw) return { cid };
    const found = await gw.resolveUnknown(cid, { symbol: req.symbol, market: 'spot' });
    if (found.status === 'not_found') return { cid };
    if (found.status === 'still_unknown') {
      // The rails would refuse it anyway (a venue whose breaker tripped on these very errors): that answer, 422,
      // is the clearer one, and nothing was sent either way. 4xx answers are not stored: a retry asks again.
      const refused = rails.precheck(intent);
      if (refused) return { refused };
      throw new AppError(
        'VENUE_UNAVAILABLE',
        `could not check ${req.venue} for an earlier order under this Idempotency-Key (${found.error.reason}); nothing was sent, retry`,
      );
    }
    const o = found.order;
    if (o.timestamp !== null && o.timestamp !== undefined && deps.now() - o.timestamp > IDEMPOTENCY_TTL_MS)
      return { fresh: true };
    // Recorded as an adoption (`adoptedAt`): its trades before the fresh store's baseline are in the baseline's
    // balances; later ones come in with reconciliation like any adopted order's.
    const rec = await life.adopt(o, {
      clientOrderId: cid,
      venue: req.venue,
      strategy: 'operator',
      reason: 'idempotent_retry',
      quote: req.quote,
      idempotencyKey: req.idempotency.key,
      requestHash: req.idempotency.hash,
    });
    log.warn(
      { venue: req.venue, clientOrderId: cid, symbol: req.symbol },
      'an Idempotency-Key this store did not know had placed an order at the venue: answered with it',
    );
    return { earlier: rec };
  }

  return {
    /** A symbol actor's signal: size it (allocator), then the order path. */
    onSignal(e: SignalEffect): void {
      ctx.prices.note(e.venue, e.symbol, e.price);
      if (!ctx.state.accepting) return;
      if (!ctx.market(e.venue, e.symbol)) return;
      // PERP_STRATEGIES_ENABLED: the same signal trades the symbol's perpetual, long and short.
      const perp =
        deps.perp?.strategies === true && deps.perps !== undefined && !!ctx.market(e.venue, e.symbol, 'linear');
      // Sizing is the pure `sizeSignal` (strategies/signal-sizing.ts), shared with `bosun backtest`.
      const d = sizeSignal({
        venue: e.venue,
        symbol: e.symbol,
        signal: e.output.signal,
        quoteMultiplier: e.output.quoteMultiplier,
        price: e.price,
        positionBase: perp
          ? (deps.perps?.position(e.venue, e.symbol, 'strategies') ?? 0)
          : book.strategyPosition(e.venue, e.symbol),
        equityUsd: ctx.riskView().equityUsd(),
        allocations: inputs.allocations(),
        venues: [...ctx.venues.keys()],
        symbols: deps.symbols[e.venue] ?? [e.symbol],
        riskWeights: inputs.riskWeights?.(e.venue),
        sizeScale: inputs.sizeScale?.(e.venue, e.symbol) ?? 1,
        minTradeUsdt: deps.minTradeUsdt,
        maxNotionalUsdt: inputs.limits(e.symbol).maxNotionalUsdt,
        longOnly: !perp,
        headroomUsdt: rails.headroom(e.venue, e.symbol, perp ? 'linear' : 'spot'),
      });
      if (!d) return;
      const slotSymbol = slotSymbolOf(e.symbol, perp ? 'linear' : 'spot');
      // An exit is reduce-only only if the venue's one-way net position can take it whole; a whole close goes out
      // as the position's base amount (perp-intent.ts `perpClose`).
      const shape = perp
        ? perpClose(d, {
            price: e.price,
            positionBase: deps.perps?.position(e.venue, e.symbol, 'strategies') ?? 0,
            netQty: deps.perps?.venue(e.venue)?.positions[e.symbol]?.qty ?? 0,
            maxNotionalUsdt: inputs.limits(e.symbol).maxNotionalUsdt,
          })
        : { reduceOnly: d.reduceOnly, quoteUsdt: d.quoteUsdt };
      if (ctx.slots.holder(ctx.slots.slotOf(e.venue, slotSymbol, d.side, e.output.strategy)) !== undefined) return;
      // Nor while the strategies' order on the other side is in flight: its fills are not in the book yet, so this
      // signal was sized from a position that is about to change. An exit sized from 0 while the entry settled
      // sold a whole new short (the perp exit test under load ended short, never flat). The next signal sizes
      // from the settled position.
      const other = d.side === 'buy' ? 'sell' : 'buy';
      if (ctx.slots.holder(ctx.slots.slotOf(e.venue, slotSymbol, other, e.output.strategy)) !== undefined) return;
      void submit({
        ...(perp ? { market: 'linear' as const } : {}),
        venue: e.venue as VenueId,
        symbol: e.symbol,
        side: d.side,
        quote: shape.quoteUsdt,
        ...(shape.amountBase !== undefined ? { amount: shape.amountBase } : {}),
        price: e.price,
        strategy: e.output.strategy,
        reduceOnly: shape.reduceOnly,
        t0: e.t0,
        reason: d.reason,
      }).catch((err: unknown) =>
        log.error({ err: errorMessage(err), venue: e.venue, symbol: e.symbol }, 'order path failed'),
      );
    },

    async submitOperator(req: OperatorOrderRequest): Promise<OperatorOrderResult> {
      if (!ctx.state.accepting) throw new AppError('NOT_READY', 'boot recovery has not finished');
      const prior = earlier(req);
      if (prior) return operatorResult(prior);
      if (req.type === 'limit' && !(req.price !== undefined && req.price > 0))
        throw new AppError('VALIDATION_FAILED', 'a limit order needs a price > 0');
      // The venue's market list decides, exactly (no case folding, no separators): nothing is priced, journaled
      // or sent for a symbol the venue does not list.
      if (!ctx.market(req.venue, req.symbol))
        return {
          status: 'rejected',
          reason: 'unknown_symbol',
          message: `${req.symbol} is not a market ${req.venue} lists (symbols are matched exactly, e.g. BTCUSDT)`,
        };
      const price = await ctx.prices.current(req.venue, req.symbol);
      const intent: Intent = {
        ...(req.type === 'limit' ? { type: 'limit' as const, limitPrice: req.price } : {}),
        venue: req.venue,
        symbol: req.symbol,
        side: req.side,
        quote: req.quote,
        price,
        strategy: 'operator',
        reduceOnly: false,
        t0: null,
        reason: `operator:${req.actor}`,
        idempotency: req.idempotency,
      };
      const keyed = req.idempotency
        ? await keyedSend({ ...req, idempotency: req.idempotency }, intent)
        : { fresh: true as const };
      if ('earlier' in keyed) return operatorResult(keyed.earlier);
      // A concurrent request with the same key may have claimed it during the awaits: answer as the first would.
      const raced = earlier(req);
      if (raced) return operatorResult(raced);
      const r =
        'refused' in keyed
          ? keyed.refused
          : await submit({ ...intent, ...('cid' in keyed ? { clientOrderId: keyed.cid } : {}) });
      if (r.status === 'accepted') return { status: 'accepted', order: toOrderView(r.record) };
      if (r.status === 'unknown')
        return { status: 'unknown', reason: r.reason, message: r.message, order: toOrderView(r.record) };
      return {
        status: 'rejected',
        reason: r.reason,
        message: r.message,
        order: r.record ? toOrderView(r.record) : undefined,
      };
    },

    /**
     * A strategy order that is not sized from a symbol actor's signal (event breakout, the executor): same path and
     * rails; a sell is capped at what its owner holds.
     */
    async submitStrategy(req: {
      venue: VenueId;
      symbol: string;
      side: 'buy' | 'sell';
      quote: number;
      strategy: string;
      reason: string;
    }): Promise<{ status: string; averagePrice: number | null; reason?: string }> {
      const price = await ctx.prices.current(req.venue, req.symbol);
      const held =
        (ownerOf(req.strategy) === 'executor'
          ? book.executorPosition(req.venue, req.symbol)
          : book.strategyPosition(req.venue, req.symbol)) * price;
      // Spot is long-only: a sell only ever reduces what its owner holds (the executor's, or the strategies').
      const quote = req.side === 'sell' ? Math.min(req.quote, held) : req.quote;
      if (!(quote > 0)) return { status: 'rejected', averagePrice: null, reason: 'nothing_to_sell' };
      const r = await submit({ ...req, quote, price, reduceOnly: req.side === 'sell', t0: null });
      if (r.status === 'rejected') return { status: r.status, averagePrice: null, reason: r.reason };
      return {
        status: r.status,
        averagePrice: typeof r.record.averagePrice === 'number' ? r.record.averagePrice : null,
      };
    },

    /**
     * A guard's order (depeg exit, funding trim or hedge): the same path and rails as every order. `market`
     * 'linear' sends a reduce-only perpetual order at `price` (the mark); a spot sell is capped at what Bosun
     * holds for itself (strategies + executor) and is reduce-only.
     */
    async submitGuard(req: {
      venue: VenueId;
      symbol: string;
      side: 'buy' | 'sell';
      quote: number;
      strategy: string;
      reason: string;
      market?: 'spot' | 'linear';
      price?: number;
      reduceOnly?: boolean;
    }): Promise<{ status: string; reason?: string; clientOrderId?: string }> {
      const kind = req.market ?? 'spot';
      const price =
        req.price !== undefined && req.price > 0 ? req.price : await ctx.prices.current(req.venue, req.symbol);
      let quote = req.quote;
      let reduceOnly = req.reduceOnly ?? false;
      if (kind === 'spot' && req.side === 'sell') {
        // The funding hedge sells only its own position; every other guard what Bosun trades for itself.
        const held =
          ownerOf(req.strategy) === 'hedge'
            ? book.hedgePosition(req.venue, req.symbol)
            : book.ownedPosition(req.venue, req.symbol);
        quote = Math.min(quote, held * price);
        reduceOnly = true;
      }
      if (!(quote > 0)) return { status: 'rejected', reason: 'nothing_to_sell' };
      const r = await submit({
        venue: req.venue,
        symbol: req.symbol,
        side: req.side,
        quote,
        price,
        strategy: req.strategy,
        reduceOnly,
        market: kind,
        t0: null,
        reason: req.reason,
      });
      if (r.status === 'rejected') return { status: r.status, reason: r.reason };
      return { status: r.status, clientOrderId: r.record.clientOrderId };
    },
  };
}
