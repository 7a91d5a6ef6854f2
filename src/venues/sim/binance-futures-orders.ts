/**
 * Binance USDⓈ-M orders: plain orders on `/fapi/v1/order` (LIMIT, MARKET; GTX = post-only; reduce-only) and
 * conditional ones on the Algo Order API `/fapi/v1/algoOrder` (STOP_MARKET, TAKE_PROFIT_MARKET, STOP,
 * TAKE_PROFIT), which is where ccxt 4.5 sends linear stops. A triggered algo order then shows as a regular
 * order under an id of its own (the algo order's `actualOrderId`) and the same client id. A reduce-only order can only shrink the position: rejected when it would not,
 * clamped to the position at every fill, and expired once the position is gone.
 */
import type { Account } from './accounts.js';
import { BinanceError, binanceErrors, futuresRejection } from './binance-errors.js';
import { perp } from './binance-futures.dialect.js';
import { algoOrderView, futuresOrderView, futuresTradeView, regularOrderId } from './binance-futures.views.js';
import { autoClientId, type BinanceCall, type BinanceEndpoint, type DialectDeps, type Params } from './binance-gate.js';
import { positionOf } from './futures-ledger.js';
import type { MarketDef } from './instruments.js';
import { Rejection } from './matching-engine.js';
import { isOpen, isStopKind, type OrderKind, type SimOrder, type TimeInForce } from './order-store.js';

const REGULAR: Record<string, OrderKind> = { LIMIT: 'limit', MARKET: 'market' };
const ALGO: Record<string, OrderKind> = {
  STOP_MARKET: 'stop_market',
  STOP: 'stop_limit',
  TAKE_PROFIT_MARKET: 'tp_market',
  TAKE_PROFIT: 'tp_limit',
};

/** Regular orders, and algo orders once triggered. */
const visibleAsRegular = (o: SimOrder) => o.market.kind === 'perp' && (!isStopKind(o.kind) || o.triggered);
const isAlgo = (o: SimOrder) => o.market.kind === 'perp' && isStopKind(o.kind);

function place(d: DialectDeps, c: BinanceCall, algo: boolean): SimOrder {
  const p = c.params;
  const a = c.account!;
  const m = perp(d, p);
  const side = p.required('side');
  if (side !== 'BUY' && side !== 'SELL') throw binanceErrors.invalidSide();
  if (algo && p.required('algoType') !== 'CONDITIONAL') throw new BinanceError(-1116, 'Invalid algoType.');
  const type = p.required('type');
  const kind = (algo ? ALGO : REGULAR)[type];
  if (kind === undefined) {
    if (!algo && ALGO[type] !== undefined)
      throw new BinanceError(
        -4120,
        'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.',
      );
    throw binanceErrors.invalidType();
  }
  const positionSide = p.str('positionSide') ?? 'BOTH';
  if (positionSide !== 'BOTH') throw new BinanceError(-4061, "Order's position side does not match user's setting.");
  const closePosition = p.bool('closePosition') === true;
  const reduceOnly = p.bool('reduceOnly') === true || closePosition;
  let qty = p.decimal('quantity');
  if (closePosition) {
    qty = Math.abs(positionOf(a, m.id).qty);
    if (qty === 0) throw futuresRejection('reduce_only_rejected', '', m.minNotional);
  } else if (qty === undefined) throw binanceErrors.mandatory('quantity');
  const price = p.decimal('price');
  const needsPrice = kind === 'limit' || kind === 'stop_limit' || kind === 'tp_limit';
  if (needsPrice && price === undefined) throw binanceErrors.mandatory('price');
  const stopPrice = algo ? p.decimal('triggerPrice') : undefined;
  if (algo && stopPrice === undefined) throw binanceErrors.mandatory('triggerPrice');
  const tifRaw = p.str('timeInForce') ?? 'GTC';
  if (!['GTC', 'IOC', 'FOK', 'GTX', 'GTD'].includes(tifRaw)) throw binanceErrors.invalidTif();
  for (const k of [
    'workingType',
    'priceMatch',
    'selfTradePreventionMode',
    'goodTillDate',
    'newOrderRespType',
    'priceProtect',
  ])
    p.str(k);
  try {
    return d.engine.place({
      account: a,
      market: m,
      side: side === 'BUY' ? 'buy' : 'sell',
      kind,
      venueType: type,
      clientOrderId: p.str(algo ? 'clientAlgoId' : 'newClientOrderId') ?? autoClientId(),
      qty,
      ...(price === undefined || !needsPrice ? {} : { price }),
      ...(stopPrice === undefined ? {} : { stopPrice }),
      postOnly: tifRaw === 'GTX',
      tif: (tifRaw === 'GTX' || tifRaw === 'GTD' ? 'GTC' : tifRaw) as TimeInForce,
      reduceOnly,
      immediateTrigger: 'reject',
      postOnlyCrossing: 'reject',
      dropStop: algo && c.ctx.dropStop(),
    });
  } catch (e) {
    if (e instanceof Rejection) throw futuresRejection(e.reason, e.message, m.minNotional);
    throw e;
  }
}

