/**
 * Kraken's REST dialect: `/0/public/<Method>` (GET or POST) and `/0/private/<Method>` (POST, form body).
 * Private calls are checked in Kraken's order — API-Key known (`EAPI:Invalid key`), API-Sign over the raw
 * body (`EAPI:Invalid signature`), nonce strictly increasing per key (`EAPI:Invalid nonce`) — and every method
 * rejects parameters it does not know (`EGeneral:Invalid arguments`). Errors are `{"error":[…]}` with HTTP 200,
 * as Kraken answers them.
 */
import { randomBytes } from 'node:crypto';

import { fmt } from '../../domain/precision.js';
import type { Account, AccountBook } from './accounts.js';
import { candles } from './candles.js';
import type { FaultInfo } from './faults.js';
import { htmlPage, json, parseForm, type SimRequest, type SimResponse } from './http-types.js';
import { decimalsOf, krakenAltname, krakenAssetId, type MarketDef } from './instruments.js';
import type { KrakenGate } from './kraken-gate.js';
import { krakenPrivateMethods } from './kraken-private.js';
import type { Market } from './market.js';
import type { MatchingEngine } from './matching-engine.js';
import type { DialectContext, VenueDialect } from './server.js';
import { verifyKraken } from './signatures.js';

/** A Kraken error string (`EOrder:Insufficient funds`) raised by a method. */
export class KrakenError extends Error {
  override readonly name = 'KrakenError';
}

export interface KrakenDeps {
  market: Market;
  engine: MatchingEngine;
  now: () => number;
  /** The documented REST and trading rate limits per API key (kraken-gate.ts); absent: not enforced. */
  gate?: KrakenGate;
}

export interface KrakenCall {
  params: Map<string, string>;
  account: Account | undefined;
  ctx: DialectContext;
}

export interface KrakenMethod {
  params: readonly string[];
  run(c: KrakenCall): unknown;
}

export const pairDecimals = (m: MarketDef) => decimalsOf(m.tickSize);

/** Resolves `pair` given as id (`XXBTZUSD`) or altname (`XBTUSD`). */
export function krakenPair(d: KrakenDeps, id: string): MarketDef {
  const m =
    d.market.market('kraken', 'spot', id.toUpperCase()) ??
    d.market.market('kraken', 'spot', id.toUpperCase().replace('/', ''));
  if (m === undefined) throw new KrakenError('EQuery:Unknown asset pair');
  return m;
}

function pairs(d: KrakenDeps, raw: string | undefined): MarketDef[] {
  if (raw === undefined || raw === '') return d.market.markets('kraken', 'spot');
  return raw.split(',').map((p) => krakenPair(d, p));
}

