import type { ProtectiveStopView, StopPositionView } from '../supervisor/trading-port.js';

/**
 * How `GET /guards/stops` shows the stop validator's book (stop-validator.actors.ts, perp-stops.ts): per position its
 * recorded stop, and the same stops listed on their own, each with the position it protects.
 */
interface RecordedStop {
  clientOrderId: string;
  generation: number;
  status: string;
  qty: number;
  stopPrice: number;
  venueOrderId: string | null;
  sentAt: number;
}

/** A recorded stop as the view shows it (spot: a sell; perpetual: reduce-only on the closing side). */
export function stopView(
  r: RecordedStop,
  side: 'buy' | 'sell',
  reduceOnly: boolean,
): NonNullable<StopPositionView['stop']> {
  return {
    clientOrderId: r.clientOrderId,
    generation: r.generation,
    status: r.status,
    side,
    qty: r.qty,
    stopPrice: r.stopPrice,
    reduceOnly,
    venueOrderId: r.venueOrderId,
    sentAt: r.sentAt,
  };
}

/** The stop-centred list: every recorded stop with the position it protects. */
export function protectiveStops(positions: readonly StopPositionView[]): ProtectiveStopView[] {
  const out: ProtectiveStopView[] = [];
  for (const p of positions)
    if (p.stop)
      out.push({
        market: p.market,
        symbol: p.symbol,
        side: p.stop.side,
        triggerPrice: p.stop.stopPrice,
        amount: p.stop.qty,
        reduceOnly: p.stop.reduceOnly,
        status: p.stop.status,
        clientOrderId: p.stop.clientOrderId,
        generation: p.stop.generation,
        venueOrderId: p.stop.venueOrderId,
        protects: { side: p.side, qty: p.qty, entryPrice: p.entryPrice },
      });
  return out;
}
