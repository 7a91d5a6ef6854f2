import { parseClientOrderId } from '../domain/client-order-id.js';
import type { Position } from '../venues/venue-gateway.js';
import { createEngineContext } from './engine/engine-context.js';
import type { TradingEngineDeps } from './engine/engine-types.js';
import { createHaltCancel } from './engine/halt-cancel.js';
import { createOrderEntry } from './engine/order-entry.js';
import { createOrderIds } from './engine/order-ids.js';
import { createOrderLifecycle } from './engine/order-lifecycle.js';
import { createOrderSubmit } from './engine/order-submit.js';
import { createReconciliation } from './engine/reconciliation.js';
import { createStreamSettlement } from './engine/stream-settlement.js';
import { createMaker } from './maker/maker.js';

export type { EngineInputs, EngineLimits, EngineVenue, TradingEngineDeps } from './engine/engine-types.js';
export { operatorResult, toOrderView } from './engine/order-entry.js';

/**
 * The order path and the books behind it (DESIGN §5, §6), assembled from its parts in `engine/`, in the one
 * direction an order travels: sizing (order-entry) → rails → reservation → journal → send (order-submit) →
 * lifecycle (order-lifecycle) → ledger; reconciliation and the kill's cancels (halt-cancel) work on the same
 * context. One engine serves every venue; it keeps at most one order in flight per (venue, symbol, side).
 */
export function createTradingEngine(deps: TradingEngineDeps) {
  const ctx = createEngineContext(deps);
  const life = createOrderLifecycle(ctx);
  const reconciliation = createReconciliation(ctx, life);
  const stream = createStreamSettlement(ctx, life);
  ctx.stream = stream;
  const claims: Array<[string, string]> = [];
  for (const r of deps.orders.list())
    if (typeof r.idempotencyKey === 'string' && parseClientOrderId(r.clientOrderId))
      claims.push([r.idempotencyKey, r.clientOrderId]);
  const ids = createOrderIds({
    node: deps.node,
    kv: deps.kv,
    random: deps.random ?? Math.random,
    claims,
    exists: (cid) => deps.orders.get(cid) !== undefined,
  });
  const { submit, headroom, precheck } = createOrderSubmit(ctx, life, ids, reconciliation.isUnreconciled);
  const maker = createMaker(
    ctx,
    life,
    submit,
    deps.maker ?? { modes: { spot: 'off', perp: 'off' }, timeoutMs: 30_000 },
  );
  const entry = createOrderEntry(ctx, maker.submit, ids, life, { headroom, precheck });
  const halts = createHaltCancel(ctx, life);

  return {
    /** This process's clientOrderId incarnation. */
    incarnation: ids.incarnation,
    /** Latest price of a symbol on a venue (tick router or signal), if any. */
    price: ctx.prices.price,
    /** Latest price per (venue, symbol), from the tick router. */
    notePrice: ctx.prices.note,
    assetPrices: ctx.prices.assetPrices,
    /** A tick's touch and last trade (maker mode: post prices and shadow prints). */
    noteTick: maker.onTick,
    /** Maker mode's state and KPIs (`GET /maker`). */
    maker: maker.view,
    /** Stops maker mode's trade streams (shutdown). */
    stopMaker: maker.stop,
    setAccepting(on: boolean): void {
      ctx.state.accepting = on;
    },
    accepting: () => ctx.state.accepting,
    inflightCount: () => ctx.slots.inflight(),
    /** Live reservations (clientOrderId → venue, asset, USD). */
    reservations: () => ctx.slots.reservations(),
    ...entry,
    /** Boot: every open order takes its slot and reservation before anything is accepted. */
    takeSlots: () => reconciliation.takeSlots(),
    /**
     * Boot, after the spot baselines: a venue's first perp baseline (wallet and positions) and the leverage and
     * margin mode of every perpetual the strategies trade. Returns the perpetuals the venue refused to configure.
     */
    async perpBoot(): Promise<string[]> {
      const failed: string[] = [];
      for (const v of ctx.venues.keys()) {
        await life.perp.baseline(v);
        failed.push(...(await life.perp.configure(v)).map((s) => `${v}:${s}`));
      }
      return failed;
    },
    /** The perpetuals followed on a venue (traded symbols it lists, and those with orders). */
    perpSymbols: (venue: string) => life.perp.followed(venue),
    /** The venue's positions as another reader saw them (the stop validator): their liquidation prices. */
    noteVenuePositions: (venue: string, positions: readonly Position[]) =>
      life.perp.noteVenuePositions(venue, positions),
    /** The perp book of a venue (undefined without perpetuals). */
    perpLedger: (venue: string) => deps.perps?.venue(venue),
    reconcileAll: reconciliation.reconcileAll,
    reconcileVenue: reconciliation.reconcileVenue,
    reconciledAt: reconciliation.reconciledAt,
    lastReconcileAt: reconciliation.lastReconcileAt,
    reconcileLagSeconds: reconciliation.lagSeconds,
    unreconciledVenues: reconciliation.unreconciledVenues,
    /** User-data stream events and state per venue (stream-settlement.ts). */
    onUserData: stream.onEvent,
    setUserDataLive: stream.setLive,
    userDataLive: stream.isLive,
    cancelOpen: halts.cancelOpen,
    cancelRefused: halts.cancelRefused,
    quiesce: (timeoutMs?: number) => halts.quiesce(timeoutMs),
  };
}

export type TradingEngine = ReturnType<typeof createTradingEngine>;
