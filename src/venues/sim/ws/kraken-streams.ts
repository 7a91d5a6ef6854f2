/**
 * Kraken's WebSocket v2 dialect (docs.kraken.com spot-websocket-v2), public and private on one connection:
 * - a `status` message on connect; `{"method":"ping","req_id":n}` answered `pong`; `{"channel":"heartbeat"}`
 *   about once a second while anything is subscribed;
 * - `subscribe`/`unsubscribe` acked per symbol (`success`, `result`, `time_in`, `time_out`, `req_id`); an unknown
 *   pair is refused `Currency pair not supported`;
 * - `ticker`: a snapshot on subscribe, then an update every push;
 * - `trade`: the simulator's public tape (tape.ts): a snapshot of the last 50 prints on subscribe (unless
 *   `snapshot: false`), then every new print (fills at once, the synthetic flow with each push), `side` the
 *   aggressor's;
 * - `executions` and `balances` need a token from GetWebSocketsToken (15 min to use it; `ESession:Invalid session`
 *   otherwise): a snapshot of open orders (and trades with `snap_trades`), then one message per execution —
 *   `new`, `trade` (exec_id = the REST trade id), `filled`, `canceled`, `expired` — and balance updates.
 */
import type { Account } from '../accounts.js';
import type { MarketDef } from '../instruments.js';
import { isOpen, type SimOrder, type SimTrade } from '../order-store.js';
import type { Print } from '../tape.js';
import type { Session, SessionLink, StreamDeps } from './stream-hub.js';

let connectionIds = 0;
let execIds = 0;

const iso = (ms: number) => new Date(ms).toISOString();
const wsSymbol = (m: MarketDef) => `${m.base}/${m.quote}`;
const num = (x: number) => Number(x.toFixed(10));

function tickerData(d: StreamDeps, m: MarketDef): unknown {
  const t = d.now();
  const s = d.market.stats(m, t);
  const b = d.market.top(m, t);
  return {
    symbol: wsSymbol(m),
    bid: num(b.bids[0]?.price ?? s.last),
    bid_qty: num(b.bids[0]?.qty ?? 0),
    ask: num(b.asks[0]?.price ?? s.last),
    ask_qty: num(b.asks[0]?.qty ?? 0),
    last: num(s.last),
    volume: num(s.baseVolume),
    vwap: num(s.baseVolume > 0 ? s.quoteVolume / s.baseVolume : s.last),
    low: num(s.low),
    high: num(s.high),
    change: num(s.last - s.open),
    change_pct: Number((s.open > 0 ? ((s.last - s.open) / s.open) * 100 : 0).toFixed(2)),
  };
}

function orderData(o: SimOrder, execType: string, tr: SimTrade | undefined): Record<string, unknown> {
  const avg = o.executedQty > 0 ? o.cumQuote / o.executedQty : 0;
  const base: Record<string, unknown> = {
    order_id: o.venueOrderId,
    ...(o.clientOrderId === '' ? {} : { cl_ord_id: o.clientOrderId }),
    order_userref: Number(o.extra.userref ?? 0),
    symbol: wsSymbol(o.market),
    side: o.side,
    order_type: o.venueType,
    order_qty: num(o.qty ?? 0),
    ...(o.price === undefined ? {} : { limit_price: num(o.price) }),
    ...(o.stopPrice === undefined ? {} : { stop_price: num(o.stopPrice) }),
    time_in_force: o.tif,
    order_status: o.status === 'partially_filled' ? 'partially_filled' : o.status,
    exec_type: execType,
    exec_id: tr === undefined ? `E${(++execIds).toString(36).toUpperCase()}` : tr.venueTradeId,
    timestamp: iso(tr?.time ?? o.updatedAt),
    cum_qty: num(o.executedQty),
    cum_cost: num(o.cumQuote),
    avg_price: num(avg),
    fee_usd_equiv: num(o.fee),
  };
  if (tr === undefined) return base;
  return {
    ...base,
    trade_id: tr.id,
    last_qty: num(tr.qty),
    last_price: num(tr.price),
    cost: num(tr.quoteQty),
    liquidity_ind: tr.maker ? 'm' : 't',
    fees: [{ asset: tr.feeAsset, qty: num(tr.fee) }],
  };
}

