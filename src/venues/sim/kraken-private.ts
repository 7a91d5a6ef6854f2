/**
 * Kraken private methods: balances, AddOrder (market, limit, post-only, stop-loss, take-profit and their
 * -limit forms, `cl_ord_id`, `viqc`), cancels, order queries (by txid or cl_ord_id) and trade history, in the
 * shapes ccxt parses (reference §1.4). Kraken prices stops in `price` (trigger) and `price2` (limit).
 */

import { fmt, isMultiple, parseDecimal } from '../../domain/precision.js';
import type { Account } from './accounts.js';
import { krakenAssetId, type MarketDef } from './instruments.js';
import type { KrakenCall, KrakenDeps, KrakenMethod } from './kraken.dialect.js';
import { KrakenError, krakenPair, pairDecimals } from './kraken.dialect.js';
import { Rejection } from './matching-engine.js';
import { isOpen, type OrderKind, type SimOrder, type SimTrade } from './order-store.js';

const KIND: Record<string, OrderKind> = {
  market: 'market',
  limit: 'limit',
  'stop-loss': 'stop_market',
  'take-profit': 'tp_market',
  'stop-loss-limit': 'stop_limit',
  'take-profit-limit': 'tp_limit',
};

const OFLAGS = new Set(['post', 'fcib', 'fciq', 'nompp', 'viqc']);

const sec = (ms: number) => Number((ms / 1000).toFixed(4));

const REJECT: Record<string, string> = {
  price_filter: 'EOrder:Invalid price:Invalid price argument',
  lot_size: 'EOrder:Order minimum not met',
  notional: 'EOrder:Cost minimum not met',
  insufficient_balance: 'EOrder:Insufficient funds',
  duplicate_client_order_id: 'EGeneral:Invalid arguments:cl_ord_id',
  max_num_orders: 'EOrder:Orders limit exceeded',
  unknown_order: 'EOrder:Unknown order',
};

function descr(o: SimOrder): {
  pair: string;
  type: string;
  ordertype: string;
  price: string;
  price2: string;
  leverage: string;
  order: string;
  close: string;
} {
  const m = o.market;
  const p = (x: number | undefined) => fmt(x ?? 0, pairDecimals(m));
  const head = `${o.side} ${fmt(o.qty ?? o.quoteQty ?? 0, 8)} ${m.altname} @ `;
  const trigger = o.stopPrice;
  const tail: Record<OrderKind, string> = {
    market: 'market',
    limit: `limit ${p(o.price)}`,
    stop_market: `stop loss ${p(trigger)}`,
    tp_market: `take profit ${p(trigger)}`,
    stop_limit: `stop loss ${p(trigger)} -> limit ${p(o.price)}`,
    tp_limit: `take profit ${p(trigger)} -> limit ${p(o.price)}`,
  };
  const isStop = trigger !== undefined;
  return {
    pair: m.altname,
    type: o.side,
    ordertype: o.venueType,
    price: p(isStop ? trigger : o.price),
    price2: p(isStop ? o.price : 0),
    leverage: 'none',
    order: head + tail[o.kind],
    close: '',
  };
}

const STATUS: Record<SimOrder['status'], string> = {
  new: 'open',
  partially_filled: 'open',
  filled: 'closed',
  canceled: 'canceled',
  expired: 'expired',
  rejected: 'canceled',
};

