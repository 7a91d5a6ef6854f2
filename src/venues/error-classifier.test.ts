import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import {
  BadVenueResponse,
  CCXT_ERROR_RULES,
  classifyVenueError,
  type ErrorKind,
  type ErrorTag,
  LoopbackViolation,
  VenueError,
} from './error-classifier.js';
import { BudgetExhausted } from './rate-budget.js';

type Row = [read: ErrorKind, create: ErrorKind, tag: ErrorTag];

/**
 * Expected classification of every ccxt error class, written out by hand. A class that ccxt adds in an upgrade
 * is missing here and fails the first test until someone decides where it belongs.
 */
const EXPECTED: Record<string, Row> = {
  BaseError: ['fatal', 'unknown_outcome', 'internal'],
  ExchangeError: ['fatal', 'fatal', 'rejected'],
  AuthenticationError: ['fatal', 'fatal', 'auth'],
  PermissionDenied: ['fatal', 'fatal', 'auth'],
  AccountNotEnabled: ['fatal', 'fatal', 'auth'],
  AccountSuspended: ['fatal', 'fatal', 'auth'],
  ArgumentsRequired: ['fatal', 'fatal', 'bad_request'],
  BadRequest: ['fatal', 'fatal', 'bad_request'],
  BadSymbol: ['fatal', 'fatal', 'bad_request'],
  OperationRejected: ['fatal', 'fatal', 'rejected'],
  NoChange: ['fatal', 'fatal', 'rejected'],
  MarginModeAlreadySet: ['fatal', 'fatal', 'rejected'],
  MarketClosed: ['fatal', 'fatal', 'market_closed'],
  ManualInteractionNeeded: ['fatal', 'fatal', 'rejected'],
  RestrictedLocation: ['fatal', 'fatal', 'auth'],
  InsufficientFunds: ['fatal', 'fatal', 'insufficient_funds'],
  InvalidAddress: ['fatal', 'fatal', 'bad_request'],
  AddressPending: ['fatal', 'fatal', 'bad_request'],
  InvalidOrder: ['fatal', 'fatal', 'invalid_order'],
  OrderNotFound: ['fatal', 'fatal', 'not_found'],
  OrderNotCached: ['fatal', 'fatal', 'not_found'],
  OrderImmediatelyFillable: ['fatal', 'fatal', 'invalid_order'],
  OrderNotFillable: ['fatal', 'fatal', 'invalid_order'],
  DuplicateOrderId: ['fatal', 'fatal', 'duplicate'],
  ContractUnavailable: ['fatal', 'fatal', 'invalid_order'],
  NotSupported: ['fatal', 'fatal', 'unsupported'],
  InvalidProxySettings: ['fatal', 'fatal', 'internal'],
  ExchangeClosedByUser: ['fatal', 'fatal', 'internal'],
  OperationFailed: ['retryable', 'unknown_outcome', 'unavailable'],
  NetworkError: ['retryable', 'unknown_outcome', 'network'],
  DDoSProtection: ['retryable', 'retryable', 'rate_limit'],
  RateLimitExceeded: ['retryable', 'retryable', 'rate_limit'],
  ExchangeNotAvailable: ['retryable', 'unknown_outcome', 'unavailable'],
  OnMaintenance: ['retryable', 'unknown_outcome', 'unavailable'],
  InvalidNonce: ['retryable', 'retryable', 'nonce'],
  ChecksumError: ['retryable', 'retryable', 'bad_response'],
  RequestTimeout: ['retryable', 'unknown_outcome', 'timeout'],
  BadResponse: ['retryable', 'unknown_outcome', 'bad_response'],
  NullResponse: ['retryable', 'unknown_outcome', 'bad_response'],
  CancelPending: ['retryable', 'unknown_outcome', 'unavailable'],
  UnsubscribeError: ['fatal', 'fatal', 'internal'],
};

const lib = ccxt as unknown as Record<string, unknown>;
const errorClasses = Object.keys(lib)
  .filter((k) => {
    const v = lib[k];
    return typeof v === 'function' && (v === ccxt.BaseError || v.prototype instanceof ccxt.BaseError);
  })
  .sort();

describe('classifyVenueError over every ccxt error class', () => {
  it('finds the ccxt error classes and has an expectation and a rule for each', () => {
    expect(errorClasses.length).toBeGreaterThanOrEqual(41);
    for (const name of errorClasses) {
      expect(EXPECTED, `ccxt exports ${name}: classify it`).toHaveProperty(name);
      expect(CCXT_ERROR_RULES, `ccxt exports ${name}: add a rule`).toHaveProperty(name);
    }
  });

  it.each(errorClasses)('classifies %s on reads and creates', (name) => {
    const Ctor = lib[name] as new (m: string) => Error;
    const [read, create, tag] = EXPECTED[name]!;
    const e = new Ctor(`binance {"code":-9999,"msg":"${name}"}`);
    expect(classifyVenueError(e, 'read')).toMatchObject({ kind: read, tag, code: name });
    expect(classifyVenueError(e, 'cancel').kind).toBe(read);
    expect(classifyVenueError(e, 'create')).toMatchObject({ kind: create, tag });
  });

  it('gives an unlisted subclass its nearest listed ancestor rule', () => {
    class VenueSpecificTimeout extends ccxt.RequestTimeout {}
    expect(classifyVenueError(new VenueSpecificTimeout('x'), 'create')).toMatchObject({
      kind: 'unknown_outcome',
      tag: 'timeout',
    });
  });
});

