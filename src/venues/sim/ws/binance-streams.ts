/**
 * Binance's stream dialects, as documented (binance-spot-api-docs web-socket-streams.md and
 * websocket-api/user-data-stream-requests; USDⓈ-M websocket-market-streams):
 * - market streams: `{"method":"SUBSCRIBE","params":["btcusdt@ticker"],"id":1}` answered `{"result":null,"id":1}`;
 *   `<symbol>@ticker`, `@miniTicker`, `@bookTicker` pushed every second; `<symbol>@trade` and `@aggTrade` push the
 *   tape's prints (sim/tape.ts): fills at once, the synthetic flow with each push; unknown stream names are accepted and
 *   stay quiet, as Binance does; more than 5 (spot) / 10 (USDⓈ-M) incoming messages a second, or more than
 *   1024 / 200 streams, and the connection is cut.
 * - WebSocket API: `userDataStream.subscribe.signature` (HMAC over the sorted params, timestamp in recvWindow)
 *   answered `{"id","status":200,"result":{"subscriptionId":n}}`, then `{"subscriptionId":n,"event":{…}}` with
 *   `executionReport` (NEW, TRADE, CANCELED, EXPIRED) and `outboundAccountPosition` for the spot account.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { fmt } from '../../../domain/precision.js';
import type { Account } from '../accounts.js';
import type { MarketDef } from '../instruments.js';
import type { SimOrder, SimTrade } from '../order-store.js';
import type { Print } from '../tape.js';
import type { Session, SessionLink, StreamDeps } from './stream-hub.js';

type Kind = 'spot' | 'perp';

const LIMITS: Record<Kind, { messagesPerSecond: number; streams: number }> = {
  spot: { messagesPerSecond: 5, streams: 1024 },
  perp: { messagesPerSecond: 10, streams: 200 },
};

function px(m: MarketDef, x: number): string {
  return fmt(x, m.kind === 'spot' ? 8 : Math.max(2, Math.round(-Math.log10(m.tickSize))));
}

function qty(m: MarketDef, x: number): string {
  return fmt(x, m.kind === 'spot' ? 8 : Math.max(0, Math.round(-Math.log10(m.stepSize))));
}

function tickerEvent(d: StreamDeps, m: MarketDef, channel: string): unknown {
  const t = d.now();
  const s = d.market.stats(m, t);
  if (channel === 'miniTicker') {
    return {
      e: '24hrMiniTicker',
      E: t,
      s: m.id,
      c: px(m, s.last),
      o: px(m, s.open),
      h: px(m, s.high),
      l: px(m, s.low),
      v: qty(m, s.baseVolume),
      q: fmt(s.quoteVolume, 8),
    };
  }
  const b = d.market.top(m, t);
  const bid = b.bids[0];
  const ask = b.asks[0];
  if (channel === 'bookTicker') {
    const top = {
      u: d.market.currentStep,
      s: m.id,
      b: px(m, bid?.price ?? 0),
      B: qty(m, bid?.qty ?? 0),
      a: px(m, ask?.price ?? 0),
      A: qty(m, ask?.qty ?? 0),
    };
    return m.kind === 'spot' ? top : { e: 'bookTicker', E: t, T: t, ...top };
  }
  const change = s.last - s.open;
  const common = {
    e: '24hrTicker',
    E: t,
    s: m.id,
    p: px(m, change),
    P: fmt(s.open > 0 ? (change / s.open) * 100 : 0, 3),
    w: px(m, s.baseVolume > 0 ? s.quoteVolume / s.baseVolume : s.last),
    c: px(m, s.last),
    Q: qty(m, m.minQty),
    o: px(m, s.open),
    h: px(m, s.high),
    l: px(m, s.low),
    v: qty(m, s.baseVolume),
    q: fmt(s.quoteVolume, 8),
    O: s.openTime,
    C: s.closeTime,
    F: 0,
    L: Math.max(0, s.trades - 1),
    n: s.trades,
  };
  if (m.kind !== 'spot') return common; // the USDⓈ-M ticker carries no bid/ask (that is bookTicker's)
  return {
    ...common,
    x: px(m, s.open),
    b: px(m, bid?.price ?? s.last),
    B: qty(m, bid?.qty ?? 0),
    a: px(m, ask?.price ?? s.last),
    A: qty(m, ask?.qty ?? 0),
  };
}

/** A print as Binance's `<symbol>@trade` / `@aggTrade` push it (spot carries the ignored `M`; USDⓈ-M `X`). */
function tradeEvent(d: StreamDeps, m: MarketDef, channel: 'trade' | 'aggTrade', p: Print): unknown {
  const common = { E: d.now(), s: m.id, p: px(m, p.price), q: qty(m, p.qty), T: p.time, m: p.buyerMaker };
  if (channel === 'aggTrade')
    return { e: 'aggTrade', ...common, a: p.id, f: p.id, l: p.id, ...(m.kind === 'spot' ? { M: true } : {}) };
  return { e: 'trade', ...common, t: p.id, ...(m.kind === 'spot' ? { M: true } : { X: 'MARKET' }) };
}