function orderView(d: KrakenDeps, o: SimOrder, withTrades: boolean) {
  const base = {
    refid: null,
    userref: Number(o.extra.userref ?? 0),
    ...(o.clientOrderId === '' ? {} : { cl_ord_id: o.clientOrderId }),
    status: STATUS[o.status],
    opentm: sec(o.createdAt),
    starttm: 0,
    expiretm: 0,
    descr: descr(o),
    vol: fmt(o.qty ?? 0, 8),
    vol_exec: fmt(o.executedQty, 8),
    cost: fmt(o.cumQuote, 8),
    fee: fmt(o.fee, 8),
    price: fmt(o.executedQty > 0 ? o.cumQuote / o.executedQty : 0, pairDecimals(o.market)),
    stopprice: fmt(o.stopPrice ?? 0, pairDecimals(o.market)),
    limitprice: fmt(o.price ?? 0, pairDecimals(o.market)),
    misc: '',
    oflags: o.extra.oflags ?? 'fciq',
    ...(isOpen(o) ? {} : { closetm: sec(o.updatedAt), reason: o.reason ?? null }),
  };
  if (!withTrades) return base;
  return { ...base, trades: d.engine.store.trades.filter((t) => t.order === o).map((t) => t.venueTradeId) };
}

function tradeView(t: SimTrade) {
  return {
    ordertxid: t.order.venueOrderId,
    postxid: `P${t.venueTradeId.slice(1)}`,
    pair: t.order.market.id,
    time: sec(t.time),
    type: t.order.side,
    ordertype: t.order.kind === 'limit' ? 'limit' : 'market',
    price: fmt(t.price, pairDecimals(t.order.market)),
    cost: fmt(t.quoteQty, 8),
    fee: fmt(t.fee, 8),
    vol: fmt(t.qty, 8),
    margin: '0.00000',
    leverage: '0',
    misc: '',
    trade_id: t.id,
    maker: t.maker,
  };
}

function decimalArg(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const v = parseDecimal(raw);
  if (v === undefined) throw new KrakenError(`EGeneral:Invalid arguments:${name}`);
  return v;
}

function checkPrice(m: MarketDef, p: number | undefined): void {
  if (p !== undefined && !isMultiple(p, m.tickSize))
    throw new KrakenError(
      `EOrder:Invalid price:${m.altname} price can only be specified up to ${pairDecimals(m)} decimals.`,
    );
}

function addOrder(d: KrakenDeps, c: KrakenCall) {
  const p = c.params;
  const m = krakenPair(d, p.get('pair') ?? '');
  const side = p.get('type');
  if (side !== 'buy' && side !== 'sell') throw new KrakenError('EGeneral:Invalid arguments:type');
  const ordertype = p.get('ordertype') ?? '';
  const kind = KIND[ordertype];
  if (kind === undefined) throw new KrakenError('EGeneral:Invalid arguments:ordertype');
  const flags = (p.get('oflags') ?? '').split(',').filter((f) => f !== '');
  if (flags.some((f) => !OFLAGS.has(f))) throw new KrakenError('EGeneral:Invalid arguments:oflags');
  const volume = decimalArg(p.get('volume'), 'volume');
  if (volume === undefined || volume <= 0) throw new KrakenError('EGeneral:Invalid arguments:volume');
  const price = decimalArg(p.get('price'), 'price');
  const price2 = decimalArg(p.get('price2'), 'price2');
  if (kind !== 'market' && price === undefined) throw new KrakenError('EGeneral:Invalid arguments:price');
  if ((kind === 'stop_limit' || kind === 'tp_limit') && price2 === undefined)
    throw new KrakenError('EGeneral:Invalid arguments:price2');
  checkPrice(m, price);
  checkPrice(m, price2);
  const tif = p.get('timeinforce') ?? 'GTC';
  if (tif !== 'GTC' && tif !== 'IOC') throw new KrakenError('EGeneral:Invalid arguments:timeinforce');
  if (p.has('leverage') && p.get('leverage') !== 'none') throw new KrakenError('EGeneral:Invalid arguments:leverage');
  const viqc = flags.includes('viqc');
  if (viqc && (kind !== 'market' || side !== 'buy')) throw new KrakenError('EGeneral:Invalid arguments:viqc');
  const clOrdId = p.get('cl_ord_id') ?? '';
  if (clOrdId.length > 36) throw new KrakenError('EGeneral:Invalid arguments:cl_ord_id');
  if (!viqc && volume < m.minQty) throw new KrakenError('EOrder:Order minimum not met');
  const isStop = kind !== 'market' && kind !== 'limit';
  const extra: Record<string, string> = { oflags: flags.join(',') || 'fciq' };
  if (p.has('userref')) extra.userref = p.get('userref') ?? '0';
  const req = {
    account: c.account!,
    market: m,
    side,
    kind,
    venueType: ordertype,
    clientOrderId: clOrdId,
    ...(viqc ? { quoteQty: volume } : { qty: volume }),
    ...(kind === 'limit' && price !== undefined ? { price } : {}),
    ...(isStop && price !== undefined ? { stopPrice: price } : {}),
    ...(isStop && price2 !== undefined ? { price: price2 } : {}),
    postOnly: flags.includes('post'),
    tif,
    extra,
    immediateTrigger: 'fire',
    postOnlyCrossing: 'cancel',
    dropStop: isStop && c.ctx.dropStop(),
  } as const;
  if (p.get('validate') === 'true')
    return { descr: { order: `${side} ${fmt(volume, 8)} ${m.altname} @ ${ordertype}` } };
  try {
    const o = d.engine.place(req);
    return { descr: { order: descr(o).order }, txid: [o.venueOrderId] };
  } catch (e) {
    if (e instanceof Rejection) throw new KrakenError(REJECT[e.reason] ?? `EOrder:${e.message}`);
    throw e;
  }
}

