import type { ConnErrorKind } from '../machines/conn.machine.js';
import {
  classifyVenueError,
  isLocalRefusal,
  localError,
  VenueError,
  type VenueErrorInfo,
} from '../venues/error-classifier.js';
import type { CallPriority } from '../venues/rate-budget.js';
import type { VenueGateway } from '../venues/venue-gateway.js';

/**
 * The venue actors' shared handle on one gateway. Every call's outcome is reported to conn:<venue> (the health
 * judge), and while conn says the venue must not be called (bad key, 418 ban, tripped breaker) calls fail
 * locally without a request: this is what keeps a bad key from turning into a retry storm.
 */
export interface LinkOutcome {
  ok: boolean;
  kind?: ConnErrorKind;
  message?: string;
  retryAfterMs?: number;
  op: string;
  /**
   * Nothing reached the venue: our own budget said no. Counted by the budget itself
   * (`engine_venue_local_refusals_total`), never as a venue error, a 429, or an outcome for the breaker.
   */
  local?: true;
}

export function connKindOf(info: VenueErrorInfo): ConnErrorKind {
  switch (info.tag) {
    case 'auth':
      return 'auth';
    case 'ban':
      return 'ban';
    case 'rate_limit':
      return 'rate_limit';
    case 'network':
    case 'timeout':
    case 'unavailable':
    case 'bad_response':
    case 'nonce':
      return 'network';
    case 'insufficient_funds':
    case 'invalid_order':
    case 'duplicate':
    case 'not_found':
      return 'invalid';
    default:
      return 'exchange';
  }
}

/** Venue-side failures count against the link's health; our own invalid orders do not. */
function countsAsError(info: VenueErrorInfo): boolean {
  return connKindOf(info) !== 'invalid' && info.tag !== 'blocked';
}

/** Methods that answer from memory without a request: passed through as they are (not made async). */
const SYNC_METHODS = new Set<string | symbol>([
  'markets',
  'pressure',
  'clockOffsetMs',
  'clockSyncNeeded',
  'unavailable',
]);

export interface VenueLink {
  readonly venue: string;
  readonly gateway: VenueGateway;
  block(reason: string): void;
  unblock(): void;
  blocked(): string | undefined;
}

/**
 * Wraps a gateway so every promise-returning method reports to `report` and refuses while blocked. The
 * wrapper is a Proxy so new gateway methods are covered without a change here.
 */
export function createVenueLink(venue: string, gateway: VenueGateway, report: (o: LinkOutcome) => void): VenueLink {
  let blockedReason: string | undefined;
  const toOutcome = (op: string, info: VenueErrorInfo): LinkOutcome => ({
    ok: !countsAsError(info),
    kind: connKindOf(info),
    message: info.reason,
    ...(info.retryAfterMs === undefined ? {} : { retryAfterMs: info.retryAfterMs }),
    op,
    ...(isLocalRefusal(info) ? { local: true as const } : {}),
  });
  const wrap = (gw: VenueGateway): VenueGateway => new Proxy(gw, handler);
  const handler: ProxyHandler<VenueGateway> = {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      // A priority view is linked too: same reports, same block.
      if (prop === 'atPriority' && typeof v === 'function') {
        return (p: CallPriority) => wrap((v as (p: CallPriority) => VenueGateway).call(target, p));
      }
      if (typeof v !== 'function' || SYNC_METHODS.has(prop) || prop === 'close') {
        return typeof v === 'function' ? v.bind(target) : v;
      }
      const op = String(prop);
      return async (...args: unknown[]) => {
        if (blockedReason !== undefined) {
          const info = localError('Blocked', 'blocked', `venue ${venue} blocked: ${blockedReason}`);
          if (op === 'createOrder') return { status: 'rejected', error: info };
          throw new VenueError(venue, info);
        }
        try {
          const out = (await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
          const status = (out as { status?: string; error?: VenueErrorInfo } | null)?.status;
          if (op === 'createOrder' && (status === 'rejected' || status === 'unknown')) {
            report(toOutcome(op, (out as { error: VenueErrorInfo }).error));
          } else if (op !== 'loadMarkets') {
            // loadMarkets is usually served from cache without a request: its success says nothing about
            // the venue, and counting it would dilute the error rate.
            report({ ok: true, op });
          }
          return out;
        } catch (e) {
          report(toOutcome(op, e instanceof VenueError ? e.info : classifyVenueError(e)));
          throw e;
        }
      };
    },
  };
  return {
    venue,
    gateway: wrap(gateway),
    block: (reason) => {
      blockedReason = reason;
    },
    unblock: () => {
      blockedReason = undefined;
    },
    blocked: () => blockedReason,
  };
}
