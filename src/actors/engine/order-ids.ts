import { clientOrderId, drawIncarnation, keyedClientOrderId } from '../../domain/client-order-id.js';
import type { KvStore } from '../../store/index.js';
import type { OrderIds } from './order-submit.js';

/**
 * clientOrderIds that never repeat (DESIGN §5): a fresh incarnation per process, never one this state directory
 * used before, kept in the store before the first intent of the process is journaled; the sequence restarts at
 * 1 in each incarnation. Also the Idempotency-Key index: key → the order it caused (journaled in the intent).
 */
const INCARNATIONS_KEY = 'order_incarnations';
/** The store keeps the last incarnations (1.2 M possible; a few hundred restarts stay far from a clash). */
const KEEP = 1_000;

export function createOrderIds(deps: {
  node: string;
  kv: KvStore;
  random: () => number;
  /** Existing orders' Idempotency-Keys (the intent records carry them). */
  claims: Iterable<[key: string, clientOrderId: string]>;
  /** Whether the store already has an order with this id (an adopted foreign order may carry any id). */
  exists: (clientOrderId: string) => boolean;
}): OrderIds & {
  incarnation: string;
  claimed(key: string): string | undefined;
  keyed(venue: string, symbol: string, key: string): string;
} {
  const used = deps.kv.get<string[]>(INCARNATIONS_KEY) ?? [];
  const incarnation = drawIncarnation(deps.random, new Set(used));
  const saved = deps.kv.put(INCARNATIONS_KEY, [...used.slice(-(KEEP - 1)), incarnation]);
  // Awaited by the first intent; an error surfaces there (and on every later one), never as an unhandled rejection.
  saved.catch(() => undefined);
  const claims = new Map(deps.claims);
  let seq = 0;
  return {
    incarnation,
    next(venue, symbol, strategy) {
      for (;;) {
        seq += 1;
        const cid = clientOrderId({ node: deps.node, venue, symbol, strategy, seq, incarnation });
        if (!deps.exists(cid)) return cid;
      }
    },
    ready: () => saved,
    claim(key, cid) {
      claims.set(key, cid);
    },
    claimed: (key) => claims.get(key),
    /** The id an operator order with this Idempotency-Key is sent under (client-order-id.ts). */
    keyed: (venue, symbol, key) => keyedClientOrderId({ node: deps.node, venue, symbol, key }),
  };
}
