import { errorMessage } from '../../domain/errors.js';
import { liquidationPrice, positionAfter } from '../../domain/perp-ledger.js';
import { limitPriceToTick, snapDown } from '../../domain/precision.js';
import { checkRails, type RailContext, type RailReason } from '../../domain/rails.js';
import type { OrderRecord } from '../../store/index.js';
import type { EngineContext } from './engine-context.js';
import { type Intent, type ScopeTrading, type Submitted, slotSymbolOf } from './engine-types.js';
import type { OrderLifecycle } from './order-lifecycle.js';

/**
 * The order path from an intent to the venue (DESIGN §5): size to the market's step → rails (settled exposure
 * plus every live reservation) → take the slot and reserve the notional → journal the intent (with the
 * Idempotency-Key that caused it, one commit) → re-check the trading state after the last await → hand off.
 *
 * Fail closed everywhere: a kill acknowledged while the intent was committing, or while a protective stop was
 * being released, stops the order before `createOrder`; a create whose outcome is unknown is never re-sent, only
 * looked up by clientOrderId; a create the venue refuses as a duplicate id is rejected, never resolved to the
 * order that holds that id.
 */
export interface OrderIds {
  /** The next clientOrderId (incarnation + sequence: unique across restarts, fresh state and restored backups). */
  next(venue: string, symbol: string, strategy: string): string;
  /** Resolves once the incarnation is durable (awaited before the first intent of the process is journaled). */
  ready(): Promise<void>;
  /** Marks an Idempotency-Key as answered by this order. */
  claim(key: string, clientOrderId: string): void;
}

/** A scope whose state refuses the order: HALTED anywhere, or REDUCING anywhere for an order that adds risk. */
export function refusedBy(t: ScopeTrading, reduces: boolean): boolean {
  const worst = [t.global, t.venue, t.symbol];
  return worst.includes('HALTED') || (!reduces && worst.includes('REDUCING'));
}

