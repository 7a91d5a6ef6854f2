/**
 * Binance public market data, spot (`/api/v3`) and USDⓈ-M (`/fapi/v1`): ping, time, exchangeInfo, depth,
 * 24 h tickers, price and book tickers, recent and aggregate trades (the tape, tape.ts), klines. Futures tickers carry no bid/ask (ccxt tells spot from
 * contract tickers by `bidQty`).
 */

import { fmt } from '../../domain/precision.js';
import { BinanceError, binanceErrors } from './binance-errors.js';
import type { BinanceEndpoint, DialectDeps, Params } from './binance-gate.js';
import { candles } from './candles.js';
import type { MarketDef, MarketKind } from './instruments.js';

export interface MarketDataSpec {
  kind: MarketKind;
  /** `/api/v3` or `/fapi/v1`. */
  prefix: string;
  symbolInfo(m: MarketDef): unknown;
  /** Extra top-level exchangeInfo fields (rate limits, futures assets). */
  infoExtra(): Record<string, unknown>;
}

const INTERVAL_MIN: Record<string, number> = {
  '1m': 1,
  '3m': 3,
  '5m': 5,
  '15m': 15,
  '30m': 30,
  '1h': 60,
  '2h': 120,
  '4h': 240,
  '6h': 360,
  '8h': 480,
  '12h': 720,
  '1d': 1440,
};

function decimalsFor(m: MarketDef, x: number): string {
  return fmt(x, m.kind === 'spot' ? 8 : Math.max(2, Math.round(-Math.log10(m.tickSize))));
}

function qtyFmt(m: MarketDef, x: number): string {
  return fmt(x, m.kind === 'spot' ? 8 : Math.max(0, Math.round(-Math.log10(m.stepSize))));
}

/** `symbols=["BTCUSDT","ETHUSDT"]` → ids, or -1100/-1121. */
function symbolList(p: Params): string[] | undefined {
  const raw = p.str('symbols');
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new BinanceError(
      -1100,
      'Illegal characters found in parameter \'symbols\'; legal range is \'^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$\'.',
    );
  }
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw binanceErrors.invalidSymbol();
  return v as string[];
}