function find(d: DialectDeps, a: Account, m: MarketDef, p: Params, algo: boolean): SimOrder {
  const id = p.int(algo ? 'algoId' : 'orderId');
  const cid = p.str(algo ? 'clientAlgoId' : 'origClientOrderId');
  if (id === undefined && cid === undefined) throw binanceErrors.bothIds();
  const o =
    id !== undefined ? d.engine.store.byVenueOrderId(a, String(id)) : d.engine.store.byClientId(a, cid ?? '', m);
  if (o === undefined || o.market !== m || (algo ? !isAlgo(o) : !visibleAsRegular(o)))
    throw binanceErrors.noSuchOrder();
  // Algo ids and order ids are separate sequences: each endpoint knows its own id only.
  if (id !== undefined && id !== (algo ? o.seq : regularOrderId(o))) throw binanceErrors.noSuchOrder();
  return o;
}

function cancelOne(d: DialectDeps, c: BinanceCall, algo: boolean): SimOrder {
  const m = perp(d, c.params);
  let o: SimOrder;
  try {
    o = find(d, c.account!, m, c.params, algo);
  } catch {
    throw binanceErrors.unknownOrder();
  }
  if (!isOpen(o)) throw binanceErrors.unknownOrder();
  return d.engine.cancel(o);
}

function listing(d: DialectDeps, c: BinanceCall, pick: (o: SimOrder) => boolean, open: boolean): SimOrder[] {
  const p = c.params;
  const m = p.has('symbol') ? perp(d, p) : undefined;
  const src = open ? d.engine.store.openOrders(c.account, m) : d.engine.store.ofAccount(c.account!, m);
  const start = p.int('startTime');
  const end = p.int('endTime');
  const from = p.int('orderId') ?? p.int('algoId');
  const limit = Math.min(p.int('limit') ?? 500, 1000);
  p.int('page');
  return src
    .filter(pick)
    .filter((o) => (start === undefined || o.createdAt >= start) && (end === undefined || o.createdAt <= end))
    .filter((o) => from === undefined || o.seq >= from)
    .sort((x, y) => x.seq - y.seq)
    .slice(-limit);
}

const ORDER_PARAMS = [
  'symbol',
  'side',
  'positionSide',
  'type',
  'timeInForce',
  'quantity',
  'reduceOnly',
  'price',
  'newClientOrderId',
  'closePosition',
  'workingType',
  'priceProtect',
  'newOrderRespType',
  'priceMatch',
  'selfTradePreventionMode',
  'goodTillDate',
];
const ALGO_PARAMS = [
  'algoType',
  'symbol',
  'side',
  'positionSide',
  'type',
  'timeInForce',
  'quantity',
  'price',
  'triggerPrice',
  'workingType',
  'priceMatch',
  'closePosition',
  'priceProtect',
  'reduceOnly',
  'clientAlgoId',
  'selfTradePreventionMode',
  'goodTillDate',
  'newOrderRespType',
];

