/**
 * The Binance front door shared by spot and USDⓈ-M: endpoint lookup, request-weight accounting per IP and
 * minute (429 with Retry-After, then a 418 ban when the client keeps going), strict parameter parsing
 * (duplicates -1101, unknown parameters -1104, bad decimals -1100), and signed-request checks (X-MBX-APIKEY,
 * HMAC over the raw totalParams, timestamp within recvWindow of the venue clock).
 */

import { parseDecimal } from '../../domain/precision.js';
import type { Account, AccountBook } from './accounts.js';
import { BinanceError, binanceErrors } from './binance-errors.js';
import type { FaultInfo } from './faults.js';
import { htmlPage, json, parseForm, type SimRequest, type SimResponse } from './http-types.js';
import type { Market } from './market.js';
import type { MatchingEngine } from './matching-engine.js';
import type { DialectContext, VenueDialect } from './server.js';
import { verifyBinance } from './signatures.js';

export class Params {
  private readonly read = new Set<string>();

  constructor(private readonly map: Map<string, string>) {}

  has(k: string): boolean {
    return this.map.has(k) && this.map.get(k) !== '';
  }

  str(k: string): string | undefined {
    this.read.add(k);
    const v = this.map.get(k);
    return v === '' ? undefined : v;
  }

  required(k: string): string {
    const v = this.str(k);
    if (v === undefined) throw binanceErrors.mandatory(k);
    return v;
  }

  decimal(k: string): number | undefined {
    const s = this.str(k);
    if (s === undefined) return undefined;
    const v = parseDecimal(s);
    if (v === undefined) throw binanceErrors.illegalChars(k);
    return v;
  }

  int(k: string): number | undefined {
    const s = this.str(k);
    if (s === undefined) return undefined;
    if (!/^-?\d{1,19}$/.test(s)) throw binanceErrors.illegalChars(k);
    return Number(s);
  }

  bool(k: string): boolean | undefined {
    const s = this.str(k);
    if (s === undefined) return undefined;
    if (s !== 'true' && s !== 'false') throw new BinanceError(-1130, `Data sent for parameter '${k}' is not valid.`);
    return s === 'true';
  }

  keys(): string[] {
    return [...this.map.keys()];
  }
}

/** What Binance endpoints work on. */
export interface DialectDeps {
  market: Market;
  engine: MatchingEngine;
  now: () => number;
}

let autoIds = 0;
/** A venue-made client id for orders sent without one (Binance makes one too). */
export function autoClientId(): string {
  return `web_${(++autoIds).toString(36).padStart(8, '0')}`;
}

export interface BinanceCall {
  params: Params;
  /** The signed caller (signed endpoints only). */
  account: Account | undefined;
  ctx: DialectContext;
}

export interface BinanceEndpoint {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  path: string;
  /** Request weight, possibly depending on parameters (depth by limit, tickers with/without symbol). */
  weight: number | ((p: Params) => number);
  signed: boolean;
  /**
   * USER_STREAM security (the listenKey endpoints): the API key in X-MBX-APIKEY names the account, with no
   * signature or timestamp (Binance "Endpoint security type"). `signed` is false for these.
   */
  apiKeyOnly?: boolean;
  /** Accepted parameters besides timestamp, recvWindow and signature. */
  params: readonly string[];
  run(c: BinanceCall): unknown;
}

export interface BinanceLimits {
  /** REQUEST_WEIGHT per minute per IP, spot (`/api`) and USDⓈ-M (`/fapi`) counted apart. */
  spotWeightPerMinute: number;
  futuresWeightPerMinute: number;
  /** 429s tolerated in one minute before the IP is banned with 418. */
  banAfter429s: number;
  /** First ban length; each further ban doubles it (Binance: 2 min up to 3 days). */
  banMs: number;
}

export const DEFAULT_BINANCE_LIMITS: BinanceLimits = {
  spotWeightPerMinute: 6000,
  futuresWeightPerMinute: 2400,
  banAfter429s: 3,
  banMs: 120_000,
};

