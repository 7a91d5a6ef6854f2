import type { Database } from 'lmdb';
import { TERMINAL } from '../machines/order.machine.js';
import type { CommitGuard } from './commit-guard.js';
import { checkOrderRecord, type OrderRecord, readOrderRecord } from './order-record.js';

export type { OrderRecord } from './order-record.js';
export type OrderInput = Omit<OrderRecord, 'updatedAt'> & { updatedAt?: number };

export interface OrdersStore {
  /** Writes the order's current state; resolves after the durable commit. */
  put(order: OrderInput): Promise<OrderRecord>;
  get(clientOrderId: string): OrderRecord | undefined;
  /** Orders whose status is not terminal: what boot recovery must resolve at the venue. */
  listOpen(): OrderRecord[];
  /** Every order, by clientOrderId. */
  list(): Iterable<OrderRecord>;
}

/** Not filled, cancelled or rejected: what boot recovery must resolve at the venue. */
export function isOpenOrder(order: Pick<OrderRecord, 'status'>): boolean {
  return !TERMINAL.has(order.status);
}

/**
 * Opening parses every stored record (order-record.ts): one that does not parse refuses the store, naming its
 * key, so boot stops before anything trades (fail closed: a record left out of the open index would be an
 * order whose slot, reservation and resolution at the venue are silently dropped).
 */
export function createOrdersStore(db: Database<unknown, string>, guard: CommitGuard, now: () => number) {
  // The open orders, indexed once at open and kept by `put`: a kill's cancel, boot recovery and every
  // reconciliation walk these, not every order ever stored.
  const open = new Map<string, OrderRecord>();
  for (const { key, value } of db.getRange({ snapshot: false })) {
    const order = readOrderRecord(key, value);
    if (isOpenOrder(order)) open.set(order.clientOrderId, order);
  }
  // Puts issued and not yet committed: `get` answers the newest state, not the committed one.
  const uncommitted = new Map<string, OrderRecord>();
  const store: OrdersStore = {
    async put(input) {
      // Parsed as well as typed: a field the type lets through at run time (NaN, a stray spread) is refused here.
      const order = checkOrderRecord({ ...input, updatedAt: input.updatedAt ?? now() });
      // Indexed as issued (lmdb-js reads see a put only once it commits; the order path reads its newest state).
      if (isOpenOrder(order)) open.set(order.clientOrderId, order);
      else open.delete(order.clientOrderId);
      uncommitted.set(order.clientOrderId, order);
      try {
        await guard.commit('orders.put', () => db.put(order.clientOrderId, order));
      } finally {
        if (uncommitted.get(order.clientOrderId) === order) uncommitted.delete(order.clientOrderId);
      }
      return order;
    },
    get(clientOrderId) {
      const mine = uncommitted.get(clientOrderId) ?? open.get(clientOrderId);
      if (mine !== undefined) return mine;
      const stored = db.get(clientOrderId);
      return stored === undefined ? undefined : readOrderRecord(clientOrderId, stored);
    },
    listOpen() {
      return [...open.values()];
    },
    list() {
      return db.getRange({ snapshot: false }).map(({ key, value }) => readOrderRecord(key, value));
    },
  };
  return store;
}
