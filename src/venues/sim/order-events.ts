/**
 * The venue's own record of every create it received, in arrival order (what a venue's audit trail or a
 * drop-copy gives a compliance desk): the client id, what was asked, whether it was booked, and the account as it
 * stood when the request arrived (balances and open orders). The simulation campaign (test/simulation/) judges
 * Bosun's promises against this log rather than against what Bosun says it did. Off unless the simulator is
 * started with `recordOrderEvents` (the snapshot costs a copy of the account per create).
 */
import type { Account } from './accounts.js';
import { isOpen, remainingQty, type SimOrder } from './order-store.js';

export interface OrderEventOpenOrder {
  clientOrderId: string;
  symbol: string;
  market: 'spot' | 'perp';
  side: 'buy' | 'sell';
  kind: string;
  /** Base quantity still to fill (undefined for a market order by cost). */
  remaining: number | undefined;
  price: number | undefined;
  stopPrice: number | undefined;
}

export interface OrderEvent {
  /** Global arrival sequence across every account and venue. */
  seq: number;
  /** Sim time of arrival. */
  at: number;
  venue: string;
  account: string;
  market: 'spot' | 'perp';
  symbol: string;
  side: 'buy' | 'sell';
  kind: string;
  clientOrderId: string;
  reduceOnly: boolean;
  qty: number | undefined;
  quoteQty: number | undefined;
  price: number | undefined;
  stopPrice: number | undefined;
  /** `booked`: the venue took the order (it has a venue id); `refused`: answered with an error. */
  outcome: 'booked' | 'refused';
  reason?: string;
  venueOrderId?: string;
  /** Spot totals (free + locked) of the account when the request arrived. */
  balancesBefore: Record<string, number>;
  /** The account's open orders when the request arrived. */
  openBefore: OrderEventOpenOrder[];
  /** Signed perpetual positions (one-way) of the account when the request arrived, by symbol. */
  positionsBefore: Record<string, number>;
}

export type OrderEventInput = Omit<OrderEvent, 'seq' | 'outcome' | 'balancesBefore' | 'openBefore' | 'positionsBefore'>;

export class OrderEventLog {
  private seq = 0;
  private events: OrderEvent[] = [];

  constructor(private readonly capacity = 100_000) {}

  /** Records a create on arrival; the caller completes it with `booked` or `refused`. */
  arrive(input: OrderEventInput, account: Account, open: Iterable<SimOrder>): OrderEvent {
    const balancesBefore: Record<string, number> = {};
    for (const [asset, b] of account.spot) balancesBefore[asset] = b.free + b.locked;
    const openBefore: OrderEventOpenOrder[] = [];
    for (const o of open) {
      if (!isOpen(o)) continue;
      openBefore.push({
        clientOrderId: o.clientOrderId,
        symbol: o.market.id,
        market: o.market.kind === 'perp' ? 'perp' : 'spot',
        side: o.side,
        kind: o.kind,
        remaining: o.qty === undefined ? undefined : remainingQty(o),
        price: o.price,
        stopPrice: o.stopPrice,
      });
    }
    const positionsBefore: Record<string, number> = {};
    for (const [symbol, p] of account.positions) positionsBefore[symbol] = p.qty;
    const e: OrderEvent = {
      ...input,
      seq: ++this.seq,
      outcome: 'refused',
      balancesBefore,
      openBefore,
      positionsBefore,
    };
    this.events.push(e);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    return e;
  }

  /** Events of one account (by id), or all, oldest first. */
  list(account?: string): OrderEvent[] {
    return this.events.filter((e) => account === undefined || e.account === account);
  }

  /** The sequence of the latest event (0 before any). */
  last(): number {
    return this.seq;
  }

  /** Drops the events of one account (or all); the sequence keeps counting. */
  clear(account?: string): void {
    this.events = account === undefined ? [] : this.events.filter((e) => e.account !== account);
  }
}