describe('classifyVenueError refinements', () => {
  it('splits Binance 418 (ban) from 429 (rate limit), both DDoSProtection in ccxt', () => {
    const ban = new ccxt.DDoSProtection('binance 418 I\'m a teapot {"code":-1003,"msg":"Way too many requests."}');
    const limit = new ccxt.DDoSProtection('binance 429 Too Many Requests {"code":-1003,"msg":"Too many requests."}');
    expect(classifyVenueError(ban)).toMatchObject({ kind: 'retryable', tag: 'ban', httpStatus: 418 });
    expect(classifyVenueError(limit)).toMatchObject({ kind: 'retryable', tag: 'rate_limit', httpStatus: 429 });
  });

  it('reads the ban end from a -1003 "banned until" message', () => {
    const e = new ccxt.DDoSProtection(
      'binance 418 I\'m a teapot {"code":-1003,"msg":"Way too many requests; IP banned until 1700000060000."}',
    );
    expect(classifyVenueError(e, 'read', 1_700_000_000_000)).toMatchObject({ tag: 'ban', retryAfterMs: 60_000 });
  });

  it('treats Kraken lockout as a ban', () => {
    const e = new ccxt.DDoSProtection('kraken {"error":["EGeneral:Temporary lockout"]}');
    expect(classifyVenueError(e).tag).toBe('ban');
  });

  it('halts on Binance -2015 even when ccxt reports it as DDoSProtection after an earlier success', () => {
    const e = new ccxt.DDoSProtection('binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}');
    expect(classifyVenueError(e)).toMatchObject({ kind: 'fatal', tag: 'auth' });
  });

  it('maps the Kraken strings ccxt leaves as bare ExchangeError', () => {
    const sig = new ccxt.ExchangeError('kraken {"error":["EAPI:Invalid signature"]}');
    const throttled = new ccxt.ExchangeError('kraken {"error":["EService:Throttled: 1700000000"]}');
    const cost = new ccxt.ExchangeError('kraken {"error":["EOrder:Cost minimum not met"]}');
    expect(classifyVenueError(sig)).toMatchObject({ kind: 'fatal', tag: 'auth' });
    expect(classifyVenueError(throttled)).toMatchObject({ kind: 'retryable', tag: 'rate_limit' });
    expect(classifyVenueError(cost, 'create')).toMatchObject({ kind: 'fatal', tag: 'invalid_order' });
  });

  it("turns a duplicate-client-id refusal into a rejected create, never a lookup (the id is another order's)", () => {
    const spot = new ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}');
    const usdm = new ccxt.InvalidOrder('binanceusdm {"code":-4116,"msg":"ClientOrderId is duplicated."}');
    const kraken = new ccxt.BadRequest('kraken {"error":["EGeneral:Invalid arguments:cl_ord_id"]}');
    for (const e of [spot, usdm, kraken]) {
      expect(classifyVenueError(e, 'create')).toMatchObject({ kind: 'fatal', tag: 'duplicate' });
    }
  });

  it('reads the HTTP status from a generic ccxt status message', () => {
    const e = new ccxt.ExchangeNotAvailable('kraken GET http://127.0.0.1:9/0/public/Time 502 Bad Gateway <html>');
    expect(classifyVenueError(e).httpStatus).toBe(502);
  });

  it('treats a parser TypeError as retryable on reads and unknown on creates', () => {
    const e = new TypeError("Cannot use 'in' operator to search for 'code' in <html>");
    expect(classifyVenueError(e, 'read')).toMatchObject({ kind: 'retryable', tag: 'bad_response', code: 'TypeError' });
    expect(classifyVenueError(e, 'create').kind).toBe('unknown_outcome');
  });

  it('treats a response that fails validation like BadResponse', () => {
    const e = new BadVenueResponse('unparseable order: id Required');
    expect(classifyVenueError(e, 'read')).toMatchObject({ kind: 'retryable', code: 'BadResponse' });
    expect(classifyVenueError(e, 'create').kind).toBe('unknown_outcome');
  });

  it('never retries a request the loopback guard refused', () => {
    const e = new LoopbackViolation('binance: refused GET https://api.binance.com/api/v3/time');
    expect(classifyVenueError(e, 'create')).toMatchObject({ kind: 'fatal', tag: 'blocked' });
  });

  it('reports our own budget refusal as a retryable rate limit, even for a create (nothing was sent)', () => {
    expect(classifyVenueError(new BudgetExhausted('spot_weight', 1500), 'create')).toMatchObject({
      kind: 'retryable',
      tag: 'rate_limit',
      retryAfterMs: 1500,
    });
  });

  it('treats unknown throwables as fatal on reads and unknown on creates', () => {
    expect(classifyVenueError(new RangeError('boom'), 'read').kind).toBe('fatal');
    expect(classifyVenueError('a string', 'create').kind).toBe('unknown_outcome');
  });

  it('passes a VenueError through unchanged', () => {
    const info = { kind: 'fatal' as const, code: 'BadSymbol', tag: 'bad_request' as const, reason: 'x' };
    const e = new VenueError('binance', info);
    expect(classifyVenueError(e)).toBe(info);
    expect(e.code).toBe('VENUE_REJECTED');
    expect(e.retryable).toBe(false);
  });
});