/** Orders named by `txid` (comma list of txids, or a userref) or `cl_ord_id`. */
function selectOrders(d: KrakenDeps, a: Account, p: Map<string, string>, key = 'txid'): SimOrder[] {
  const out: SimOrder[] = [];
  const txids = p.get(key);
  if (txids !== undefined && txids !== '') {
    for (const id of txids.split(',')) {
      const o = d.engine.store.byVenueOrderId(a, id);
      if (o !== undefined) out.push(o);
      else if (/^\d+$/.test(id)) out.push(...d.engine.store.ofAccount(a).filter((x) => x.extra.userref === id));
    }
  }
  const cl = p.get('cl_ord_id');
  if (cl !== undefined) {
    const o = d.engine.store.byClientId(a, cl);
    if (o !== undefined) out.push(o);
  }
  return out;
}

const krakenOnly = (o: SimOrder) => o.market.venue === 'kraken';

export function krakenPrivateMethods(d: KrakenDeps): Record<string, KrakenMethod> {
  const balances = (a: Account) => [...a.spot.entries()].map(([code, b]) => [krakenAssetId(code), b] as const);
  const dp = (code: string) => (code === 'ZUSD' ? 4 : 10);
  return {
    Balance: {
      params: [],
      run: ({ account }) =>
        Object.fromEntries(balances(account!).map(([id, b]) => [id, fmt(b.free + b.locked, dp(id))])),
    },
    BalanceEx: {
      params: ['rebase_multiplier'],
      run: ({ account }) =>
        Object.fromEntries(
          balances(account!).map(([id, b]) => [
            id,
            { balance: fmt(b.free + b.locked, dp(id)), hold_trade: fmt(b.locked, dp(id)) },
          ]),
        ),
    },
    AddOrder: {
      params: [
        'userref',
        'cl_ord_id',
        'ordertype',
        'type',
        'volume',
        'displayvol',
        'pair',
        'price',
        'price2',
        'trigger',
        'leverage',
        'reduce_only',
        'stptype',
        'oflags',
        'timeinforce',
        'starttm',
        'expiretm',
        'validate',
        'deadline',
      ],
      run: (c) => {
        const limited = d.gate?.chargeTrade(
          c.account?.keys.apiKey ?? '',
          krakenPair(d, c.params.get('pair') ?? '').id,
          'add',
        );
        if (limited) throw new KrakenError(limited);
        return addOrder(d, c);
      },
    },
    CancelOrder: {
      params: ['txid', 'cl_ord_id'],
      run: ({ account, params }) => {
        const open = selectOrders(d, account!, params).filter((o) => krakenOnly(o) && isOpen(o));
        if (open.length === 0) throw new KrakenError('EOrder:Unknown order');
        for (const o of open) {
          const limited = d.gate?.chargeTrade(account!.keys.apiKey, o.market.id, 'cancel', o.createdAt);
          if (limited) throw new KrakenError(limited);
        }
        for (const o of open) d.engine.cancel(o);
        return { count: open.length };
      },
    },
    CancelAll: {
      params: [],
      run: ({ account }) => {
        const open = d.engine.store.openOrders(account).filter(krakenOnly);
        for (const o of open) d.engine.cancel(o);
        return { count: open.length };
      },
    },
    OpenOrders: {
      params: ['trades', 'userref', 'cl_ord_id', 'rebase_multiplier'],
      run: ({ account, params }) => {
        const cl = params.get('cl_ord_id');
        const ref = params.get('userref');
        const open = d.engine.store
          .openOrders(account)
          .filter(
            (o) =>
              krakenOnly(o) &&
              (cl === undefined || o.clientOrderId === cl) &&
              (ref === undefined || o.extra.userref === ref),
          );
        return {
          open: Object.fromEntries(open.map((o) => [o.venueOrderId, orderView(d, o, params.get('trades') === 'true')])),
        };
      },
    },
    ClosedOrders: {
      params: [
        'trades',
        'userref',
        'cl_ord_id',
        'start',
        'end',
        'ofs',
        'closetime',
        'consolidate_taker',
        'without_count',
        'rebase_multiplier',
      ],
      run: ({ account, params }) => {
        const start = Number(params.get('start') ?? 0) * 1000;
        const end = Number(params.get('end') ?? Number.MAX_SAFE_INTEGER / 1000) * 1000;
        const ofs = Number(params.get('ofs') ?? 0);
        const cl = params.get('cl_ord_id');
        const closed = d.engine.store
          .ofAccount(account!)
          .filter(
            (o) =>
              krakenOnly(o) &&
              !isOpen(o) &&
              o.updatedAt >= start &&
              o.updatedAt <= end &&
              (cl === undefined || o.clientOrderId === cl),
          )
          .sort((x, y) => y.updatedAt - x.updatedAt || y.seq - x.seq);
        const page = closed.slice(ofs, ofs + 50);
        return {
          closed: Object.fromEntries(
            page.map((o) => [o.venueOrderId, orderView(d, o, params.get('trades') === 'true')]),
          ),
          count: closed.length,
        };
      },
    },
    QueryOrders: {
      params: ['txid', 'trades', 'userref', 'cl_ord_id', 'consolidate_taker', 'rebase_multiplier'],
      run: ({ account, params }) => {
        if (!params.has('txid') && !params.has('cl_ord_id') && !params.has('userref'))
          throw new KrakenError('EGeneral:Invalid arguments:txid');
        const found = selectOrders(d, account!, params).filter(krakenOnly);
        if (found.length === 0) throw new KrakenError('EOrder:Invalid order');
        return Object.fromEntries(found.map((o) => [o.venueOrderId, orderView(d, o, params.get('trades') === 'true')]));
      },
    },
    TradesHistory: {
      params: ['type', 'trades', 'start', 'end', 'ofs', 'consolidate_taker', 'ledgers', 'rebase_multiplier'],
      run: ({ account, params }) => {
        const start = Number(params.get('start') ?? 0) * 1000;
        const end = Number(params.get('end') ?? Number.MAX_SAFE_INTEGER / 1000) * 1000;
        const ofs = Number(params.get('ofs') ?? 0);
        const trades = d.engine.store.trades
          .filter((t) => t.order.account === account && krakenOnly(t.order) && t.time >= start && t.time <= end)
          .sort((x, y) => y.time - x.time || y.id - x.id);
        return {
          trades: Object.fromEntries(trades.slice(ofs, ofs + 50).map((t) => [t.venueTradeId, tradeView(t)])),
          count: trades.length,
        };
      },
    },
  };
}
