/**
 * The fault matrix: every fault the simulator injects (and the natural failures it produces on its own),
 * with the ccxt 4.5 error class it surfaces as through the real `binance` and `kraken` classes, as listed in
 * reference/ccxt-venues.md §3. `test/venues/sim-faults.test.ts` proves every row; the gateway's classifier
 * test reuses the table to check each class lands on the right side (retryable vs fatal).
 */
import type { FaultInput } from './faults.js';

/** ccxt error class names (no ccxt import here: the simulator does not depend on ccxt). */
export type CcxtErrorClass =
  | 'AuthenticationError'
  | 'PermissionDenied'
  | 'AccountSuspended'
  | 'BadRequest'
  | 'BadSymbol'
  | 'InsufficientFunds'
  | 'InvalidOrder'
  | 'OrderNotFound'
  | 'OrderImmediatelyFillable'
  | 'ExchangeError'
  | 'OperationFailed'
  | 'NetworkError'
  | 'DDoSProtection'
  | 'RateLimitExceeded'
  | 'ExchangeNotAvailable'
  | 'OnMaintenance'
  | 'InvalidNonce'
  | 'RequestTimeout';

/** Failures the simulator produces without a fault, from the request itself. */
export type NaturalFailure =
  | 'bad_api_key'
  | 'bad_secret'
  | 'reused_nonce'
  | 'insufficient_funds'
  | 'lot_size'
  | 'min_notional'
  | 'unknown_order'
  | 'post_only_would_take'
  | 'stop_would_trigger'
  | 'weight_limit_429'
  | 'weight_limit_418';

/** The ccxt call that meets the fault: a signed read, a public read or an order. */
export type Probe = 'fetchBalance' | 'fetchTicker' | 'createOrder' | 'cancelOrder';

export interface FaultCase {
  id: string;
  venue: 'binance' | 'kraken';
  /** Exactly one of `fault` (installed through the control API) or `natural`. */
  fault?: FaultInput;
  natural?: NaturalFailure;
  probe: Probe;
  /** The exact ccxt class thrown (instanceof this, and no more specific class is expected). */
  expected: CcxtErrorClass;
  /**
   * The class with Binance's error tables chosen by path (reference §0.4, the gateway's quirk), where it
   * differs: plain ccxt on loopback skips the market-specific tables.
   */
  withPathTables?: CcxtErrorClass;
  note?: string;
}

const b = (
  id: string,
  fault: FaultInput,
  expected: CcxtErrorClass,
  probe: Probe = 'fetchBalance',
  note?: string,
): FaultCase => ({
  id: `binance/${id}`,
  venue: 'binance',
  fault: { ...fault, venue: 'binance' } as FaultInput,
  probe,
  expected,
  ...(note === undefined ? {} : { note }),
});

const k = (
  id: string,
  fault: FaultInput,
  expected: CcxtErrorClass,
  probe: Probe = 'fetchBalance',
  note?: string,
): FaultCase => ({
  id: `kraken/${id}`,
  venue: 'kraken',
  fault: { ...fault, venue: 'kraken' } as FaultInput,
  probe,
  expected,
  ...(note === undefined ? {} : { note }),
});

const nat = (
  venue: 'binance' | 'kraken',
  natural: NaturalFailure,
  expected: CcxtErrorClass,
  probe: Probe,
  note?: string,
): FaultCase => ({
  id: `${venue}/natural:${natural}`,
  venue,
  natural,
  probe,
  expected,
  ...(note === undefined ? {} : { note }),
});

