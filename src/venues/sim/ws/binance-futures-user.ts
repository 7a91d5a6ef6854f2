/**
 * The USDⓈ-M user data stream on `/private/ws?listenKey=<key>` (binance-listen-keys.ts for the key's life), as
 * documented (derivatives/usds-margined-futures/user-data-streams): `ORDER_TRADE_UPDATE` for every order event of
 * the account's perpetual orders (execution type NEW, TRADE, CANCELED, EXPIRED; one event per fill, with the
 * venue trade id `t` that `GET /fapi/v1/userTrades` also answers), and `ACCOUNT_UPDATE` (reason `ORDER`) with the
 * margin wallet and the traded symbol's position after each fill. A key that is unknown, closed or expired ends
 * the connection; one that expires while connected says `listenKeyExpired` first, as Binance does.
 * Conditional orders (stop-market, take-profit) are the venue's algo orders: they appear here once triggered.
 */
import { fmt } from '../../../domain/precision.js';
import type { Account } from '../accounts.js';
import { regularOrderId } from '../binance-futures.views.js';
import { MARGIN_ASSET, positionOf, unrealizedPnl } from '../futures-ledger.js';
import type { MarketDef } from '../instruments.js';
import type { SimOrder, SimTrade } from '../order-store.js';
import type { ListenKeys } from './binance-listen-keys.js';
import type { Session, SessionLink, StreamDeps } from './stream-hub.js';

const STATUS: Record<SimOrder['status'], string> = {
  new: 'NEW',
  partially_filled: 'PARTIALLY_FILLED',
  filled: 'FILLED',
  canceled: 'CANCELED',
  expired: 'EXPIRED',
  rejected: 'REJECTED',
};

const px = (m: MarketDef, x: number | undefined) => fmt(x ?? 0, Math.max(0, Math.round(-Math.log10(m.tickSize))));
const qx = (m: MarketDef, x: number | undefined) => fmt(x ?? 0, Math.max(0, Math.round(-Math.log10(m.stepSize))));

function orderTradeUpdate(now: number, o: SimOrder, x: string, tr: SimTrade | undefined): unknown {
  const m = o.market;
  const conditional = o.stopPrice !== undefined;
  const type = conditional ? (o.kind.endsWith('limit') ? 'LIMIT' : 'MARKET') : o.venueType;
  return {
    e: 'ORDER_TRADE_UPDATE',
    E: now,
    T: tr?.time ?? o.updatedAt,
    o: {
      s: m.id,
      c: o.clientOrderId,
      S: o.side.toUpperCase(),
      o: type,
      f: o.postOnly ? 'GTX' : o.tif,
      q: qx(m, o.qty),
      p: px(m, o.kind === 'stop_market' || o.kind === 'tp_market' ? 0 : o.price),
      ap: fmt(o.executedQty > 0 ? o.cumQuote / o.executedQty : 0, 8),
      sp: px(m, o.stopPrice),
      x,
      X: STATUS[o.status],
      i: regularOrderId(o),
      l: qx(m, tr?.qty ?? 0),
      z: qx(m, o.executedQty),
      L: px(m, tr?.price ?? 0),
      ...(tr === undefined ? {} : { N: tr.feeAsset, n: fmt(tr.fee, 8) }),
      T: tr?.time ?? o.updatedAt,
      t: tr?.id ?? 0,
      b: '0',
      a: '0',
      m: tr?.maker ?? false,
      R: o.reduceOnly,
      wt: 'CONTRACT_PRICE',
      ot: o.venueType,
      ps: 'BOTH',
      cp: false,
      rp: fmt(tr?.realizedPnl ?? 0, 8),
      pP: false,
      si: 0,
      ss: 0,
      V: 'EXPIRE_MAKER',
      pm: 'NONE',
      gtd: 0,
    },
  };
}

function accountUpdate(d: StreamDeps, a: Account, m: MarketDef): unknown {
  const wallet = fmt(a.walletBalance(MARGIN_ASSET), 8);
  const p = positionOf(a, m.id);
  const t = d.now();
  return {
    e: 'ACCOUNT_UPDATE',
    E: t,
    T: t,
    a: {
      m: 'ORDER',
      B: [{ a: MARGIN_ASSET, wb: wallet, cw: wallet, bc: '0' }],
      P: [
        {
          s: m.id,
          pa: String(p.qty),
          ep: fmt(p.entryPrice, 8),
          bep: fmt(p.entryPrice, 8),
          cr: '0',
          up: fmt(unrealizedPnl(p, d.engine.mark(m.id)), 8),
          mt: a.marginTypeOf(m.id) === 'ISOLATED' ? 'isolated' : 'cross',
          iw: '0',
          ps: 'BOTH',
          ma: MARGIN_ASSET,
        },
      ],
    },
  };
}

/** Execution type of an engine event, or undefined when the stream says nothing of it. */
function executionType(kind: 'new' | 'trade' | 'end', o: SimOrder): string | undefined {
  if (kind === 'trade') return 'TRADE';
  // An untriggered conditional order is an algo order (ALGO_UPDATE, not simulated): nothing here until it fires.
  if (o.stopPrice !== undefined && !o.triggered) return undefined;
  if (kind === 'new') return 'NEW';
  if (o.status === 'canceled') return 'CANCELED';
  if (o.status === 'expired') return 'EXPIRED';
  return undefined; // a fill's ending was told by its TRADE event (X=FILLED)
}

export function binanceFuturesUserSession(
  d: StreamDeps,
  link: SessionLink,
  keys: ListenKeys,
  listenKey: string | null,
): Session {
  const account = listenKey === null ? undefined : keys.valid(listenKey);
  // Binance refuses a stream for a key it does not know; the connection ends at once.
  if (account === undefined) queueMicrotask(() => link.kill(1008, 'Invalid listenKey'));
  let ended = account === undefined;
  const expire = () => {
    if (ended || listenKey === null || keys.valid(listenKey) === account) return;
    ended = true;
    link.send({ e: 'listenKeyExpired', E: d.now(), listenKey });
    link.kill(1000, 'listenKey expired');
  };
  return {
    // The user stream takes no requests: what a client sends is ignored (ccxt sends none, pings are frames).
    onMessage() {},
    onStep() {},
    onHeartbeat: expire,
    onEngine(e) {
      const o = e.order;
      if (ended || account === undefined || o.market.kind !== 'perp' || o.account !== account) return;
      expire();
      if (ended) return;
      const x = executionType(e.kind, o);
      if (x === undefined) return;
      link.send(orderTradeUpdate(d.now(), o, x, e.kind === 'trade' ? e.trade : undefined));
      if (e.kind === 'trade') link.send(accountUpdate(d, account, o.market));
    },
  };
}
