import { errorMessage } from '../../domain/errors.js';
import type { Logger } from '../../logging/logger.js';
import type { OrderRecord, OrdersStore } from '../../store/index.js';
import type { VenueGateway } from '../../venues/venue-gateway.js';
import type { EngineContext } from './engine-context.js';
import { kindOf, type ScopeTrading } from './engine-types.js';
import type { OrderLifecycle } from './order-lifecycle.js';

/**
 * What a kill does to orders already out (DESIGN §3, §9): cancels Bosun's resting entry orders in the scope
 * (cancels are allowed while halted), including orders whose create is still on the wire — those are cancelled
 * the moment the venue answers (`cancelOnAck`) — and waits for every create already handed to a venue before the
 * kill is acknowledged. Protective orders stay: reduce-only trims, and the stop validator's stops (its own book).
 */
export interface CancelScope {
  venue?: string | undefined;
  symbol?: string | undefined;
  /** REDUCING: keep orders that lower exposure (a sell of what is held); HALTED cancels every entry. */
  keepReducing?: boolean;
}

/** Orders a halt never cancels: they protect or unwind positions, or they are not Bosun's. */
export function isProtective(rec: OrderRecord): boolean {
  const type = String(rec.type ?? '');
  return (
    rec.reduceOnly === true || rec.strategy === 'external' || type.startsWith('stop') || type.startsWith('take_profit')
  );
}

const inScope = (rec: OrderRecord, s: CancelScope) =>
  (!s.venue || rec.venue === s.venue) && (!s.symbol || rec.symbol === s.symbol);

export function createHaltCancel(ctx: EngineContext, life: OrderLifecycle) {
  const { deps } = ctx;
  const { log } = deps;

  async function cancelOne(rec: OrderRecord): Promise<boolean> {
    const gw = ctx.venues.get(rec.venue);
    if (!gw) return false;
    // Not yet answered (or not yet sent): cancelled as soon as the venue answers with it. An intent that was not
    // sent meets the halt re-check before its hand-off and is abandoned there.
    if (rec.status === 'intent' || rec.status === 'unknown' || ctx.handoffs.has(rec.clientOrderId)) {
      ctx.cancelOnAck.add(rec.clientOrderId);
      if (rec.status === 'intent' || ctx.handoffs.has(rec.clientOrderId)) return true;
    }
    try {
      await gw.gateway.cancelOrder({
        symbol: rec.symbol,
        clientOrderId: rec.clientOrderId,
        market: kindOf(rec),
      });
      void life.settle(rec);
      return true;
    } catch (e) {
      log.warn({ clientOrderId: rec.clientOrderId, err: errorMessage(e) }, 'cancel failed');
      return false;
    }
  }

  async function cancelWhere(keep: (rec: OrderRecord) => boolean): Promise<number> {
    const targets = deps.orders.listOpen().filter((rec) => !isProtective(rec) && !keep(rec));
    const done = await Promise.all(targets.map(cancelOne));
    return done.filter(Boolean).length;
  }

  /** The scope whose state cancels `rec`: HALTED cancels every entry, REDUCING those that add exposure. */
  function refuses(t: ScopeTrading, rec: OrderRecord): boolean {
    const states = [t.global, t.venue, t.symbol];
    if (states.includes('HALTED')) return true;
    return states.includes('REDUCING') && rec.reduces !== true;
  }

  return {
    /** Cancels Bosun's resting entry orders in a scope; returns how many were cancelled (or marked to be). */
    cancelOpen(scope: CancelScope = {}): Promise<number> {
      return cancelWhere((rec) => !inScope(rec, scope) || (scope.keepReducing === true && rec.reduces === true));
    },
    /** Cancels every resting entry whose scope is HALTED, or REDUCING and the order adds exposure (boot re-apply). */
    cancelRefused(): Promise<number> {
      return cancelWhere((rec) => !refuses(deps.inputs.trading(rec.venue, rec.symbol), rec));
    },
    /**
     * Resolves once every create already handed to a venue has been answered (or after `timeoutMs`, default the
     * engine's send timeout), then cancels again whatever a halted or reducing scope refuses: what landed after
     * the first cancel pass is not left resting.
     */
    async quiesce(timeoutMs = deps.sendTimeoutMs ?? 6_000): Promise<void> {
      if (ctx.handoffs.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...ctx.handoffs.values()]),
          new Promise((r) => {
            timer = setTimeout(r, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
      const n = await this.cancelRefused();
      if (n > 0) log.warn({ cancelled: n }, 'kill: resting entry orders cancelled after the creates on the wire');
    },
  };
}

/**
 * The fatal path's cancel (DESIGN §4), independent of the actor tree and the engine: Bosun's own open entry
 * orders from LMDB, each cancelled by its clientOrderId. Never the venue's cancel-all, which also took the
 * protective stops that a halt keeps on purpose, and on Kraken every manual order of the account.
 */
export async function cancelOwnEntries(
  orders: Pick<OrdersStore, 'listOpen'>,
  gateways: ReadonlyMap<string, VenueGateway>,
  log: Logger,
): Promise<number> {
  let n = 0;
  await Promise.allSettled(
    orders
      .listOpen()
      .filter((rec) => !isProtective(rec) && rec.status !== 'intent')
      .map(async (rec) => {
        const gw = gateways.get(rec.venue);
        if (!gw) return;
        try {
          await gw.cancelOrder({ symbol: rec.symbol, clientOrderId: rec.clientOrderId, market: kindOf(rec) });
          n += 1;
        } catch (e) {
          log.warn({ clientOrderId: rec.clientOrderId, err: errorMessage(e) }, 'fatal path: cancel failed');
        }
      }),
  );
  return n;
}
