/**
 * One classifier for everything a venue call can throw (DESIGN §7): ccxt errors, the TypeErrors ccxt's parsers
 * throw on garbage, our own response-validation and loopback-guard errors. Callers branch on `kind`; the conn
 * actor reads `tag` to go DEGRADED (rate_limit) or HALTED (auth, ban). Verified mappings live in
 * reference/ccxt-venues.md §3; the rules below cite the quirks that shaped them.
 */
import ccxt, { type errors as ccxtErrors } from 'ccxt';
import { AppError, type ErrorCode, errorMessage } from '../domain/errors.js';
import { BudgetExhausted } from './rate-budget.js';

export type ErrorKind = 'retryable' | 'fatal' | 'unknown_outcome';
export type ErrorTag =
  | 'rate_limit'
  | 'ban'
  | 'auth'
  | 'network'
  | 'timeout'
  | 'unavailable'
  | 'nonce'
  | 'bad_response'
  | 'insufficient_funds'
  | 'invalid_order'
  | 'not_found'
  | 'duplicate'
  | 'bad_request'
  | 'market_closed'
  | 'unsupported'
  | 'blocked'
  | 'rejected'
  | 'internal';

/** What the rest of Bosun learns about a failed venue call: plain JSON. */
export interface VenueErrorInfo {
  kind: ErrorKind;
  /** ccxt class name (`RequestTimeout`), `TypeError`, `BadResponse`, `LoopbackViolation`, … */
  code: string;
  tag: ErrorTag;
  reason: string;
  /** HTTP status when the message carries one (429 vs 418 both arrive as DDoSProtection). */
  httpStatus?: number;
  retryAfterMs?: number;
}

/** `read` covers every call that changes nothing; `create` is the only one whose failure can hide a success. */
export type VenueOp = 'read' | 'create' | 'cancel';

interface Rule {
  kind: 'retryable' | 'fatal';
  tag: ErrorTag;
  /** On a create, the request may have reached the matching engine: resolve by clientOrderId, never retry. */
  createUnknown?: boolean;
}

type CcxtErrorName = Exclude<keyof typeof ccxtErrors, 'default'>;

/**
 * Every ccxt error class, by name. `satisfies Record<CcxtErrorName, …>` makes a ccxt upgrade that adds a class
 * fail to compile until someone decides where it belongs (the table test checks the same at run time).
 */
export const CCXT_ERROR_RULES = {
  BaseError: { kind: 'fatal', tag: 'internal', createUnknown: true },
  // A bare ExchangeError is a venue *answer* that ccxt could not map (Kraken `EOrder:Cost minimum not met`,
  // Binance codes missing from its tables): the request was processed and refused, so repeating it would be
  // refused again and only feed a retry storm. Fatal; a create that got one was not placed. Known unmapped
  // strings are refined below (UNMAPPED_MESSAGES).
  ExchangeError: { kind: 'fatal', tag: 'rejected' },
  AuthenticationError: { kind: 'fatal', tag: 'auth' },
  PermissionDenied: { kind: 'fatal', tag: 'auth' },
  AccountNotEnabled: { kind: 'fatal', tag: 'auth' },
  AccountSuspended: { kind: 'fatal', tag: 'auth' },
  ArgumentsRequired: { kind: 'fatal', tag: 'bad_request' },
  BadRequest: { kind: 'fatal', tag: 'bad_request' },
  BadSymbol: { kind: 'fatal', tag: 'bad_request' },
  OperationRejected: { kind: 'fatal', tag: 'rejected' },
  NoChange: { kind: 'fatal', tag: 'rejected' },
  MarginModeAlreadySet: { kind: 'fatal', tag: 'rejected' },
  MarketClosed: { kind: 'fatal', tag: 'market_closed' },
  ManualInteractionNeeded: { kind: 'fatal', tag: 'rejected' },
  RestrictedLocation: { kind: 'fatal', tag: 'auth' },
  InsufficientFunds: { kind: 'fatal', tag: 'insufficient_funds' },
  InvalidAddress: { kind: 'fatal', tag: 'bad_request' },
  AddressPending: { kind: 'fatal', tag: 'bad_request' },
  InvalidOrder: { kind: 'fatal', tag: 'invalid_order' },
  // Fatal for the call that got it (cancel/fetch of an id the venue does not know); callers decide what it means.
  OrderNotFound: { kind: 'fatal', tag: 'not_found' },
  OrderNotCached: { kind: 'fatal', tag: 'not_found' },
  OrderImmediatelyFillable: { kind: 'fatal', tag: 'invalid_order' },
  OrderNotFillable: { kind: 'fatal', tag: 'invalid_order' },
  // A create refused as a duplicate clientOrderId was not placed. Bosun sends each clientOrderId once and never
  // re-sends a create, so the id belongs to another order (an old instance's, a restored backup's): looking it
  // up would resolve our intent to someone else's order and overwrite its record.
  DuplicateOrderId: { kind: 'fatal', tag: 'duplicate' },
  ContractUnavailable: { kind: 'fatal', tag: 'invalid_order' },
  NotSupported: { kind: 'fatal', tag: 'unsupported' },
  InvalidProxySettings: { kind: 'fatal', tag: 'internal' },
  ExchangeClosedByUser: { kind: 'fatal', tag: 'internal' },
  // Binance -1001/-1008 (internal error, overloaded) land here, *not* under NetworkError: execution unknown.
  OperationFailed: { kind: 'retryable', tag: 'unavailable', createUnknown: true },
  NetworkError: { kind: 'retryable', tag: 'network', createUnknown: true },
  // Binance 429 *and* 418 both arrive as DDoSProtection; the HTTP status splits them below. Refused before
  // execution, so a create that got one was not placed.
  DDoSProtection: { kind: 'retryable', tag: 'rate_limit' },
  RateLimitExceeded: { kind: 'retryable', tag: 'rate_limit' },
  // 5xx: Binance documents the execution status as unknown.
  ExchangeNotAvailable: { kind: 'retryable', tag: 'unavailable', createUnknown: true },
  OnMaintenance: { kind: 'retryable', tag: 'unavailable', createUnknown: true },
  // Binance -1021 (clock skew) / Kraken nonce: refused before execution; the conn actor resyncs the clock.
  InvalidNonce: { kind: 'retryable', tag: 'nonce' },
  ChecksumError: { kind: 'retryable', tag: 'bad_response' },
  RequestTimeout: { kind: 'retryable', tag: 'timeout', createUnknown: true },
  BadResponse: { kind: 'retryable', tag: 'bad_response', createUnknown: true },
  NullResponse: { kind: 'retryable', tag: 'bad_response', createUnknown: true },
  CancelPending: { kind: 'retryable', tag: 'unavailable', createUnknown: true },
  UnsubscribeError: { kind: 'fatal', tag: 'internal' },
} as const satisfies Record<CcxtErrorName, Rule>;