const TRADE_CHANNELS = new Set(['trade', 'aggTrade']);

/** A market-stream connection (`/ws/<n>` spot, `/market/ws/<n>` USDⓈ-M). */
export function binanceMarketSession(d: StreamDeps, link: SessionLink, kind: Kind): Session {
  const streams = new Set<string>();
  /** Trade streams: the last print pushed (a subscription starts at the tape's end, as on the venue). */
  const pushed = new Map<string, number>();
  const limits = LIMITS[kind];
  const tradeStream = (name: string) => {
    const [sym = '', channel = ''] = name.split('@');
    const m = d.market.market('binance', kind, sym.toUpperCase());
    return m !== undefined && TRADE_CHANNELS.has(channel) ? { m, channel: channel as 'trade' | 'aggTrade' } : undefined;
  };
  const pushTrades = () => {
    for (const [name, last] of pushed) {
      const s = tradeStream(name);
      if (s === undefined) continue;
      const prints = d.engine.tape.after(s.m, last);
      for (const p of prints) link.send(tradeEvent(d, s.m, s.channel, p));
      if (prints.length > 0) pushed.set(name, prints.at(-1)?.id ?? last);
    }
  };
  const reply = (id: unknown, result: unknown) => link.send({ result, id });
  const error = (id: unknown, code: number, msg: string) => link.send({ error: { code, msg }, id: id ?? null });
  return {
    onMessage(text) {
      if (link.rate() > limits.messagesPerSecond) return link.kill(1008, 'Too many requests');
      let msg: { method?: unknown; params?: unknown; id?: unknown };
      try {
        msg = JSON.parse(text) as typeof msg;
      } catch {
        return error(null, 3, 'Invalid JSON: expected value at line 1 column 1');
      }
      const { method, params, id } = msg;
      if (!(typeof id === 'number' && Number.isInteger(id) && id >= 0) && !(typeof id === 'string' && /^\d+$/.test(id)))
        return error(id, 2, 'Invalid request: request ID must be an unsigned integer');
      if (method === 'LIST_SUBSCRIPTIONS') return reply(id, [...streams]);
      if (method !== 'SUBSCRIBE' && method !== 'UNSUBSCRIBE')
        return error(id, 2, `Invalid request: unknown variant ${String(method)}`);
      if (!Array.isArray(params) || params.some((p) => typeof p !== 'string'))
        return error(id, 2, 'Invalid request: params must be a list of stream names');
      for (const p of params as string[]) {
        if (method === 'SUBSCRIBE') {
          streams.add(p);
          const t = tradeStream(p);
          if (t !== undefined && !pushed.has(p)) {
            d.engine.tape.watch(t.m);
            pushed.set(p, d.engine.tape.lastId(t.m));
          }
        } else {
          streams.delete(p);
          pushed.delete(p);
        }
      }
      if (streams.size > limits.streams) return link.kill(1008, 'Too many streams');
      reply(id, null);
    },
    onStep() {
      for (const name of streams) {
        const [sym = '', channel = ''] = name.split('@');
        const m = d.market.market('binance', kind, sym.toUpperCase());
        if (m === undefined || !['ticker', 'miniTicker', 'bookTicker'].includes(channel)) continue;
        link.send(tickerEvent(d, m, channel));
      }
      pushTrades();
    },
    onHeartbeat() {},
    // A fill prints at once on the trade streams, as on the venue (the synthetic flow goes out with each step).
    onEngine(e) {
      if (e.kind === 'trade') pushTrades();
    },
  };
}

const STATUS: Record<SimOrder['status'], string> = {
  new: 'NEW',
  partially_filled: 'PARTIALLY_FILLED',
  filled: 'FILLED',
  canceled: 'CANCELED',
  expired: 'EXPIRED',
  rejected: 'REJECTED',
};

function executionReport(d: StreamDeps, o: SimOrder, x: string, tr: SimTrade | undefined): unknown {
  const m = o.market;
  return {
    e: 'executionReport',
    E: d.now(),
    s: m.id,
    c: o.clientOrderId,
    S: o.side.toUpperCase(),
    o: o.venueType,
    f: o.tif,
    q: qty(m, o.qty ?? 0),
    p: px(m, o.price ?? 0),
    P: px(m, o.stopPrice ?? 0),
    F: '0.00000000',
    g: -1,
    C: x === 'CANCELED' ? o.clientOrderId : '',
    x,
    X: STATUS[o.status],
    r: 'NONE',
    i: Number(o.venueOrderId),
    l: qty(m, tr?.qty ?? 0),
    z: qty(m, o.executedQty),
    L: px(m, tr?.price ?? 0),
    n: fmt(tr?.fee ?? 0, 8),
    N: tr === undefined ? null : tr.feeAsset,
    T: tr?.time ?? o.updatedAt,
    t: tr === undefined ? -1 : tr.id,
    I: 0,
    w: o.status === 'new' && (o.stopPrice === undefined || o.triggered),
    m: tr?.maker ?? false,
    M: false,
    O: o.createdAt,
    Z: fmt(o.cumQuote, 8),
    Y: fmt(tr?.quoteQty ?? 0, 8),
    Q: fmt(o.quoteQty ?? 0, 8),
    W: o.createdAt,
    V: 'NONE',
  };
}