export function futuresOrderEndpoints(d: DialectDeps): BinanceEndpoint[] {
  const cancelAll = (algo: boolean) => (c: BinanceCall) => {
    const m = perp(d, c.params);
    for (const o of d.engine.store.openOrders(c.account, m).filter(algo ? isAlgo : visibleAsRegular))
      d.engine.cancel(o);
    return { code: 200, msg: 'The operation of cancel all open order is done.' };
  };
  return [
    {
      method: 'POST',
      path: '/fapi/v1/order',
      weight: 0,
      signed: true,
      params: ORDER_PARAMS,
      run: (c) => futuresOrderView(place(d, c, false)),
    },
    {
      method: 'POST',
      path: '/fapi/v1/algoOrder',
      weight: 0,
      signed: true,
      params: ALGO_PARAMS,
      run: (c) => algoOrderView(place(d, c, true)),
    },
    {
      method: 'GET',
      path: '/fapi/v1/order',
      weight: 1,
      signed: true,
      params: ['symbol', 'orderId', 'origClientOrderId'],
      run: (c) => futuresOrderView(find(d, c.account!, perp(d, c.params), c.params, false)),
    },
    {
      method: 'GET',
      path: '/fapi/v1/algoOrder',
      weight: 1,
      signed: true,
      params: ['symbol', 'algoId', 'clientAlgoId'],
      run: (c) => {
        const p = c.params;
        const id = p.int('algoId');
        const cid = p.str('clientAlgoId');
        const m = p.has('symbol') ? perp(d, p) : undefined;
        const o =
          id !== undefined
            ? d.engine.store.byVenueOrderId(c.account!, String(id))
            : d.engine.store.byClientId(c.account!, cid ?? '', m);
        if (o === undefined || !isAlgo(o) || (id !== undefined && id !== o.seq)) throw binanceErrors.noSuchOrder();
        return algoOrderView(o);
      },
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/order',
      weight: 1,
      signed: true,
      params: ['symbol', 'orderId', 'origClientOrderId'],
      run: (c) => futuresOrderView(cancelOne(d, c, false)),
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/algoOrder',
      weight: 1,
      signed: true,
      params: ['symbol', 'algoId', 'clientAlgoId'],
      run: (c) => ({ ...algoOrderView(cancelOne(d, c, true)), code: '200', msg: 'success' }),
    },
    {
      method: 'GET',
      path: '/fapi/v1/openOrders',
      weight: (p) => (p.has('symbol') ? 1 : 40),
      signed: true,
      params: ['symbol'],
      run: (c) => listing(d, c, visibleAsRegular, true).map(futuresOrderView),
    },
    {
      method: 'GET',
      path: '/fapi/v1/openAlgoOrders',
      weight: (p) => (p.has('symbol') ? 1 : 40),
      signed: true,
      params: ['symbol', 'algoType', 'algoId'],
      run: (c) => {
        c.params.str('algoType');
        return listing(d, c, (o) => isAlgo(o) && !o.triggered, true).map(algoOrderView);
      },
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/allOpenOrders',
      weight: 1,
      signed: true,
      params: ['symbol'],
      run: cancelAll(false),
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/algoOpenOrders',
      weight: 1,
      signed: true,
      params: ['symbol'],
      run: cancelAll(true),
    },
    {
      method: 'GET',
      path: '/fapi/v1/allOrders',
      weight: 5,
      signed: true,
      params: ['symbol', 'orderId', 'startTime', 'endTime', 'limit'],
      run: (c) => {
        perp(d, c.params);
        return listing(d, c, visibleAsRegular, false).map(futuresOrderView);
      },
    },
    {
      method: 'GET',
      path: '/fapi/v1/allAlgoOrders',
      weight: 5,
      signed: true,
      params: ['symbol', 'algoId', 'startTime', 'endTime', 'page', 'limit'],
      run: (c) => listing(d, c, isAlgo, false).map(algoOrderView),
    },
    {
      method: 'GET',
      path: '/fapi/v1/userTrades',
      weight: 5,
      signed: true,
      params: ['symbol', 'orderId', 'startTime', 'endTime', 'fromId', 'limit'],
      run: ({ account, params }) => {
        const m = perp(d, params);
        const orderId = params.int('orderId');
        const fromId = params.int('fromId');
        const start = params.int('startTime');
        const end = params.int('endTime');
        const limit = Math.min(params.int('limit') ?? 500, 1000);
        return d.engine.store
          .tradesOf(account!, m)
          .filter(
            (t) =>
              (orderId === undefined || regularOrderId(t.order) === orderId) &&
              (fromId === undefined || t.id >= fromId),
          )
          .filter((t) => (start === undefined || t.time >= start) && (end === undefined || t.time <= end))
          .slice(-limit)
          .map(futuresTradeView);
      },
    },
  ];
}