/**
 * Venue strings ccxt leaves as a bare ExchangeError (reference §3, "bare ExchangeError") that we know better.
 * Checked only when the error is exactly ExchangeError.
 */
const UNMAPPED_MESSAGES: ReadonlyArray<{ pattern: RegExp; rule: Rule }> = [
  { pattern: /EAPI:Invalid signature/, rule: { kind: 'fatal', tag: 'auth' } },
  { pattern: /EService:Throttled/, rule: { kind: 'retryable', tag: 'rate_limit' } },
  { pattern: /EOrder:Cost minimum not met|EOrder:Invalid price/, rule: { kind: 'fatal', tag: 'invalid_order' } },
];

/** Thrown by the paper-mode fetch guard; never retry, the configuration is wrong. */
export class LoopbackViolation extends Error {
  override readonly name = 'LoopbackViolation';
}

/** Thrown when ccxt returned something that does not validate (ccxt returns empty objects on garbage). */
export class BadVenueResponse extends Error {
  override readonly name = 'BadResponse';
}

const RULE_BY_CTOR = new Map<unknown, { name: string; rule: Rule }>(
  (Object.keys(CCXT_ERROR_RULES) as CcxtErrorName[]).map((name) => [
    (ccxt as unknown as Record<CcxtErrorName, unknown>)[name],
    { name, rule: CCXT_ERROR_RULES[name] },
  ]),
);