function accountPosition(d: StreamDeps, a: Account, assets: string[]): unknown {
  return {
    e: 'outboundAccountPosition',
    E: d.now(),
    u: a.updateTime,
    B: assets.map((asset) => {
      const b = a.spot.get(asset);
      return { a: asset, f: fmt(b?.free ?? 0, 8), l: fmt(b?.locked ?? 0, 8) };
    }),
  };
}

/** HMAC-SHA256 over `k=v&…` of every param but `signature`, sorted by key (what the WebSocket API signs). */
function signatureOk(secret: string, params: Record<string, unknown>): boolean {
  const payload = Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
  const given = Buffer.from(String(params.signature ?? ''), 'hex');
  const expected = createHmac('sha256', secret).update(payload).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A WebSocket API connection (`/ws-api/v3`): ping, time and the spot user data stream. */
export function binanceWsApiSession(d: StreamDeps, link: SessionLink): Session {
  const subs = new Map<number, Account>();
  let nextSub = 0;
  const ok = (id: unknown, result: unknown) => link.send({ id, status: 200, result, rateLimits: [] });
  const fail = (id: unknown, status: number, code: number, msg: string) =>
    link.send({ id: id ?? null, status, error: { code, msg } });
  const subscribe = (id: unknown, p: Record<string, unknown>) => {
    const account = typeof p.apiKey === 'string' ? d.accounts.get(p.apiKey) : undefined;
    if (account === undefined || account.venue !== 'binance')
      return fail(id, 401, -2015, 'Invalid API-key, IP, or permissions for action.');
    if (p.signature === undefined) return fail(id, 400, -1102, "Mandatory parameter 'signature' was not sent.");
    if (!signatureOk(account.keys.secret, p)) return fail(id, 400, -1022, 'Signature for this request is not valid.');
    const ts = Number(p.timestamp);
    const recvWindow = p.recvWindow === undefined ? 5000 : Number(p.recvWindow);
    const serverTime = d.authNow('binance');
    if (!Number.isFinite(ts) || ts >= serverTime + 1000 || serverTime - ts > recvWindow)
      return fail(id, 400, -1021, 'Timestamp for this request is outside of the recvWindow.');
    const subscriptionId = nextSub++;
    subs.set(subscriptionId, account);
    ok(id, { subscriptionId });
  };
  return {
    onMessage(text) {
      let msg: { id?: unknown; method?: unknown; params?: unknown };
      try {
        msg = JSON.parse(text) as typeof msg;
      } catch {
        return fail(null, 400, -1100, 'Illegal characters found in a parameter.');
      }
      const params = (msg.params ?? {}) as Record<string, unknown>;
      switch (msg.method) {
        case 'ping':
          return ok(msg.id, {});
        case 'time':
          return ok(msg.id, { serverTime: d.authNow('binance') });
        case 'userDataStream.subscribe.signature':
          return subscribe(msg.id, params);
        case 'userDataStream.unsubscribe': {
          const sid = Number(params.subscriptionId);
          if (!subs.delete(sid)) return fail(msg.id, 400, -2035, 'User Data Stream subscription not active.');
          return ok(msg.id, {});
        }
        default:
          return fail(msg.id, 400, -1000, `Unknown method ${String(msg.method)}`);
      }
    },
    onStep() {},
    onHeartbeat() {},
    onEngine(e) {
      const o = e.order;
      if (o.market.kind !== 'spot') return;
      let x: string | undefined;
      if (e.kind === 'new') x = 'NEW';
      else if (e.kind === 'trade') x = 'TRADE';
      else if (o.status === 'canceled') x = 'CANCELED';
      else if (o.status === 'expired') x = 'EXPIRED';
      if (x === undefined) return; // a fill's ending was already told by its TRADE report (X=FILLED)
      const report = executionReport(d, o, x, e.kind === 'trade' ? e.trade : undefined);
      const position = accountPosition(d, o.account, [o.market.base, o.market.quote]);
      for (const [subscriptionId, account] of subs) {
        if (account !== o.account) continue;
        link.send({ subscriptionId, event: report });
        link.send({ subscriptionId, event: position });
      }
    },
  };
}