function balanceRow(a: Account, asset: string): Record<string, unknown> {
  const b = a.spot.get(asset);
  const total = num((b?.free ?? 0) + (b?.locked ?? 0));
  return { asset, asset_class: 'currency', balance: total, wallets: [{ type: 'spot', id: 'main', balance: total }] };
}

/** A print as Kraken's WS v2 `trade` channel sends it. */
function tradeData(m: MarketDef, p: Print): unknown {
  return {
    symbol: wsSymbol(m),
    side: p.buyerMaker ? 'sell' : 'buy',
    price: num(p.price),
    qty: num(p.qty),
    ord_type: 'market',
    trade_id: p.id,
    timestamp: iso(p.time),
  };
}

export function krakenSession(d: StreamDeps, link: SessionLink): Session {
  const tickers = new Set<MarketDef>();
  /** `trade` subscriptions: the last print sent per market (a subscription starts at the tape's end). */
  const trades = new Map<MarketDef, number>();
  const pushTrades = () => {
    for (const [m, last] of trades) {
      const prints = d.engine.tape.after(m, last);
      if (prints.length === 0) continue;
      link.send({ channel: 'trade', type: 'update', data: prints.map((p) => tradeData(m, p)) });
      trades.set(m, prints.at(-1)?.id ?? last);
    }
  };
  let executions: Account | undefined;
  let balances: Account | undefined;
  const times = () => ({ time_in: iso(Date.now()), time_out: iso(Date.now()) });
  const ack = (method: string, reqId: unknown, result: Record<string, unknown>) =>
    link.send({ method, req_id: reqId, result, success: true, ...times() });
  const refuse = (method: string, reqId: unknown, error: string, extra: Record<string, unknown> = {}) =>
    link.send({ error, method, req_id: reqId, success: false, ...extra, ...times() });
  const account = (token: unknown): Account | undefined => {
    const t = typeof token === 'string' ? d.tokens.get(token) : undefined;
    if (t === undefined || Date.now() > t.expiresAt) return undefined;
    const a = d.accounts.get(t.apiKey);
    return a?.venue === 'kraken' ? a : undefined;
  };

  const subscribeTrades = (m: MarketDef, on: boolean) => {
    if (!on) {
      trades.delete(m);
      return;
    }
    if (trades.has(m)) return;
    d.engine.tape.watch(m);
    trades.set(m, d.engine.tape.lastId(m));
  };
  const subscribe = (method: string, reqId: unknown, p: Record<string, unknown>) => {
    const on = method === 'subscribe';
    const channel = p.channel;
    if (channel === 'ticker' || channel === 'trade') {
      const symbols = Array.isArray(p.symbol) ? (p.symbol as unknown[]) : [];
      if (symbols.length === 0) return refuse(method, reqId, 'Missing field: symbol');
      for (const s of symbols) {
        const m = d.market
          .markets('kraken', 'spot')
          .find((x) => typeof s === 'string' && wsSymbol(x) === s.toUpperCase());
        if (m === undefined) {
          refuse(method, reqId, 'Currency pair not supported', { symbol: s });
          continue;
        }
        if (channel === 'trade') {
          const snapshot = on && p.snapshot !== false;
          // The snapshot is read first (it samples the tape): updates start after its last print.
          const snap = snapshot ? d.engine.tape.recent(m, { limit: 50 }) : [];
          subscribeTrades(m, on);
          ack(method, reqId, { channel, symbol: wsSymbol(m), ...(on ? { snapshot } : {}) });
          if (snapshot) link.send({ channel, type: 'snapshot', data: snap.map((x) => tradeData(m, x)) });
          continue;
        }
        if (on) tickers.add(m);
        else tickers.delete(m);
        ack(method, reqId, {
          channel,
          symbol: wsSymbol(m),
          ...(on ? { event_trigger: 'trades', snapshot: true } : {}),
        });
        if (on) link.send({ channel: 'ticker', type: 'snapshot', data: [tickerData(d, m)] });
      }
      return;
    }
    if (channel !== 'executions' && channel !== 'balances')
      return refuse(method, reqId, `Channel ${String(channel)} not found`);
    const a = account(p.token);
    if (a === undefined) return refuse(method, reqId, 'ESession:Invalid session', { channel });
    if (!on) {
      if (channel === 'executions') executions = undefined;
      else balances = undefined;
      return ack(method, reqId, { channel });
    }
    if (channel === 'balances') {
      balances = a;
      ack(method, reqId, { channel, snapshot: true });
      const assets = [...a.spot.keys()];
      return link.send({ channel, type: 'snapshot', data: assets.map((x) => balanceRow(a, x)) });
    }
    executions = a;
    ack(method, reqId, { channel, maxratecount: 125, snapshot: true });
    const open = d.engine.store.ofAccount(a).filter(isOpen);
    if (p.snap_orders !== false) {
      link.send({ channel, type: 'snapshot', data: open.map((o) => orderData(o, 'new', undefined)) });
    }
    if (p.snap_trades === true) {
      const trades = d.engine.store.trades.filter((t) => t.order.account === a).slice(-50);
      link.send({ channel, type: 'snapshot', data: trades.map((t) => orderData(t.order, 'trade', t)) });
    }
  };

  link.send({
    channel: 'status',
    type: 'update',
    data: [{ api_version: 'v2', connection_id: ++connectionIds, system: 'online', version: '2.0.10' }],
  });

  return {
    onMessage(text) {
      let msg: { method?: unknown; params?: unknown; req_id?: unknown };
      try {
        msg = JSON.parse(text) as typeof msg;
      } catch {
        return link.send({ error: 'Malformed request', success: false, ...times() });
      }
      if (msg.method === 'ping') return link.send({ method: 'pong', req_id: msg.req_id, ...times() });
      if (msg.method === 'subscribe' || msg.method === 'unsubscribe')
        return subscribe(msg.method, msg.req_id, (msg.params ?? {}) as Record<string, unknown>);
      return refuse(String(msg.method), msg.req_id, 'Method not found');
    },
    onStep() {
      for (const m of tickers) link.send({ channel: 'ticker', type: 'update', data: [tickerData(d, m)] });
      pushTrades();
    },
    onHeartbeat() {
      if (tickers.size > 0 || trades.size > 0 || executions !== undefined || balances !== undefined)
        link.send({ channel: 'heartbeat' });
    },
    onEngine(e) {
      const o = e.order;
      if (o.market.venue !== 'kraken') return;
      // A fill prints at once on the trade channel, as on the venue (the synthetic flow goes out with each step).
      if (e.kind === 'trade' && trades.has(o.market)) pushTrades();
      if (executions === o.account) {
        const type = e.kind === 'new' ? 'new' : e.kind === 'trade' ? 'trade' : o.status;
        link.send({
          channel: 'executions',
          type: 'update',
          data: [orderData(o, type, e.kind === 'trade' ? e.trade : undefined)],
        });
      }
      if (balances === o.account && e.kind === 'trade') {
        const rows = [o.market.base, o.market.quote].map((asset) => ({
          ...balanceRow(o.account, asset),
          ledger_id: `L${e.trade.venueTradeId.slice(1)}`,
          ref_id: e.trade.venueTradeId,
          timestamp: iso(e.trade.time),
          type: 'trade',
          category: 'trade',
          wallet_type: 'spot',
          wallet_id: 'main',
        }));
        link.send({ channel: 'balances', type: 'update', data: rows });
      }
    },
  };
}