/** Walks the prototype chain to the nearest classified ccxt class, so a subclass inherits its parent's rule. */
function ccxtRule(e: object): { name: string; rule: Rule } | undefined {
  for (let p = Object.getPrototypeOf(e); p !== null; p = Object.getPrototypeOf(p)) {
    const hit = RULE_BY_CTOR.get(p.constructor);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** ccxt puts the status in the message: `binance 418 I'm a teapot …` or `kraken GET http://… 429 Too Many …`. */
function statusFromMessage(message: string): number | undefined {
  const m = /^\S+ (?:(?:GET|POST|PUT|DELETE|PATCH) \S+ )?([1-5]\d\d) /.exec(message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

function retryAfterFromMessage(message: string): number | undefined {
  // Binance -1003 ban text: "IP banned until 1700000000000."
  const m = /banned until (\d{12,14})/.exec(message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * A create refused because its client id is already taken: Binance spot -2010 "Duplicate order sent.", USDⓈ-M
 * -4116, Kraken `Invalid arguments:cl_ord_id` (our ids are valid UUIDs, so only a clash is left). The venue did
 * not place it; the order that holds the id is not this intent's (see DuplicateOrderId).
 */
const DUPLICATE_ID = /Duplicate order sent|ClientOrderId is duplicated|Invalid arguments:cl_ord_id/;

function refine(name: string, rule: Rule, message: string, status: number | undefined): Rule {
  if (rule.kind === 'fatal' && DUPLICATE_ID.test(message)) return CCXT_ERROR_RULES.DuplicateOrderId;
  if (name === 'ExchangeError') {
    for (const u of UNMAPPED_MESSAGES) if (u.pattern.test(message)) return u.rule;
  }
  if (name === 'DDoSProtection') {
    // Binance -2015 after a successful private call comes back as DDoSProtection: a revoked key, an IP
    // whitelist change or a temporary ban. Halting is the fail-closed reading.
    if (/"code":\s*-2015/.test(message)) return { kind: 'fatal', tag: 'auth' };
    if (status === 418 || /Temporary lockout|banned until/i.test(message)) return { kind: 'retryable', tag: 'ban' };
  }
  return rule;
}

/** Maps anything thrown by a venue call to its kind, stable code, tag and reason. */
export function classifyVenueError(e: unknown, op: VenueOp = 'read', now: number = Date.now()): VenueErrorInfo {
  const reason = errorMessage(e).slice(0, 500);
  if (e instanceof LoopbackViolation) return { kind: 'fatal', code: 'LoopbackViolation', tag: 'blocked', reason };
  if (e instanceof VenueError) return e.info;
  if (e instanceof BudgetExhausted) {
    // Our own budget said no: nothing was sent, so even a create is a plain (retryable) refusal.
    const info: VenueErrorInfo = { kind: 'retryable', code: 'BudgetExhausted', tag: 'rate_limit', reason };
    if (Number.isFinite(e.retryInMs)) info.retryAfterMs = Math.ceil(e.retryInMs);
    return info;
  }
  let code: string;
  let rule: Rule;
  const hit = typeof e === 'object' && e !== null ? ccxtRule(e) : undefined;
  const status = statusFromMessage(reason);
  if (hit !== undefined) {
    code = e instanceof Error && e.name !== 'Error' ? e.name : hit.name;
    rule = refine(hit.name, hit.rule, reason, status);
  } else if (e instanceof BadVenueResponse) {
    code = 'BadResponse';
    rule = CCXT_ERROR_RULES.BadResponse;
  } else if (e instanceof TypeError || e instanceof SyntaxError) {
    // ccxt's parsers throw TypeError on a 200 with an HTML/truncated body (Binance createOrder): garbage in.
    code = e.name;
    rule = { kind: 'retryable', tag: 'bad_response', createUnknown: true };
  } else {
    code = e instanceof Error ? e.name : 'Unknown';
    rule = { kind: 'fatal', tag: 'internal', createUnknown: true };
  }
  const kind: ErrorKind = op === 'create' && rule.createUnknown === true ? 'unknown_outcome' : rule.kind;
  const info: VenueErrorInfo = { kind, code, tag: rule.tag, reason };
  if (status !== undefined) info.httpStatus = status;
  const until = retryAfterFromMessage(reason);
  if (until !== undefined) info.retryAfterMs = Math.max(0, until - now);
  return info;
}

/** A local refusal (nothing was sent): fatal with the given code and tag. */
export function localError(code: string, tag: ErrorTag, reason: string): VenueErrorInfo {
  return { kind: 'fatal', code, tag, reason };
}

/** The AppError catalogue code for a classification (only the HTTP plugin maps codes to statuses). */
export function appCodeFor(info: VenueErrorInfo): ErrorCode {
  if (info.tag === 'rate_limit' || info.tag === 'ban') return 'RATE_LIMITED';
  if (info.kind === 'fatal') return 'VENUE_REJECTED';
  return 'VENUE_UNAVAILABLE';
}

/** The error every VenueGateway read throws: an AppError carrying its classification. */
export class VenueError extends AppError {
  readonly info: VenueErrorInfo;
  readonly venue: string;

  constructor(venue: string, info: VenueErrorInfo, cause?: unknown) {
    super(appCodeFor(info), `${venue}: ${info.code}: ${info.reason}`, {
      cause,
      details: { venue, kind: info.kind, tag: info.tag, code: info.code },
    });
    this.info = info;
    this.venue = venue;
  }
}

/** True for a VenueError (or anything carrying `info.kind`). */
/** A refusal by our own request budget (BudgetExhausted): nothing was sent. */
export function isLocalRefusal(info: VenueErrorInfo): boolean {
  return info.code === 'BudgetExhausted';
}

export function isVenueError(e: unknown): e is VenueError {
  return e instanceof VenueError;
}