interface WeightWindow {
  minute: number;
  used: number;
  rejected: number;
  bannedUntil: number;
  bans: number;
}

const SIGNED_PARAMS = ['timestamp', 'recvWindow', 'signature'];

export class BinanceDialect implements VenueDialect {
  readonly venue = 'binance' as const;
  limits: BinanceLimits = { ...DEFAULT_BINANCE_LIMITS };
  private readonly routes = new Map<string, BinanceEndpoint>();
  private windows = new Map<string, WeightWindow>();

  constructor(
    endpoints: readonly BinanceEndpoint[],
    private readonly accounts: AccountBook,
    private readonly simNow: () => number,
  ) {
    for (const e of endpoints) this.routes.set(`${e.method} ${e.path}`, e);
  }

  handles(path: string): boolean {
    return /^\/(api|fapi|sapi|dapi|eapi|papi|futures)\//.test(path);
  }

  resetLimits(): void {
    this.windows.clear();
  }

  handle(req: SimRequest, ctx: DialectContext): SimResponse {
    const e = this.routes.get(`${req.method} ${req.path}`);
    if (e === undefined) return htmlPage(404, 'Not Found');
    const family = req.path.startsWith('/fapi/') ? 'fapi' : 'api';
    let params: Params | undefined;
    try {
      params = parseParams(req);
      const used = this.charge(
        `${family}|${req.ip}`,
        typeof e.weight === 'number' ? e.weight : e.weight(params),
        family,
      );
      const headers = { 'X-MBX-USED-WEIGHT-1M': String(used) };
      const account = e.signed
        ? this.authenticate(req, params, e, ctx)
        : e.apiKeyOnly === true
          ? this.keyOnly(req, params, e)
          : this.unsigned(params, e);
      const body = e.run({ params, account, ctx });
      return json(200, body, headers);
    } catch (err) {
      if (err instanceof BinanceError) return err.toResponse();
      throw err;
    }
  }

  renderFault(f: FaultInfo, _req: SimRequest): SimResponse {
    const s = f.spec;
    if (s.kind === 'http_429')
      return binanceErrors.weight(this.limits.spotWeightPerMinute, s.retryAfterSec).toResponse();
    if (s.kind === 'http_418')
      return binanceErrors.banned(this.simNow() + s.retryAfterSec * 1000, s.retryAfterSec).toResponse();
    if (s.kind === 'venue_error') {
      const code = s.code ?? -1000;
      return new BinanceError(code, s.msg ?? defaultMessage(code), s.status ?? defaultStatus(code)).toResponse();
    }
    return htmlPage(500, 'Internal Server Error');
  }