function publicMethods(d: KrakenDeps): Record<string, KrakenMethod> {
  const assets = () => {
    const codes = new Set<string>();
    for (const m of d.market.markets('kraken', 'spot')) {
      codes.add(m.base);
      codes.add(m.quote);
    }
    return [...codes];
  };
  return {
    Time: {
      params: [],
      run: ({ ctx }) => {
        const t = ctx.authNow();
        return { unixtime: Math.floor(t / 1000), rfc1123: new Date(t).toUTCString().replace('GMT', '+0000') };
      },
    },
    SystemStatus: {
      params: [],
      run: () => ({ status: 'online', timestamp: new Date(d.now()).toISOString().replace(/\.\d+Z$/, 'Z') }),
    },
    Assets: {
      params: ['asset', 'aclass'],
      run: () =>
        Object.fromEntries(
          assets().map((code) => [
            krakenAssetId(code),
            {
              aclass: 'currency',
              altname: krakenAltname(code),
              decimals: code === 'USD' ? 4 : 10,
              display_decimals: code === 'USD' ? 2 : 5,
              status: 'enabled',
            },
          ]),
        ),
    },
    AssetPairs: {
      params: ['pair', 'info', 'country_code', 'assetVersion'],
      run: ({ params }) =>
        Object.fromEntries(
          pairs(d, params.get('pair')).map((m) => [
            m.id,
            {
              altname: m.altname,
              wsname: m.wsname,
              aclass_base: 'currency',
              base: m.baseId,
              aclass_quote: 'currency',
              quote: m.quoteId,
              lot: 'unit',
              cost_decimals: 5,
              pair_decimals: pairDecimals(m),
              lot_decimals: 8,
              lot_multiplier: 1,
              leverage_buy: [],
              leverage_sell: [],
              fees: [[0, m.takerFee * 100]],
              fees_maker: [[0, m.makerFee * 100]],
              fee_volume_currency: 'ZUSD',
              margin_call: 80,
              margin_stop: 40,
              ordermin: String(m.minQty),
              costmin: String(m.minNotional),
              tick_size: fmt(m.tickSize, pairDecimals(m)),
              status: 'online',
            },
          ]),
        ),
    },
    Ticker: {
      params: ['pair', 'asset_class'],
      run: ({ params }) =>
        Object.fromEntries(
          pairs(d, params.get('pair')).map((m) => {
            const t = d.now();
            const s = d.market.stats(m, t);
            const b = d.market.top(m, t);
            const p = (x: number) => fmt(x, pairDecimals(m));
            const vwap = s.baseVolume > 0 ? s.quoteVolume / s.baseVolume : s.last;
            return [
              m.id,
              {
                a: [p(b.asks[0]?.price ?? s.last), '1', fmt(b.asks[0]?.qty ?? 0, 3)],
                b: [p(b.bids[0]?.price ?? s.last), '1', fmt(b.bids[0]?.qty ?? 0, 3)],
                c: [p(s.last), fmt(m.minQty, 8)],
                v: [fmt(s.baseVolume, 8), fmt(s.baseVolume, 8)],
                p: [p(vwap), p(vwap)],
                t: [s.trades, s.trades],
                l: [p(s.low), p(s.low)],
                h: [p(s.high), p(s.high)],
                o: p(s.open),
              },
            ];
          }),
        ),
    },
    Depth: {
      params: ['pair', 'count', 'asset_class'],
      run: ({ params }) => {
        const m = krakenPair(d, params.get('pair') ?? '');
        const count = Number(params.get('count') ?? 100);
        const t = d.now();
        const b = d.market.book(m, t);
        const ts = Math.floor(t / 1000);
        const lvl = (l: { price: number; qty: number }) => [fmt(l.price, pairDecimals(m)), fmt(l.qty, 8), ts];
        return { [m.id]: { asks: b.asks.slice(0, count).map(lvl), bids: b.bids.slice(0, count).map(lvl) } };
      },
    },
    Trades: {
      params: ['pair', 'since', 'count', 'asset_class'],
      // The simulator's public tape (tape.ts): `[price, volume, time (s), side b|s (the aggressor), ord_type, misc,
      // trade_id]`, oldest first; without `since` the most recent `count` (default and most 1,000), with it the
      // first `count` after it (seconds, or the nanosecond `last` a previous answer gave, as Kraken takes both).
      run: ({ params }) => {
        const m = krakenPair(d, params.get('pair') ?? '');
        const count = Number(params.get('count') ?? 1000);
        if (!Number.isInteger(count) || count < 1) throw new KrakenError('EGeneral:Invalid arguments:count');
        const raw = params.get('since');
        const since = raw === undefined ? undefined : Number(raw);
        if (since !== undefined && !Number.isFinite(since)) throw new KrakenError('EGeneral:Invalid arguments:since');
        const sinceMs = since === undefined ? undefined : since > 1e14 ? since / 1e6 : since * 1000;
        const limit = Math.min(count, 1000);
        const prints =
          sinceMs === undefined
            ? d.engine.tape.recent(m, { limit })
            : d.engine.tape
                .recent(m, { limit: 1000 })
                .filter((p) => p.time > sinceMs)
                .slice(0, limit);
        const px = (x: number) => fmt(x, pairDecimals(m));
        const rows = prints.map((p) => [
          px(p.price),
          fmt(p.qty, 8),
          p.time / 1000,
          p.buyerMaker ? 's' : 'b',
          'm',
          '',
          p.id,
        ]);
        const lastMs = prints.at(-1)?.time ?? sinceMs ?? d.now();
        return { [m.id]: rows, last: (BigInt(Math.floor(lastMs)) * 1_000_000n).toString() };
      },
    },
    OHLC: {
      params: ['pair', 'interval', 'since', 'asset_class'],
      // Kraken keeps only the 720 most recent entries of any interval, whatever `since` says; the last one is
      // the frame in progress, and `last` is the newest committed one (the next poll's `since`).
      run: ({ params }) => {
        const m = krakenPair(d, params.get('pair') ?? '');
        const per = Number(params.get('interval') ?? 1);
        if (!OHLC_INTERVALS.includes(per)) throw new KrakenError('EGeneral:Invalid arguments:interval');
        const since = Number(params.get('since') ?? 0);
        if (!Number.isFinite(since)) throw new KrakenError('EGeneral:Invalid arguments:since');
        const t = d.now();
        const perMs = per * 60_000;
        const to = Math.floor(t / perMs) * perMs;
        const px = (x: number) => fmt(x, pairDecimals(m));
        const rows = candles(d.market, m, per, to - (OHLC_MAX_ENTRIES - 1) * perMs, to, t);
        const out = rows
          .filter((c) => c.openTime / 1000 > since)
          .map((c) => [
            c.openTime / 1000,
            px(c.open),
            px(c.high),
            px(c.low),
            px(c.close),
            px((c.open + c.close) / 2),
            fmt(c.volume, 8),
            c.trades,
          ]);
        const committed = rows.length > 1 ? (rows.at(-2)?.openTime ?? 0) / 1000 : 0;
        return { [m.id]: out, last: committed };
      },
    },
  };
}