export function marketDataEndpoints(d: DialectDeps, spec: MarketDataSpec): BinanceEndpoint[] {
  const { kind, prefix } = spec;
  const all = () => d.market.markets('binance', kind);
  const one = (id: string) => {
    const m = d.market.market('binance', kind, id);
    if (m === undefined) throw binanceErrors.invalidSymbol();
    return m;
  };
  const selected = (p: Params): MarketDef[] | MarketDef => {
    const list = symbolList(p);
    if (list !== undefined) return list.map(one);
    const s = p.str('symbol');
    return s === undefined ? all() : one(s);
  };
  const ticker = (m: MarketDef) => {
    const t = d.now();
    const s = d.market.stats(m, t);
    const change = s.last - s.open;
    const base = {
      symbol: m.id,
      priceChange: decimalsFor(m, change),
      priceChangePercent: fmt((change / s.open) * 100, 3),
      weightedAvgPrice: decimalsFor(m, s.baseVolume > 0 ? s.quoteVolume / s.baseVolume : s.last),
      ...(kind === 'spot' ? { prevClosePrice: decimalsFor(m, s.open) } : {}),
      lastPrice: decimalsFor(m, s.last),
      lastQty: qtyFmt(m, m.minQty),
    };
    const book = kind === 'spot' ? d.market.top(m, t) : undefined;
    const top =
      book === undefined
        ? {}
        : {
            bidPrice: decimalsFor(m, book.bids[0]?.price ?? s.last),
            bidQty: qtyFmt(m, book.bids[0]?.qty ?? 0),
            askPrice: decimalsFor(m, book.asks[0]?.price ?? s.last),
            askQty: qtyFmt(m, book.asks[0]?.qty ?? 0),
          };
    return {
      ...base,
      ...top,
      openPrice: decimalsFor(m, s.open),
      highPrice: decimalsFor(m, s.high),
      lowPrice: decimalsFor(m, s.low),
      volume: qtyFmt(m, s.baseVolume),
      quoteVolume: fmt(s.quoteVolume, 8),
      openTime: s.openTime,
      closeTime: s.closeTime,
      firstId: 1,
      lastId: s.trades,
      count: s.trades,
    };
  };
  const each = <T>(sel: MarketDef[] | MarketDef, f: (m: MarketDef) => T) => (Array.isArray(sel) ? sel.map(f) : f(sel));
  return [
    { method: 'GET', path: `${prefix}/ping`, weight: 1, signed: false, params: [], run: () => ({}) },
    {
      method: 'GET',
      path: `${prefix}/time`,
      weight: 1,
      signed: false,
      params: [],
      run: (c) => ({ serverTime: c.ctx.authNow() }),
    },
    {
      method: 'GET',
      path: `${prefix}/exchangeInfo`,
      weight: kind === 'spot' ? 20 : 1,
      signed: false,
      params: kind === 'spot' ? ['symbol', 'symbols', 'permissions', 'showPermissionSets', 'symbolStatus'] : [],
      run: ({ params }) => {
        for (const k of ['permissions', 'showPermissionSets', 'symbolStatus']) params.str(k);
        const sel = kind === 'spot' ? selected(params) : all();
        const markets = Array.isArray(sel) ? sel : [sel];
        return {
          timezone: 'UTC',
          serverTime: d.now(),
          ...spec.infoExtra(),
          exchangeFilters: [],
          symbols: markets.map((m) => spec.symbolInfo(m)),
        };
      },
    },
    {
      method: 'GET',
      path: `${prefix}/depth`,
      weight: (p) => depthWeight(kind, Number(p.str('limit') ?? 100)),
      signed: false,
      params: ['symbol', 'limit'],
      run: ({ params }) => {
        const m = one(params.required('symbol'));
        const limit = params.int('limit') ?? 100;
        if (limit < 1 || limit > 5000) throw new BinanceError(-1100, "Illegal characters found in parameter 'limit'.");
        const t = d.now();
        const book = d.market.book(m, t);
        const lvl = (l: { price: number; qty: number }) => [decimalsFor(m, l.price), qtyFmt(m, l.qty)];
        return {
          lastUpdateId: d.market.currentStep + 1,
          ...(kind === 'perp' ? { E: t, T: t } : {}),
          bids: book.bids.slice(0, limit).map(lvl),
          asks: book.asks.slice(0, limit).map(lvl),
        };
      },
    },
    {
      method: 'GET',
      path: `${prefix}/ticker/24hr`,
      weight: (p) => tickerWeight(kind, p),
      signed: false,
      params: kind === 'spot' ? ['symbol', 'symbols', 'type'] : ['symbol'],
      run: ({ params }) => {
        params.str('type');
        return each(selected(params), ticker);
      },
    },
    {
      method: 'GET',
      path: `${prefix}/ticker/price`,
      weight: (p) => (p.has('symbol') ? 2 : 4),
      signed: false,
      params: kind === 'spot' ? ['symbol', 'symbols'] : ['symbol'],
      run: ({ params }) =>
        each(selected(params), (m) => ({
          symbol: m.id,
          price: decimalsFor(m, d.market.fair(m, d.now())),
          ...(kind === 'perp' ? { time: d.now() } : {}),
        })),
    },
    {
      method: 'GET',
      path: `${prefix}/ticker/bookTicker`,
      weight: (p) => (p.has('symbol') ? 2 : 4),
      signed: false,
      params: kind === 'spot' ? ['symbol', 'symbols'] : ['symbol'],
      run: ({ params }) =>
        each(selected(params), (m) => {
          const b = d.market.top(m, d.now());
          return {
            symbol: m.id,
            bidPrice: decimalsFor(m, b.bids[0]?.price ?? 0),
            bidQty: qtyFmt(m, b.bids[0]?.qty ?? 0),
            askPrice: decimalsFor(m, b.asks[0]?.price ?? 0),
            askQty: qtyFmt(m, b.asks[0]?.qty ?? 0),
            ...(kind === 'perp' ? { time: d.now() } : {}),
          };
        }),
    },
    {
      // Recent trades, newest `limit` (default 500, at most 1,000), oldest first.
      method: 'GET',
      path: `${prefix}/trades`,
      weight: kind === 'spot' ? 25 : 5,
      signed: false,
      params: ['symbol', 'limit'],
      run: ({ params }) => {
        const m = one(params.required('symbol'));
        const limit = tradesLimit(params);
        return d.engine.tape.recent(m, { limit }).map((p) => ({
          id: p.id,
          price: decimalsFor(m, p.price),
          qty: qtyFmt(m, p.qty),
          quoteQty: fmt(p.price * p.qty, 8),
          time: p.time,
          isBuyerMaker: p.buyerMaker,
          ...(kind === 'spot' ? { isBestMatch: true } : {}),
        }));
      },
    },
    {
      // Aggregate trades (ccxt's fetchTrades): one print is one aggregate here (`f` = `l`).
      method: 'GET',
      path: `${prefix}/aggTrades`,
      weight: kind === 'spot' ? 4 : 20,
      signed: false,
      params: ['symbol', 'fromId', 'startTime', 'endTime', 'limit'],
      run: ({ params }) => {
        const m = one(params.required('symbol'));
        const limit = tradesLimit(params);
        const fromId = params.int('fromId');
        const startTime = params.int('startTime');
        const endTime = params.int('endTime');
        if (
          startTime !== undefined &&
          endTime !== undefined &&
          (endTime < startTime || endTime - startTime > 3_600_000)
        )
          throw new BinanceError(-1127, 'More than 1 hours between startTime and endTime.');
        return d.engine.tape
          .recent(m, {
            limit,
            ...(fromId !== undefined ? { fromId } : {}),
            ...(startTime !== undefined ? { startTime } : {}),
            ...(endTime !== undefined ? { endTime } : {}),
          })
          .map((p) => ({
            a: p.id,
            p: decimalsFor(m, p.price),
            q: qtyFmt(m, p.qty),
            f: p.id,
            l: p.id,
            T: p.time,
            m: p.buyerMaker,
            ...(kind === 'spot' ? { M: true } : {}),
          }));
      },
    },
    {
      method: 'GET',
      path: `${prefix}/klines`,
      weight: (p) => klinesWeight(kind, Math.min(Number(p.str('limit') ?? 500), klinesMaxLimit(kind))),
      signed: false,
      params: ['symbol', 'interval', 'startTime', 'endTime', 'limit', 'timeZone'],
      run: ({ params }) => {
        const m = one(params.required('symbol'));
        const per = INTERVAL_MIN[params.required('interval')];
        if (per === undefined) throw new BinanceError(-1120, 'Invalid interval.');
        params.str('timeZone');
        return klines(d, kind, m, per, params);
      },
    },
  ];
}

