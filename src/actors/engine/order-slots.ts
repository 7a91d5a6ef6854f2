/**
 * What the order path holds while an order is alive (DESIGN §5): its in-flight slot and its reservation.
 *
 * - **Slots**: one order in flight per (venue, symbol, side) for the strategies together, and a separate one for
 *   operator orders, so an operator's resting limit order does not silence a symbol's strategies.
 * - **Reservations**: the notional of every order from its durable intent until it finishes, per venue, per asset
 *   across venues and per (venue, asset). The rails check settled exposure *plus* reservations: at a bar close
 *   every symbol signals in the same turn, and against settled exposure alone N orders all passed the caps
 *   against the same pre-burst figure (a cap overshot by up to (N−1) × MAX_NOTIONAL_USDT). A reservation is
 *   released only once the order's fills are in the ledger, so the two never both miss an order.
 */
export interface Reservation {
  venue: string;
  base: string;
  usd: number;
}

export interface ReservedExposure {
  /** The symbol's base reserved on every venue (MAX_SYMBOL_EXPOSURE_USDT is a cap across venues). */
  symbolUsdt: number;
  venueUsdt: number;
  assetUsdt: number;
}

export interface OrderSlots {
  slotOf(venue: string, symbol: string, side: string, strategy: string): string;
  holder(slot: string): string | undefined;
  take(slot: string, clientOrderId: string): void;
  /** Frees the slot if `clientOrderId` still holds it. */
  free(slot: string, clientOrderId: string): void;
  inflight(): number;
  reserve(clientOrderId: string, r: Reservation): void;
  release(clientOrderId: string): void;
  reserved(venue: string, base: string): ReservedExposure;
  /** Every live reservation (the simulation campaign's I1 and `/status`). */
  reservations(): ReadonlyMap<string, Reservation>;
}

export function createOrderSlots(): OrderSlots {
  const slots = new Map<string, string>();
  const byOrder = new Map<string, Reservation>();
  const byVenue = new Map<string, number>();
  const byAsset = new Map<string, number>();
  const add = (r: Reservation, sign: 1 | -1) => {
    byVenue.set(r.venue, (byVenue.get(r.venue) ?? 0) + sign * r.usd);
    byAsset.set(r.base, (byAsset.get(r.base) ?? 0) + sign * r.usd);
  };
  // Sums drift by float noise as reservations come and go; never let that noise read as negative room.
  const pos = (n: number | undefined) => (n !== undefined && n > 1e-9 ? n : 0);
  return {
    slotOf: (venue, symbol, side, strategy) =>
      `${venue}|${symbol}|${side}|${strategy === 'operator' ? 'operator' : 'strategy'}`,
    holder: (slot) => slots.get(slot),
    take(slot, cid) {
      slots.set(slot, cid);
    },
    free(slot, cid) {
      if (slots.get(slot) === cid) slots.delete(slot);
    },
    inflight: () => slots.size,
    reserve(cid, r) {
      if (byOrder.has(cid) || !(r.usd > 0)) return;
      byOrder.set(cid, r);
      add(r, 1);
    },
    release(cid) {
      const r = byOrder.get(cid);
      if (!r) return;
      byOrder.delete(cid);
      add(r, -1);
    },
    reserved(venue, base) {
      return {
        symbolUsdt: pos(byAsset.get(base)),
        venueUsdt: pos(byVenue.get(venue)),
        assetUsdt: pos(byAsset.get(base)),
      };
    },
    reservations: () => byOrder,
  };
}