  /** Charges the request's weight; throws 429 over the limit and 418 while banned or after repeated 429s. */
  private charge(key: string, weight: number, family: 'api' | 'fapi'): number {
    const now = this.simNow();
    const minute = Math.floor(now / 60_000);
    let w = this.windows.get(key);
    if (w === undefined) {
      w = { minute, used: 0, rejected: 0, bannedUntil: 0, bans: 0 };
      this.windows.set(key, w);
    }
    if (now < w.bannedUntil) throw binanceErrors.banned(w.bannedUntil, Math.ceil((w.bannedUntil - now) / 1000));
    if (w.minute !== minute) {
      w.minute = minute;
      w.used = 0;
      w.rejected = 0;
    }
    w.used += weight;
    const limit = family === 'fapi' ? this.limits.futuresWeightPerMinute : this.limits.spotWeightPerMinute;
    if (w.used <= limit) return w.used;
    w.rejected++;
    if (w.rejected > this.limits.banAfter429s) {
      const len = Math.min(this.limits.banMs * 2 ** w.bans, 3 * 86_400_000);
      w.bans++;
      w.bannedUntil = now + len;
      throw binanceErrors.banned(w.bannedUntil, Math.ceil(len / 1000));
    }
    throw binanceErrors.weight(limit, Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000)));
  }

  private unsigned(params: Params, e: BinanceEndpoint): undefined {
    checkUnknown(params, e.params);
    return undefined;
  }

  /** USER_STREAM: a known key is enough (a spot-only key is refused on /fapi, as for signed calls). */
  private keyOnly(req: SimRequest, params: Params, e: BinanceEndpoint): Account {
    const account = this.account(req);
    checkUnknown(params, e.params);
    return account;
  }

  private account(req: SimRequest): Account {
    const key = req.headers['x-mbx-apikey'];
    if (typeof key !== 'string' || key === '') throw binanceErrors.unknownKeyFormat();
    const account = this.accounts.get(key);
    if (account === undefined || account.venue !== 'binance') throw binanceErrors.invalidKey();
    if (account.spotOnly && req.path.startsWith('/fapi/')) throw binanceErrors.invalidKey();
    return account;
  }

  private authenticate(req: SimRequest, params: Params, e: BinanceEndpoint, ctx: DialectContext): Account {
    const account = this.account(req);
    checkUnknown(params, [...e.params, ...SIGNED_PARAMS]);
    const sig = verifyBinance(
      account.keys.secret,
      req.rawQuery,
      req.method === 'GET' || req.method === 'DELETE' ? '' : req.rawBody,
    );
    if (!sig.ok) throw sig.why === 'missing' ? binanceErrors.mandatory('signature') : binanceErrors.badSignature();
    const ts = params.int('timestamp');
    if (ts === undefined) throw binanceErrors.mandatory('timestamp');
    const recvWindow = params.int('recvWindow') ?? 5000;
    if (recvWindow > 60_000 || recvWindow <= 0) throw binanceErrors.recvWindow();
    const serverTime = ctx.authNow();
    if (ts >= serverTime + 1000) throw binanceErrors.tsAhead();
    if (serverTime - ts > recvWindow) throw binanceErrors.tsOutside();
    return account;
  }
}

function parseParams(req: SimRequest): Params {
  const fromQuery = parseForm(req.rawQuery);
  const fromBody = req.method === 'GET' || req.method === 'DELETE' ? [] : parseForm(req.rawBody);
  if (fromQuery === undefined || fromBody === undefined)
    throw new BinanceError(-1100, 'Illegal characters found in a parameter.');
  const map = new Map<string, string>();
  for (const [k, v] of [...fromQuery, ...fromBody]) {
    if (map.has(k)) throw binanceErrors.duplicateParam();
    map.set(k, v);
  }
  return new Params(map);
}

function checkUnknown(params: Params, allowed: readonly string[]): void {
  const sent = params.keys();
  const known = sent.filter((k) => allowed.includes(k));
  if (known.length !== sent.length) throw binanceErrors.notAllRead(known.length, sent.length);
}

const DEFAULT_MESSAGES: Record<number, [string, number]> = {
  [-1000]: ['An unknown error occurred while processing the request.', 400],
  [-1001]: ['Internal error; unable to process your request. Please try again.', 500],
  [-1003]: ['Too many requests queued.', 429],
  [-1007]: ['Timeout waiting for response from backend server. Send status unknown; execution status unknown.', 408],
  [-1008]: ['Server is currently overloaded with other requests. Please try again in a few minutes.', 503],
  [-1013]: ['Filter failure: NOTIONAL', 400],
  [-1015]: ['Too many new orders; current limit is 50 orders per 10 SECOND.', 429],
  [-1021]: ['Timestamp for this request is outside of the recvWindow.', 400],
  [-1022]: ['Signature for this request is not valid.', 400],
  [-2010]: ['Account has insufficient balance for requested action.', 400],
  [-2011]: ['Unknown order sent.', 400],
  [-2013]: ['Order does not exist.', 400],
  [-2014]: ['API-key format invalid.', 401],
  [-2015]: ['Invalid API-key, IP, or permissions for action.', 401],
  [-2019]: ['Margin is insufficient.', 400],
};

function defaultMessage(code: number): string {
  return DEFAULT_MESSAGES[code]?.[0] ?? `Simulated error ${code}.`;
}

function defaultStatus(code: number): number {
  return DEFAULT_MESSAGES[code]?.[1] ?? 400;
}
