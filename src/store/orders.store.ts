import type { Database } from 'lmdb';
import { AppError } from '../domain/errors.js';
import { type Json, toJsonObject } from './canonical-json.js';
import type { CommitGuard } from './commit-guard.js';

/** The materialised state of one order, keyed by its clientOrderId (journaled before the first send, DESIGN §5). */
export interface OrderRecord {
  clientOrderId: string;
  status: string;
  updatedAt: number;
  [field: string]: Json;
}

export type OrderInput = Omit<OrderRecord, 'updatedAt'> & { updatedAt?: number };

/**
 * Statuses after which an order can never fill again. Anything else counts as open, including statuses this
 * module has never heard of: recovery then asks the venue about it rather than forgetting it (fail closed).
 */
export const TERMINAL_ORDER_STATUSES: ReadonlySet<string> = new Set([
  'filled',
  'canceled',
  'cancelled',
  'rejected',
  'expired',
]);

export interface OrdersStore {
  /** Writes the order's current state; resolves after the durable commit. */
  put(order: OrderInput): Promise<OrderRecord>;
  get(clientOrderId: string): OrderRecord | undefined;
  /** Orders whose status is not terminal: what boot recovery must resolve at the venue. */
  listOpen(): OrderRecord[];
  /** Every order, by clientOrderId. */
  list(): Iterable<OrderRecord>;
}

export function isOpenOrder(order: Pick<OrderRecord, 'status'>): boolean {
  return !TERMINAL_ORDER_STATUSES.has(order.status.toLowerCase());
}

export function createOrdersStore(db: Database<OrderRecord, string>, guard: CommitGuard, now: () => number) {
  // The open orders, indexed once at open and kept by `put`: a kill's cancel, boot recovery and every
  // reconciliation walk these, not every order ever stored.
  const open = new Map<string, OrderRecord>();
  for (const { value } of db.getRange({ snapshot: false }))
    if (isOpenOrder(value)) open.set(value.clientOrderId, value);
  // Puts issued and not yet committed: `get` answers the newest state, not the committed one.
  const uncommitted = new Map<string, OrderRecord>();
  const store: OrdersStore = {
    async put(input) {
      const order = { ...toJsonObject(input, 'order'), updatedAt: input.updatedAt ?? now() } as OrderRecord;
      if (typeof order.clientOrderId !== 'string' || order.clientOrderId === '')
        throw new AppError('VALIDATION_FAILED', 'order needs a non-empty clientOrderId');
      if (typeof order.status !== 'string' || order.status === '')
        throw new AppError('VALIDATION_FAILED', 'order needs a non-empty status');
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
      return uncommitted.get(clientOrderId) ?? open.get(clientOrderId) ?? db.get(clientOrderId);
    },
    listOpen() {
      return [...open.values()];
    },
    list() {
      return db.getRange({ snapshot: false }).map(({ value }) => value);
    },
  };
  return store;
}