export function createOrderSubmit(
  ctx: EngineContext,
  life: OrderLifecycle,
  ids: OrderIds,
  isUnreconciled: (venue: string) => boolean,
) {
  const { deps } = ctx;
  const { inputs, metrics, log, now } = deps;

  function reject(intent: Intent, reason: RailReason | string, message: string, record?: OrderRecord): Submitted {
    metrics.breakerRejections.inc({ reason });
    log.info(
      {
        venue: intent.venue,
        symbol: intent.symbol,
        side: intent.side,
        quote: intent.quote,
        reason,
        strategy: intent.strategy,
      },
      `order rejected: ${message}`,
    );
    return record ? { status: 'rejected', reason, message, record } : { status: 'rejected', reason, message };
  }

  /** Settled + reserved + perpetual exposure for the caps, as the rails count it (symbol and asset across venues). */
  function exposureOf(venue: string, base: string): RailContext['exposure'] {
    const settled = ctx.riskView().exposures(venue, base);
    const reserved = ctx.slots.reserved(venue, base);
    const perp = perpExposure(venue, base);
    return {
      symbolUsdt: settled.symbolUsdt + reserved.symbolUsdt + perp.baseUsdt,
      venueUsdt: settled.venueUsdt + reserved.venueUsdt + perp.venueUsdt,
      assetUsdt: settled.assetUsdt + reserved.assetUsdt + perp.baseUsdt,
    };
  }

  /**
   * The USDT an order adding exposure on (venue, symbol) may still take under the three exposure caps (0 when one
   * is full): a strategy's signal is sized within it instead of being refused at the cap every bar.
   */
  function headroom(venue: string, symbol: string, kind: 'spot' | 'linear' = 'spot'): number {
    const m = ctx.market(venue, symbol, kind);
    if (!m) return 0;
    const l = inputs.limits(symbol);
    const e = exposureOf(venue, m.base);
    return Math.max(
      0,
      Math.min(
        l.maxSymbolExposureUsdt - e.symbolUsdt,
        l.maxVenueExposureUsdt - e.venueUsdt,
        l.maxAssetExposureUsdt - e.assetUsdt,
      ),
    );
  }

  /** The rails for a sized intent (null: pass); `reduces` lowers exposure, so it is not new exposure. */
  function railsVerdict(intent: Intent, sized: Sized, reduces: boolean): Submitted | null {
    const { m, notional, refPrice, slot } = sized;
    const ctxRails: RailContext = {
      trading: inputs.trading(intent.venue, intent.symbol),
      limits: inputs.limits(intent.symbol),
      policyAllowed: inputs.policyAllowed(intent.symbol),
      // Binance USDⓈ-M exempts reduce-only orders from MIN_NOTIONAL (-4164 "… unless you choose reduce only"):
      // a perpetual's small remainder can still be closed. Spot has no such exemption; LOT_SIZE still applies.
      minNotionalUsdt:
        sized.kind === 'linear' && reduces ? m.minQty * refPrice : Math.max(m.minNotional, m.minQty * refPrice),
      // Perpetual notional counts in every cap beside spot holdings (a short is exposure too).
      exposure: exposureOf(intent.venue, m.base),
      equityBreaker: inputs.equityBreaker(),
      venueBreaker: inputs.venueBreaker(intent.venue),
      guards: inputs.guards(intent.venue, intent.symbol, intent.market ?? 'spot'),
      inFlight: ctx.slots.holder(slot) !== undefined,
      cooldownUntil: 0,
      now: now(),
      // The gateway enforces the request budget per operation itself (Kraken's AddOrder is free on the call
      // counter, so a busy private counter must not block orders): a local refusal comes back as a rejection
      // before anything is sent. The rail stays for callers that can measure order-budget pressure.
      ratePressure: 0,
      ...(sized.kind === 'linear' && !reduces ? { perp: liquidationRail(intent, sized) } : {}),
    };
    const verdict = checkRails(
      {
        venue: intent.venue,
        symbol: intent.symbol,
        base: m.base,
        quote: m.quote,
        side: intent.side,
        notionalUsdt: notional > 0 ? notional : intent.quote,
        reduceOnly: reduces,
        price: refPrice,
        // Sent reduce-only to a perpetual, for the whole position: the venue refuses it if it would add risk.
        closesPosition: sized.kind === 'linear' && intent.reduceOnly && intent.amount !== undefined,
      },
      ctxRails,
    );
    if (!verdict.ok) return reject(intent, verdict.reason, verdict.message);
    // Fail closed: a perpetual whose leverage could not be set at boot takes no entries (the rail assumed it).
    if (
      sized.kind === 'linear' &&
      !reduces &&
      deps.perp?.strategies &&
      !life.perp.isConfigured(intent.venue, intent.symbol)
    )
      return reject(intent, 'perp_unconfigured', `${intent.symbol} perpetual has no confirmed leverage / margin mode`);
    // Fail closed: a venue whose last reconciliation failed trades again only once one succeeds.
    if (isUnreconciled(intent.venue))
      return reject(intent, 'not_reconciled', `${intent.venue} has not been reconciled since its last failure`);
    return null;
  }

  /** Perpetual notional on the venue and on one base asset, at the latest prices (0 without a perp book). */
  function perpExposure(venue: string, base: string): { venueUsdt: number; baseUsdt: number } {
    if (!deps.perps) return { venueUsdt: 0, baseUsdt: 0 };
    const n = deps.perps.notionalUsdt(
      venue,
      (s) => ctx.market(venue, s, 'linear')?.base ?? s,
      ctx.prices.assetPrices(),
    );
    return { venueUsdt: n.venueUsdt, baseUsdt: n.byBase[base] ?? 0 };
  }

  /**
   * The liquidation price of the position a perpetual entry leads to (its net quantity and average entry after
   * the fill at the reference price), at PERP_MAX_LEVERAGE and PERP_MAINT_MARGIN_RATE; without perp settings
   * the venue's 1x bound is assumed unknown: NaN, which the rail refuses.
   */
  function liquidationRail(intent: Intent, s: Sized): { liquidationPrice: number; minDistancePct: number } {
    const p = deps.perp;
    if (!p) return { liquidationPrice: Number.NaN, minDistancePct: 100 };
    const held = deps.perps?.venue(intent.venue)?.positions[intent.symbol] ?? { qty: 0, entryPrice: 0 };
    const { qty, entryPrice } = positionAfter(held, intent.side, s.amount, s.refPrice);
    const side = qty >= 0 ? 'long' : 'short';
    let liq = liquidationPrice(side, entryPrice, p.leverage, p.maintMarginRate);
    // Adding to a position the venue already reports a liquidation price for: the nearer of the two.
    const atVenue = life.perp.venueLiquidation(intent.venue, intent.symbol);
    if (atVenue !== undefined && atVenue.side === side && Math.sign(held.qty) === Math.sign(qty))
      liq = side === 'long' ? Math.max(liq, atVenue.price) : Math.min(liq, atVenue.price);
    return { liquidationPrice: liq, minDistancePct: p.minLiqDistancePct };
  }

  type Sized = NonNullable<ReturnType<typeof size>>;
  function size(intent: Intent) {
    const kind = intent.market ?? 'spot';
    const m = ctx.market(intent.venue, intent.symbol, kind);
    if (!ctx.venues.has(intent.venue) || !m?.active) return null;
    const slot = ctx.slots.slotOf(intent.venue, slotSymbolOf(intent.symbol, kind), intent.side, intent.strategy);
    // What is journaled is exactly what is sent: the limit price on the market's tick, the amount on its step.
    const limitPrice =
      intent.type === 'limit' && intent.limitPrice
        ? limitPriceToTick(intent.limitPrice, m.tickSize, intent.side)
        : null;
    const refPrice = limitPrice ?? intent.price;
    const amount = snapDown(intent.amount ?? intent.quote / refPrice, m.stepSize);
    return { kind, m, slot, limitPrice, refPrice, amount, notional: amount * refPrice };
  }

  /** A spot sell of what the ledger holds only lowers exposure (spot cannot go short); so does any reduce-only. */
  function reducesExposure(intent: Intent, s: Sized): boolean {
    if (intent.reduceOnly) return true;
    return s.kind === 'spot' && intent.side === 'sell' && s.amount <= deps.book.balance(intent.venue, s.m.base);
  }

  function intentRecord(intent: Intent, s: Sized, cid: string, reduces: boolean): OrderRecord {
    const createdAt = now();
    return {
      clientOrderId: cid,
      venue: intent.venue,
      symbol: intent.symbol,
      side: intent.side,
      strategy: intent.strategy,
      status: 'intent',
      type: intent.type ?? 'market',
      limitPrice: s.limitPrice,
      amount: s.amount,
      filled: 0,
      averagePrice: null,
      quote: intent.quote,
      price: intent.price,
      // The arrival price of the decision (the tick's mid a signal was sized at; the ticker's for other orders).
      decisionMid: intent.price,
      reduceOnly: intent.reduceOnly,
      // Lowers exposure (a reduce-only order, or a spot sell of what is held): REDUCING keeps it resting.
      reduces,
      ...(s.kind === 'linear' ? { market: 'linear' } : {}),
      ...(intent.postOnly === true && s.limitPrice !== null ? { postOnly: true } : {}),
      ...(intent.makerOf !== undefined ? { makerOf: intent.makerOf } : {}),
      ...(intent.idempotency ? { idempotencyKey: intent.idempotency.key, requestHash: intent.idempotency.hash } : {}),
      venueOrderId: null,
      reason: intent.reason,
      createdAt,
      updatedAt: createdAt,
    };
  }

  /** Abandons a journaled intent that was never sent. */
  async function abandon(intent: Intent, record: OrderRecord, reason: string, message: string): Promise<Submitted> {
    const next = await life.update(record, { status: 'rejected', reason }, 'order.abandoned');
    life.finish(next, false);
    return reject(intent, reason, message);
  }

  async function submit(intent: Intent): Promise<Submitted> {
    const atEngine = intent.t0 === null ? 0 : deps.hr();
    if (!ctx.state.accepting) return reject(intent, 'not_ready', 'boot recovery has not finished');
    const s = size(intent);
    if (!s) return reject(intent, 'unknown_symbol', `${intent.symbol} is not tradable on ${intent.venue}`);
    const reduces = reducesExposure(intent, s);
    // The first entry on a perpetual the boot did not configure: margin mode and leverage first (fail closed).
    if (
      s.kind === 'linear' &&
      !reduces &&
      deps.perp?.strategies &&
      !life.perp.isConfigured(intent.venue, intent.symbol)
    )
      await life.perp.configureOne(intent.venue, intent.symbol);
    const refused = railsVerdict(intent, s, reduces);
    if (refused) return refused;
    if (!(s.amount > 0))
      return reject(intent, 'min_notional', `quote ${intent.quote} is below one step of ${intent.symbol}`);

    // Slot and reservation are taken in the same turn as the rails passed: the next intent of a burst sees them.
    const cid = intent.clientOrderId ?? ids.next(intent.venue, intent.symbol, intent.strategy);
    ctx.slots.take(s.slot, cid);
    if (!reduces) ctx.slots.reserve(cid, { venue: intent.venue, base: s.m.base, usd: s.notional });
    if (intent.idempotency) ids.claim(intent.idempotency.key, cid);
    let record = intentRecord(intent, s, cid, reduces);
    let durableAt = atEngine;
    try {
      await ids.ready();
      // The record's own `type` is the order type (market/limit): spread first, or the entry is not an
      // `order.*` entry and never reaches orders.jsonl.
      record = await life.persist(record, { ...record, type: 'order.intent', orderType: record.type });
      if (intent.t0 !== null) durableAt = deps.hr();
    } catch (e) {
      life.finish(record, false);
      throw e;
    }

    // The base a strategy sells may be locked by its own protective stop: release it first (the validator
    // re-protects what is left on its next pass). A perpetual's stop is reduce-only and locks nothing. A failed release is a venue error: the sell is not sent.
    if (intent.side === 'sell' && s.kind === 'spot' && deps.stops && intent.strategy !== 'operator') {
      try {
        await deps.stops.release(intent.venue, intent.symbol);
      } catch (e) {
        return abandon(
          intent,
          record,
          'stop_release_failed',
          `could not release the protective stop: ${errorMessage(e)}`,
        );
      }
    }
    // Fail closed, after the last await: a kill acknowledged while the intent was committing or the stop was being
    // released stops it here; nothing awaits between this check and the hand-off.
    if (refusedBy(inputs.trading(intent.venue, intent.symbol), reduces))
      return abandon(intent, record, 'trading_halted', 'trading was halted before the order was sent');
    if (isUnreconciled(intent.venue))
      return abandon(
        intent,
        record,
        'not_reconciled',
        `${intent.venue} failed reconciliation before the order was sent`,
      );
    return handOff(intent, s, record, reduces, { atEngine, durableAt });
  }

  async function handOff(
    intent: Intent,
    s: Sized,
    intentRec: OrderRecord,
    reduces: boolean,
    t: { atEngine: number; durableAt: number },
  ): Promise<Submitted> {
    let record = intentRec;
    const gw = ctx.venues.get(intent.venue);
    if (!gw) return abandon(intent, record, 'unknown_symbol', `no venue '${intent.venue}'`);
    // The arrival price at send: the latest tick's mid (a perpetual's order carries its own mark as its price).
    record = {
      ...record,
      sendMid: s.kind === 'spot' ? (ctx.prices.price(intent.venue, intent.symbol) ?? intent.price) : intent.price,
    };
    for (const hook of ctx.onSend) hook(record);
    const handoff = deps.hr();
    const pending = gw.gateway.createOrder({
      clientOrderId: record.clientOrderId,
      symbol: intent.symbol,
      side: intent.side,
      type: intent.type ?? 'market',
      amount: s.amount,
      ...(s.limitPrice !== null ? { price: s.limitPrice } : {}),
      ...(s.kind === 'linear' && reduces ? { reduceOnly: true } : {}),
      ...(intent.postOnly === true && s.limitPrice !== null ? { postOnly: true } : {}),
      market: s.kind,
    });
    ctx.handoffs.set(record.clientOrderId, pending);
    metrics.ordersSubmitted.inc({ venue: intent.venue, side: intent.side });
    if (intent.t0 !== null) {
      metrics.tickToOrderMs.observe({ venue: intent.venue }, handoff - intent.t0);
      deps.onHandoff?.(intent.venue, handoff - intent.t0, {
        toEngineMs: t.atEngine - intent.t0,
        durableIntentMs: t.durableAt - t.atEngine,
      });
    }
    // The actor hears of its order only now, off the path to the venue: in a burst (every symbol's bar closes in
    // the same feed poll) 1,000 XState events before the commit delayed every later intent's hand-off by ~20 ms.
    // Nothing gates on it in time: the engine's own slot (taken above, synchronously) refuses a second order for
    // the slot; the actor's copy is for its cooldown bookkeeping and the inspector.
    deps.notify(intent.venue, intent.symbol, {
      type: 'order.placed',
      side: intent.side,
      clientOrderId: record.clientOrderId,
    });
    const result = await pending.finally(() => ctx.handoffs.delete(record.clientOrderId));
    const answered = deps.hr();
    if (result.status === 'accepted') {
      deps.onVenueResult?.(intent.venue, true);
      // A limit order the venue booked without a fill rested: its fills are maker fills (slippage.ts liquidity).
      if (result.order.status === 'open' && result.order.filled === 0 && !result.order.ackOnly)
        record = { ...record, restedBeforeFill: true };
      record = await life.applyVenueOrder(record, result.order, 'order.ack');
      if (intent.t0 !== null)
        deps.onAck?.(intent.venue, { tickToAckMs: deps.hr() - intent.t0, roundTripMs: answered - handoff });
      await life.cancelIfAsked(record);
      void life.settle(record);
      return { status: 'accepted', record };
    }
    deps.onVenueResult?.(intent.venue, false);
    if (result.status === 'rejected') {
      const duplicate = result.error.tag === 'duplicate';
      if (duplicate)
        log.error(
          { clientOrderId: record.clientOrderId, venue: intent.venue },
          'the venue already has an order with this clientOrderId (another instance or a restored backup): not ours',
        );
      const reason = duplicate ? 'duplicate_client_order_id' : result.error.reason.slice(0, 300);
      record = await life.update(record, { status: 'rejected', reason }, 'order.reject');
      life.finish(record, false);
      metrics.breakerRejections.inc({ reason: 'venue_rejected' });
      return { status: 'rejected', reason: 'venue_rejected', message: result.error.reason, record };
    }
    record = await life.update(
      record,
      { status: 'unknown', reason: result.error.reason.slice(0, 300), sentAt: intentRec.createdAt },
      'order.unknown',
    );
    void life.resolveLater(record);
    return { status: 'unknown', reason: 'outcome_unknown', message: result.error.reason, record };
  }

  /**
   * The rails' verdict on an intent without taking anything (no slot, reservation or journal): a refusal, counted
   * and logged as every refusal is, or null when it would pass now.
   */
  function precheck(intent: Intent): Submitted | null {
    const s = size(intent);
    if (!s) return reject(intent, 'unknown_symbol', `${intent.symbol} is not tradable on ${intent.venue}`);
    return railsVerdict(intent, s, reducesExposure(intent, s));
  }

  return { submit, reject, headroom, precheck };
}
