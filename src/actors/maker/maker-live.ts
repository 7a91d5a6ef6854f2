import { errorMessage } from '../../domain/errors.js';
import type { OrderRecord } from '../../store/index.js';
import type { EngineContext } from '../engine/engine-context.js';
import { type Intent, kindOf, num, ownerOf, type Submitted } from '../engine/engine-types.js';
import type { OrderLifecycle } from '../engine/order-lifecycle.js';

/**
 * Live maker (issue #16 item 3, `MAKER_MODE=perp:live`; the runbook allows real maker for scalps on futures only):
 * a strategy's market order on a perpetual goes out as a post-only limit order at the touch (best bid for a buy,
 * best ask for a sell; ccxt `postOnly: true`, Binance USDⓈ-M `timeInForce=GTX`), through the same order path:
 * same rails, same reservation (a resting maker order holds its notional until it finishes, so the caps count it),
 * a deterministic clientOrderId like every order.
 *
 * - The venue refuses it as taking (Binance -5022, ccxt OrderNotFillable/OrderImmediatelyFillable), or books it
 *   already ended: the same intent goes out at once as a taker order (`makerOf` names the maker order).
 * - Not filled within MAKER_TIMEOUT_SEC: Bosun cancels it, and once it has settled (fills in the ledger, slot and
 *   reservation free) sends the unfilled remainder as a taker order through the rails again.
 * - Cancelled by anyone else (a kill at any scope cancels resting entry orders, halt-cancel.ts): no fallback.
 *   Even a fallback that raced a kill meets the rails' trading-state check and is refused (fail closed).
 *
 * Guards' orders (funding trims, hedges, depeg exits), reduce-only orders and operator orders stay taker.
 */
export type MakerOutcome = 'filled' | 'timeout_taker' | 'timeout_cancelled' | 'rejected_taker' | 'killed';

export interface MakerLiveDeps {
  timeoutMs: number;
  /** Waits out the timeout (default the engine's sleep): tests step it. */
  sleep: (ms: number) => Promise<void>;
  submit(intent: Intent): Promise<Submitted>;
  /** The perpetual's touch now (best bid, best ask), or null. */
  touch(venue: string, symbol: string): Promise<{ bid: number; ask: number } | null>;
}

interface Live {
  intent: Intent;
  timedOut: boolean;
}

const TAKING = /OrderNotFillable|OrderImmediatelyFillable|post only|would immediately match/i;

export function createMakerLive(ctx: EngineContext, life: OrderLifecycle, deps: MakerLiveDeps) {
  const { metrics, log } = ctx.deps;
  const live = new Map<string, Live>();
  const outcomes: Record<MakerOutcome, number> = {
    filled: 0,
    timeout_taker: 0,
    timeout_cancelled: 0,
    rejected_taker: 0,
    killed: 0,
  };

  function count(intent: Intent, outcome: MakerOutcome): void {
    outcomes[outcome] += 1;
    metrics.makerLiveOrders.inc({ venue: intent.venue, market: 'perp', outcome });
  }

  /** Whether this intent goes out as a maker order. */
  function applies(intent: Intent): boolean {
    return (
      intent.market === 'linear' &&
      (intent.type ?? 'market') === 'market' &&
      !intent.reduceOnly &&
      intent.makerOf === undefined &&
      ownerOf(intent.strategy) === 'strategies'
    );
  }

  async function taker(intent: Intent, makerOf: string, quote: number): Promise<Submitted> {
    const { type: _t, limitPrice: _l, postOnly: _p, ...rest } = intent;
    return deps.submit({
      ...rest,
      type: 'market',
      quote,
      makerOf,
      t0: null,
      reason: `${intent.reason}:maker_fallback`,
    });
  }

  async function submit(intent: Intent): Promise<Submitted> {
    const touch = await deps.touch(intent.venue, intent.symbol).catch(() => null);
    const price = touch === null ? null : intent.side === 'buy' ? touch.bid : touch.ask;
    if (price === null || !(price > 0)) return deps.submit(intent);
    const r = await deps.submit({ ...intent, type: 'limit', limitPrice: price, postOnly: true });
    if (r.status === 'rejected' && r.record && TAKING.test(`${r.message} ${String(r.record.reason ?? '')}`)) {
      count(intent, 'rejected_taker');
      return taker(intent, r.record.clientOrderId, intent.quote);
    }
    if (r.status !== 'accepted') return r;
    const rec = r.record;
    // Booked already ended without a fill (a venue that expires a crossing post-only order instead of refusing it:
    // the order machine files an expiry as cancelled).
    if (rec.status === 'cancelled' && rec.filled === 0) {
      count(intent, 'rejected_taker');
      return taker(intent, rec.clientOrderId, intent.quote);
    }
    live.set(rec.clientOrderId, { intent, timedOut: false });
    void deps
      .sleep(deps.timeoutMs)
      .then(() => timeout(rec.clientOrderId))
      .catch((e: unknown) => log.error({ clientOrderId: rec.clientOrderId, err: errorMessage(e) }, 'maker timeout'));
    return r;
  }

  async function timeout(cid: string): Promise<void> {
    // Settled before its timeout (filled, or cancelled by a kill): nothing to do.
    const entry = live.get(cid);
    const rec = ctx.deps.orders.get(cid);
    if (!entry || !rec) return;
    entry.timedOut = true;
    const gw = ctx.venues.get(rec.venue);
    try {
      await gw?.gateway.cancelOrder({ symbol: rec.symbol, clientOrderId: cid, market: kindOf(rec) });
    } catch (e) {
      // Already filled or gone: settlement tells which.
      log.info({ clientOrderId: cid, err: errorMessage(e) }, 'maker timeout: cancel refused');
    }
    void life.settle(ctx.deps.orders.get(cid) ?? rec);
  }

  /** Every settled order: a maker order's end decides its outcome and fallback. */
  function onSettled(rec: OrderRecord): void {
    const entry = live.get(rec.clientOrderId);
    if (!entry) return;
    live.delete(rec.clientOrderId);
    const amount = rec.amount;
    const left = amount - rec.filled;
    if (left <= amount * 1e-9 || !entry.timedOut) {
      count(entry.intent, left <= amount * 1e-9 ? 'filled' : 'killed');
      return;
    }
    const quote = left * num(rec.limitPrice, entry.intent.price);
    void taker(entry.intent, rec.clientOrderId, quote)
      .then((t) => count(entry.intent, t.status === 'rejected' ? 'timeout_cancelled' : 'timeout_taker'))
      .catch((e: unknown) => log.error({ clientOrderId: rec.clientOrderId, err: errorMessage(e) }, 'maker fallback'));
  }

  return {
    applies,
    submit,
    onSettled,
    /** Maker orders resting now (clientOrderIds). */
    resting: () => [...live.keys()],
    outcomes: (): Readonly<Record<MakerOutcome, number>> => outcomes,
  };
}

export type MakerLive = ReturnType<typeof createMakerLive>;