export const FAULT_MATRIX: readonly FaultCase[] = [
  // Binance: transport and HTTP
  b('hang', { kind: 'hang' }, 'RequestTimeout'),
  b('latency-past-timeout', { kind: 'latency', ms: 1500 }, 'RequestTimeout'),
  b('disconnect', { kind: 'disconnect' }, 'NetworkError'),
  b(
    'http-429',
    { kind: 'http_429', retryAfterSec: 30 },
    'DDoSProtection',
    'fetchBalance',
    'ccxt checks 418/429 first: DDoSProtection, not RateLimitExceeded',
  ),
  b('http-418', { kind: 'http_418', retryAfterSec: 120 }, 'DDoSProtection'),
  b('http-500-html', { kind: 'http_5xx', status: 500 }, 'ExchangeNotAvailable'),
  b('http-502-html', { kind: 'http_5xx', status: 502 }, 'ExchangeNotAvailable'),
  b('http-503-html', { kind: 'http_5xx', status: 503 }, 'ExchangeNotAvailable'),
  b('http-504-html', { kind: 'http_5xx', status: 504 }, 'RequestTimeout'),
  b('http-520-html', { kind: 'http_5xx', status: 520 }, 'ExchangeNotAvailable'),
  b(
    'accept-then-502',
    { kind: 'accept_then_502', path: '/api/v3/order', method: 'POST' },
    'ExchangeNotAvailable',
    'createOrder',
    'the order exists at the venue: unknown state',
  ),
  b('error-rate-503', { kind: 'http_5xx', status: 503, rate: 1 }, 'ExchangeNotAvailable'),
  // Binance: venue codes
  b(
    'clock-skew-ahead',
    { kind: 'clock_skew', ms: -20_000 },
    'InvalidNonce',
    'fetchBalance',
    'server clock behind: the request looks 1000 ms ahead (-1021)',
  ),
  b(
    'clock-skew-behind',
    { kind: 'clock_skew', ms: 20_000 },
    'InvalidNonce',
    'fetchBalance',
    'server clock ahead: outside recvWindow (-1021)',
  ),
  b('code-1021', { kind: 'venue_error', code: -1021 }, 'InvalidNonce'),
  b(
    'code-1003-400',
    { kind: 'venue_error', code: -1003, status: 400 },
    'RateLimitExceeded',
    'fetchBalance',
    '-1003 without a 429/418 status',
  ),
  b('code-1003-429', { kind: 'venue_error', code: -1003, status: 429 }, 'DDoSProtection'),
  b('code-1001', { kind: 'venue_error', code: -1001 }, 'OperationFailed', 'fetchBalance', 'not a NetworkError'),
  {
    ...b(
      'code-1008',
      { kind: 'venue_error', code: -1008 },
      'ExchangeError',
      'fetchBalance',
      '-1008 is only in the spot table',
    ),
    withPathTables: 'OperationFailed',
  },
  b('code-1007', { kind: 'venue_error', code: -1007 }, 'RequestTimeout'),
  b('code-2010-balance', { kind: 'venue_error', code: -2010 }, 'InsufficientFunds', 'createOrder'),
  b(
    'code-2010-other',
    { kind: 'venue_error', code: -2010, msg: 'Order rejected by the venue.' },
    'InvalidOrder',
    'createOrder',
  ),
  b(
    'code-1013-notional',
    { kind: 'venue_error', code: -1013, msg: 'Filter failure: NOTIONAL' },
    'BadRequest',
    'createOrder',
  ),
  b(
    'code-1013-lot-size',
    { kind: 'venue_error', code: -1013, msg: 'Filter failure: LOT_SIZE' },
    'InvalidOrder',
    'createOrder',
  ),
  b('code-2011', { kind: 'venue_error', code: -2011, msg: 'Unknown order sent.' }, 'OrderNotFound', 'cancelOrder'),
  b(
    'code-2015-fresh',
    { kind: 'venue_error', code: -2015 },
    'AuthenticationError',
    'fetchBalance',
    'on an instance with no successful private call yet',
  ),
  b('code-1022', { kind: 'venue_error', code: -1022 }, 'AuthenticationError'),
  b('maintenance', { kind: 'venue_error', code: 1, msg: 'System is under maintenance.', status: 503 }, 'OnMaintenance'),
  // Binance: natural
  nat('binance', 'bad_api_key', 'AuthenticationError', 'fetchBalance', '401 -2015'),
  nat('binance', 'bad_secret', 'AuthenticationError', 'fetchBalance', '400 -1022'),
  nat('binance', 'insufficient_funds', 'InsufficientFunds', 'createOrder', '-2010 Account has insufficient balance'),
  nat('binance', 'lot_size', 'InvalidOrder', 'createOrder', '-1013 Filter failure: LOT_SIZE'),
  nat('binance', 'min_notional', 'BadRequest', 'createOrder', '-1013 Filter failure: NOTIONAL'),
  nat('binance', 'unknown_order', 'OrderNotFound', 'cancelOrder', '-2011'),
  nat('binance', 'post_only_would_take', 'OrderImmediatelyFillable', 'createOrder', 'LIMIT_MAKER crossing the book'),
  nat('binance', 'stop_would_trigger', 'OrderImmediatelyFillable', 'createOrder', 'STOP_LOSS above a falling market'),
  nat('binance', 'weight_limit_429', 'DDoSProtection', 'fetchTicker', 'request weight over the minute limit'),
  nat('binance', 'weight_limit_418', 'DDoSProtection', 'fetchTicker', 'kept going after 429s: IP banned'),
  // Kraken: transport and HTTP
  k('hang', { kind: 'hang' }, 'RequestTimeout'),
  k('disconnect', { kind: 'disconnect' }, 'NetworkError'),
  k('http-429-html', { kind: 'http_429' }, 'RateLimitExceeded'),
  k('http-418', { kind: 'http_418' }, 'DDoSProtection'),
  k('http-502-html', { kind: 'http_5xx', status: 502 }, 'ExchangeNotAvailable'),
  k('http-503-html', { kind: 'http_5xx', status: 503 }, 'ExchangeNotAvailable'),
  k('http-504-html', { kind: 'http_5xx', status: 504 }, 'RequestTimeout'),
  k('http-520-html', { kind: 'http_5xx', status: 520 }, 'ExchangeNotAvailable'),
  k(
    'accept-then-502',
    { kind: 'accept_then_502', path: '/0/private/AddOrder' },
    'ExchangeNotAvailable',
    'createOrder',
    'the order exists at the venue: unknown state',
  ),
  // Kraken: venue error strings
  k('invalid-nonce', { kind: 'venue_error', error: 'EAPI:Invalid nonce' }, 'InvalidNonce'),
  k('rate-limit', { kind: 'venue_error', error: 'EAPI:Rate limit exceeded' }, 'DDoSProtection'),
  k('order-rate-limit', { kind: 'venue_error', error: 'EOrder:Rate limit exceeded' }, 'DDoSProtection', 'createOrder'),
  k('lockout', { kind: 'venue_error', error: 'EGeneral:Temporary lockout' }, 'DDoSProtection'),
  k('unavailable', { kind: 'venue_error', error: 'EService:Unavailable' }, 'ExchangeNotAvailable'),
  k('busy', { kind: 'venue_error', error: 'EService:Busy' }, 'ExchangeNotAvailable'),
  k('internal', { kind: 'venue_error', error: 'EGeneral:Internal error' }, 'ExchangeNotAvailable'),
  k(
    'cancel-only',
    { kind: 'venue_error', error: 'EService:Market in cancel_only mode' },
    'OnMaintenance',
    'createOrder',
  ),
  k('insufficient', { kind: 'venue_error', error: 'EOrder:Insufficient funds' }, 'InsufficientFunds', 'createOrder'),
  k('order-minimum', { kind: 'venue_error', error: 'EOrder:Order minimum not met' }, 'InvalidOrder', 'createOrder'),
  k('invalid-key', { kind: 'venue_error', error: 'EAPI:Invalid key' }, 'AuthenticationError'),
  k('permission', { kind: 'venue_error', error: 'EGeneral:Permission denied' }, 'PermissionDenied'),
  k('invalid-arguments', { kind: 'venue_error', error: 'EGeneral:Invalid arguments' }, 'BadRequest'),
  k(
    'invalid-signature',
    { kind: 'venue_error', error: 'EAPI:Invalid signature' },
    'ExchangeError',
    'fetchBalance',
    'unmapped by ccxt: bare ExchangeError',
  ),
  k(
    'throttled',
    { kind: 'venue_error', error: 'EService:Throttled: 1700000000' },
    'ExchangeError',
    'fetchBalance',
    'unmapped by ccxt: bare ExchangeError',
  ),
  k(
    'cost-minimum',
    { kind: 'venue_error', error: 'EOrder:Cost minimum not met' },
    'ExchangeError',
    'createOrder',
    'unmapped by ccxt: bare ExchangeError',
  ),
  // Kraken: natural
  nat('kraken', 'bad_api_key', 'AuthenticationError', 'fetchBalance', 'EAPI:Invalid key'),
  nat('kraken', 'bad_secret', 'ExchangeError', 'fetchBalance', 'EAPI:Invalid signature is unmapped by ccxt'),
  nat('kraken', 'reused_nonce', 'InvalidNonce', 'fetchBalance', 'EAPI:Invalid nonce'),
  nat('kraken', 'insufficient_funds', 'InsufficientFunds', 'createOrder', 'EOrder:Insufficient funds'),
  nat('kraken', 'lot_size', 'InvalidOrder', 'createOrder', 'EOrder:Order minimum not met'),
  nat('kraken', 'unknown_order', 'OrderNotFound', 'cancelOrder', 'EOrder:Unknown order on cancel'),
];