function tradesLimit(p: Params): number {
  const limit = p.int('limit') ?? 500;
  if (limit < 1 || limit > 1000) throw new BinanceError(-1100, "Illegal characters found in parameter 'limit'.");
  return limit;
}

/**
 * GET klines: Binance's selection rules. With startTime, the first `limit` candles from it (up to endTime); else
 * the last `limit` up to endTime (or now). `limit` defaults to 500 and is capped at the venue's maximum (spot
 * 1,000, USDⓈ-M 1,500). The last candle may be the one still open.
 */
function klines(d: DialectDeps, kind: MarketKind, m: MarketDef, per: number, p: Params): unknown[][] {
  const t = d.now();
  const perMs = per * 60_000;
  const start = p.int('startTime');
  const end = p.int('endTime');
  const limit = Math.max(1, Math.min(p.int('limit') ?? 500, klinesMaxLimit(kind)));
  if (start !== undefined && end !== undefined && start > end)
    throw new BinanceError(-1023, 'Start time is greater than end time.');
  const to =
    start === undefined ? (end ?? t) : Math.min(end ?? t, Math.ceil(start / perMs) * perMs + (limit - 1) * perMs);
  const from = start ?? Math.floor(to / perMs) * perMs - (limit - 1) * perMs;
  return candles(d.market, m, per, from, to, t)
    .slice(0, limit)
    .map((c) => [
      c.openTime,
      decimalsFor(m, c.open),
      decimalsFor(m, c.high),
      decimalsFor(m, c.low),
      decimalsFor(m, c.close),
      qtyFmt(m, c.volume),
      c.openTime + perMs - 1,
      fmt(c.volume * c.close, 8),
      c.trades,
      qtyFmt(m, c.volume / 2),
      fmt((c.volume * c.close) / 2, 8),
      '0',
    ]);
}

/** Most candles one klines request returns (spot 1,000, USDⓈ-M 1,500). */
export function klinesMaxLimit(kind: MarketKind): number {
  return kind === 'perp' ? 1500 : 1000;
}

/** Klines weight: spot 2 whatever the limit; USDⓈ-M by limit (1 / 2 / 5 / 10 at <100 / <500 / ≤1000 / more). */
export function klinesWeight(kind: MarketKind, limit: number): number {
  if (kind !== 'perp') return 2;
  return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

function depthWeight(kind: MarketKind, limit: number): number {
  if (kind === 'perp') return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
  return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

function tickerWeight(kind: MarketKind, p: Params): number {
  if (kind === 'perp') return p.has('symbol') ? 1 : 40;
  if (p.has('symbol')) return 2;
  if (!p.has('symbols')) return 80;
  let n = 1;
  try {
    const v: unknown = JSON.parse(p.str('symbols') ?? '[]');
    n = Array.isArray(v) ? v.length : 1;
  } catch {
    // malformed: symbolList() answers -1100 when the endpoint runs
  }
  return n <= 20 ? 2 : n <= 100 ? 40 : 80;
}