/** OHLC intervals Kraken serves (minutes). */
const OHLC_INTERVALS = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];
/** Entries Kraken's OHLC returns at most. */
export const OHLC_MAX_ENTRIES = 720;

export class KrakenDialect implements VenueDialect {
  readonly venue = 'kraken' as const;
  private readonly publicApi: Record<string, KrakenMethod>;
  private readonly privateApi: Record<string, KrakenMethod>;

  constructor(
    private readonly deps: KrakenDeps,
    private readonly accounts: AccountBook,
    /** WebSockets tokens handed out by GetWebSocketsToken, checked by the v2 stream (ws/kraken-streams.ts). */
    tokens: Map<string, { apiKey: string; expiresAt: number }> = new Map(),
  ) {
    this.publicApi = publicMethods(deps);
    this.privateApi = {
      ...krakenPrivateMethods(deps),
      // A token must be used within 15 minutes; once a subscription is made with it, it stays valid for it.
      GetWebSocketsToken: {
        params: [],
        run: ({ account }) => {
          const token = randomBytes(24).toString('base64');
          tokens.set(token, { apiKey: account?.keys.apiKey ?? '', expiresAt: Date.now() + 900_000 });
          return { token, expires: 900 };
        },
      },
    };
  }

  handles(path: string): boolean {
    return path.startsWith('/0/');
  }

  handle(req: SimRequest, ctx: DialectContext): SimResponse {
    const m = /^\/0\/(public|private)\/([A-Za-z]+)$/.exec(req.path);
    if (m === null) return htmlPage(404, 'Not Found');
    const isPrivate = m[1] === 'private';
    const method = (isPrivate ? this.privateApi : this.publicApi)[m[2] ?? ''];
    if (method === undefined) return json(404, { error: ['EGeneral:Unknown method'] });
    try {
      const raw = isPrivate || req.method === 'POST' ? req.rawBody : req.rawQuery;
      if (isPrivate && req.method !== 'POST') throw new KrakenError('EGeneral:Invalid arguments');
      const form = parseForm(raw);
      if (form === undefined) throw new KrakenError('EGeneral:Invalid arguments');
      const params = new Map(form);
      const account = isPrivate ? this.authenticate(req, params) : undefined;
      const limited = account && this.deps.gate?.chargeCall(account.keys.apiKey, m[2] ?? '');
      if (limited) throw new KrakenError(limited);
      const allowed = isPrivate ? ['nonce', 'otp', ...method.params] : method.params;
      if ([...params.keys()].some((k) => !allowed.includes(k))) throw new KrakenError('EGeneral:Invalid arguments');
      return json(200, { error: [], result: method.run({ params, account, ctx }) });
    } catch (e) {
      if (e instanceof KrakenError) return json(200, { error: [e.message] });
      throw e;
    }
  }

  renderFault(f: FaultInfo, _req: SimRequest): SimResponse {
    const s = f.spec;
    if (s.kind === 'http_429')
      return { ...htmlPage(429, 'Too Many Requests'), headers: { 'Retry-After': String(s.retryAfterSec) } };
    if (s.kind === 'http_418')
      return { ...htmlPage(418, "I'm a teapot"), headers: { 'Retry-After': String(s.retryAfterSec) } };
    if (s.kind === 'venue_error') return json(s.status ?? 200, { error: [s.error ?? 'EGeneral:Internal error'] });
    return htmlPage(500, 'Internal Server Error');
  }

  private authenticate(req: SimRequest, params: Map<string, string>): Account {
    const key = req.headers['api-key'];
    const account = typeof key === 'string' ? this.accounts.get(key) : undefined;
    if (account === undefined || account.venue !== 'kraken') throw new KrakenError('EAPI:Invalid key');
    const nonce = params.get('nonce');
    const sign = req.headers['api-sign'];
    if (
      !verifyKraken(
        account.keys.secret,
        req.path,
        nonce ?? '',
        req.rawBody,
        typeof sign === 'string' ? sign : undefined,
      )
    )
      throw new KrakenError('EAPI:Invalid signature');
    if (nonce === undefined || !/^\d{1,30}$/.test(nonce)) throw new KrakenError('EAPI:Invalid nonce');
    const n = BigInt(nonce);
    if (n <= account.lastNonce) throw new KrakenError('EAPI:Invalid nonce');
    account.lastNonce = n;
    return account;
  }
}
