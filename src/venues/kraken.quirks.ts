/**
 * Kraken spot quirks (reference/ccxt-venues.md §1.3–§3):
 * - stops go out with `stopLossPrice`/`takeProfitPrice` (ccxt passes `triggerPrice`/`stopPrice` through raw and
 *   Kraken would book a plain market order);
 * - AddOrder answers only `txid` + a description, so the gateway fetches the order to learn status and fills;
 * - `cl_ord_id` must be a UUID (or ≤ 18 free characters), so Bosun's id is mapped to a deterministic UUID;
 * - QueryOrders cannot filter by `cl_ord_id` (ccxt's fetchOrder sends it as the integer `userref`), so a lookup
 *   by client id scans OpenOrders then ClosedOrders, which do filter;
 * - nonces must strictly increase per key, and ccxt's millisecond nonce repeats within a millisecond; and they must
 *   arrive in that order, so private calls are sent one at a time;
 * - there is no testnet: ccxt's `setSandboxMode(true)` silently empties `urls.api`.
 */
import { createHash } from 'node:crypto';
import ccxt, { type Exchange } from 'ccxt';
import { AppError } from '../domain/errors.js';
import type { VenueErrorInfo } from './error-classifier.js';
import type { OrderType } from './venue-gateway.js';
import { krakenCost } from './venue-limits.js';
import { field, portableOrderArgs, type RawOrderFields, SINGLE_BOOK, type VenueQuirks } from './venue-quirks.js';

/** Fixed UUID namespace for Bosun client ids (a random v4, chosen once). */
const BOSUN_NAMESPACE = '3f8b6c1e-5a2d-4e7f-9b0c-1d2e3f4a5b6c';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** Deterministic UUIDv5 (SHA-1, RFC 4122 §4.3) of a Bosun clientOrderId: same id in, same cl_ord_id out. */
export function toKrakenClientId(clientOrderId: string): string {
  const hash = createHash('sha1').update(uuidBytes(BOSUN_NAMESPACE)).update(clientOrderId, 'utf8').digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50; // version 5
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const KRAKEN_TYPES: Record<string, OrderType> = {
  market: 'market',
  limit: 'limit',
  'stop-loss': 'stop_loss',
  'stop-loss-limit': 'stop_loss_limit',
  'take-profit': 'take_profit',
  'take-profit-limit': 'take_profit_limit',
};

function matches(order: unknown, venueClientId: string): boolean {
  return (
    order !== null && typeof order === 'object' && (order as Record<string, unknown>).clientOrderId === venueClientId
  );
}

/** Quirks for Kraken spot (`kraken`). */
export function krakenQuirks(): VenueQuirks {
  return {
    venue: 'kraken',
    ccxtId: 'kraken',
    marketKinds: ['spot'],
    // Kraken has no recvWindow; a delayed AddOrder can still be matched after our client timed out. 15 s is
    // past any client timeout we use, so a not-found after it is conclusive in practice.
    acceptWindowMs: 15_000,
    cancelAllScope: 'global_only',
    orderBooks: SINGLE_BOOK,

    createExchange(config) {
      const ex = new ccxt.kraken(config);
      // ccxt's nonce is Date.now(): two private calls in the same millisecond (easy on loopback, possible live
      // when feed, account and orders overlap) reuse it and Kraken answers `EAPI:Invalid nonce`. Keep the ms
      // scale (a key shared with another ms-nonce client stays usable) but never repeat or go back.
      let last = 0;
      ex.nonce = () => {
        last = Math.max(last + 1, Date.now());
        return last;
      };
      // Increasing nonces are not enough: the nonce is taken when a request is signed, and two private calls in
      // flight at once (boot recovery beside the account refresh, a reconcile beside the stop validator) can
      // reach Kraken in the other order, which answers the later-arriving one `EAPI:Invalid nonce`. Private calls
      // therefore go out one at a time, each signed and sent after the previous one answered (ccxt's timeout
      // bounds a wait); public calls are not held.
      const fetch2 = ex.fetch2.bind(ex);
      let privateTail: Promise<unknown> = Promise.resolve();
      ex.fetch2 = (path, api, method, params, headers, body, config) => {
        if (api !== 'private') return fetch2(path, api, method, params, headers, body, config);
        const call = privateTail.then(() => fetch2(path, api, method, params, headers, body, config));
        privateTail = call.catch(() => undefined);
        return call;
      };
      return ex;
    },

    useTestnet() {
      throw new AppError('CONFIG_INVALID', 'kraken has no testnet: use mode "paper" or an explicit baseUrl');
    },

    checkClientId: (id) => (id.length > 0 && id.length <= 128 ? undefined : 'clientOrderId must be 1-128 characters'),

    venueClientId: toKrakenClientId,

    orderArgs(req, venueClientId) {
      const args = portableOrderArgs(req);
      args.params.cl_ord_id = venueClientId;
      return args;
    },

    clientIdParams: (venueClientId) => ({ cl_ord_id: venueClientId }),

    async findByClientId(ex: Exchange, ccxtSymbol, venueClientId) {
      const open = await ex.fetchOpenOrders(ccxtSymbol, undefined, undefined, { clientOrderId: venueClientId });
      const hit = open.find((o) => matches(o, venueClientId));
      if (hit !== undefined) return hit;
      const closed = await ex.fetchClosedOrders(ccxtSymbol, undefined, undefined, { clientOrderId: venueClientId });
      return closed.find((o) => matches(o, venueClientId));
    },

    rawOrderFields(info): RawOrderFields {
      const descr = info !== null && typeof info === 'object' ? (info as Record<string, unknown>).descr : undefined;
      const t = field(descr, 'ordertype');
      const type = typeof t === 'string' ? KRAKEN_TYPES[t] : undefined;
      return type === undefined ? {} : { type };
    },

    depthParam: (depth) => Math.min(Math.max(1, Math.ceil(depth)), 500),

    cost: (op, ctx) => krakenCost(op, ctx),

    refineError(info: VenueErrorInfo, _op, opName): VenueErrorInfo {
      // Live Kraken answers QueryOrders for an unknown txid with `EOrder:Invalid order` → ccxt InvalidOrder.
      if (opName === 'fetchOrder' && info.code === 'InvalidOrder' && /EOrder:Invalid order/.test(info.reason)) {
        return { ...info, code: 'OrderNotFound', tag: 'not_found' };
      }
      return info;
    },

    observe() {
      // Kraken reports no usage counters in headers.
    },

    cancelAllCount(result) {
      // ccxt wraps CancelAll's `{result: {count}}` into one order-shaped `{info}`.
      const first = Array.isArray(result) ? (result[0] as { info?: { result?: { count?: unknown } } }) : undefined;
      const count = Number(first?.info?.result?.count);
      return Number.isFinite(count) ? count : undefined;
    },
  };
}
