/**
 * Binance spot `/api/v3` signed endpoints: account, order POST/GET/DELETE, openOrders (GET, DELETE = cancel
 * all), allOrders, myTrades. Type rules as Binance's (mandatory and not-required parameters per type); orders
 * go to the shared matching engine. Market data is in `binance-market-data.ts`, shapes in `binance-spot.views.ts`.
 */
import type { Account } from './accounts.js';
import { BinanceError, binanceErrors, spotRejection } from './binance-errors.js';
import { autoClientId, type BinanceCall, type BinanceEndpoint, type DialectDeps, type Params } from './binance-gate.js';
import { cancelView, n8, orderResponse, spotOrderView, spotTradeView } from './binance-spot.views.js';
import type { MarketDef } from './instruments.js';
import { Rejection } from './matching-engine.js';
import { isOpen, type OrderKind, type SimOrder, type TimeInForce } from './order-store.js';

const KIND: Record<string, OrderKind> = {
  LIMIT: 'limit',
  LIMIT_MAKER: 'limit',
  MARKET: 'market',
  STOP_LOSS: 'stop_market',
  STOP_LOSS_LIMIT: 'stop_limit',
  TAKE_PROFIT: 'tp_market',
  TAKE_PROFIT_LIMIT: 'tp_limit',
};

function marketOf(d: DialectDeps, p: Params): MarketDef {
  const m = d.market.market('binance', 'spot', p.required('symbol'));
  if (m === undefined) throw binanceErrors.invalidSymbol();
  return m;
}

/** The order an id/client-id pair names, or -2013. */
export function findOrder(d: DialectDeps, a: Account, m: MarketDef, p: Params, idKey = 'orderId'): SimOrder {
  const id = p.int(idKey);
  const cid = p.str('origClientOrderId');
  if (id === undefined && cid === undefined) throw binanceErrors.bothIds();
  const o =
    id !== undefined ? d.engine.store.byVenueOrderId(a, String(id)) : d.engine.store.byClientId(a, cid ?? '', m);
  if (o === undefined || o.market !== m) throw binanceErrors.noSuchOrder();
  return o;
}

function placeSpot(d: DialectDeps, c: BinanceCall) {
  const p = c.params;
  const a = c.account!;
  const m = marketOf(d, p);
  const side = p.required('side');
  if (side !== 'BUY' && side !== 'SELL') throw binanceErrors.invalidSide();
  const type = p.required('type');
  const kind = KIND[type];
  if (kind === undefined) throw binanceErrors.invalidType();
  const needs = (k: string, yes: boolean) => {
    if (yes && !p.has(k)) throw binanceErrors.mandatory(k);
    if (!yes && p.has(k)) throw binanceErrors.notRequired(k);
  };
  const limitish = type === 'LIMIT' || type === 'STOP_LOSS_LIMIT' || type === 'TAKE_PROFIT_LIMIT';
  needs('price', limitish || type === 'LIMIT_MAKER');
  needs('timeInForce', limitish);
  needs('stopPrice', kind !== 'market' && kind !== 'limit');
  if (type === 'MARKET') {
    if (p.has('quantity') === p.has('quoteOrderQty')) throw binanceErrors.mandatory('quantity');
  } else {
    needs('quantity', true);
    needs('quoteOrderQty', false);
  }
  const tif = p.str('timeInForce') ?? 'GTC';
  if (tif !== 'GTC' && tif !== 'IOC' && tif !== 'FOK') throw binanceErrors.invalidTif();
  const respType = p.str('newOrderRespType') ?? (type === 'MARKET' || type === 'LIMIT' ? 'FULL' : 'ACK');
  if (!['ACK', 'RESULT', 'FULL'].includes(respType))
    throw new BinanceError(-1116, "Invalid value for 'newOrderRespType'.");
  p.str('selfTradePreventionMode');
  p.str('strategyId');
  p.str('strategyType');
  const stopPrice = p.decimal('stopPrice');
  const qty = p.decimal('quantity');
  const quoteQty = p.decimal('quoteOrderQty');
  const price = p.decimal('price');
  try {
    const o = d.engine.place({
      account: a,
      market: m,
      side: side === 'BUY' ? 'buy' : 'sell',
      kind,
      venueType: type,
      clientOrderId: p.str('newClientOrderId') ?? autoClientId(),
      ...(qty === undefined ? {} : { qty }),
      ...(quoteQty === undefined ? {} : { quoteQty }),
      ...(price === undefined ? {} : { price }),
      ...(stopPrice === undefined ? {} : { stopPrice }),
      postOnly: type === 'LIMIT_MAKER',
      tif: tif as TimeInForce,
      immediateTrigger: 'reject',
      postOnlyCrossing: 'reject',
      dropStop: stopPrice !== undefined && c.ctx.dropStop(),
    });
    return orderResponse(
      o,
      respType,
      d.engine.store.trades.filter((t) => t.order === o),
    );
  } catch (e) {
    if (e instanceof Rejection) throw spotRejection(e.reason, e.message);
    throw e;
  }
}

function windowed<T extends { time?: number; createdAt?: number }>(
  items: T[],
  p: Params,
  at: (t: T) => number,
  def = 500,
): T[] {
  const start = p.int('startTime');
  const end = p.int('endTime');
  const limit = Math.min(p.int('limit') ?? def, 1000);
  const picked = items.filter((i) => (start === undefined || at(i) >= start) && (end === undefined || at(i) <= end));
  return start !== undefined && end === undefined ? picked.slice(0, limit) : picked.slice(-limit);
}

/** The signed spot endpoints. */
export function spotTradingEndpoints(d: DialectDeps): BinanceEndpoint[] {
  return [
    {
      method: 'GET',
      path: '/api/v3/account',
      weight: 20,
      signed: true,
      params: ['omitZeroBalances'],
      run: ({ account, params }) => {
        const a = account!;
        const omit = params.bool('omitZeroBalances') === true;
        const balances = [...a.spot.entries()]
          .filter(([, b]) => !omit || b.free + b.locked > 0)
          .map(([asset, b]) => ({ asset, free: n8(b.free), locked: n8(b.locked) }));
        return {
          makerCommission: 10,
          takerCommission: 10,
          buyerCommission: 0,
          sellerCommission: 0,
          commissionRates: { maker: '0.00100000', taker: '0.00100000', buyer: '0.00000000', seller: '0.00000000' },
          canTrade: true,
          canWithdraw: true,
          canDeposit: true,
          brokered: false,
          requireSelfTradePrevention: false,
          preventSor: false,
          updateTime: a.updateTime,
          accountType: 'SPOT',
          balances,
          permissions: ['SPOT'],
          uid: 1000 + Number(a.id.replace(/\D/g, '')),
        };
      },
    },
    {
      method: 'POST',
      path: '/api/v3/order',
      weight: 1,
      signed: true,
      params: [
        'symbol',
        'side',
        'type',
        'timeInForce',
        'quantity',
        'quoteOrderQty',
        'price',
        'newClientOrderId',
        'stopPrice',
        'newOrderRespType',
        'selfTradePreventionMode',
        'strategyId',
        'strategyType',
      ],
      run: (c) => placeSpot(d, c),
    },
    {
      method: 'GET',
      path: '/api/v3/order',
      weight: 4,
      signed: true,
      params: ['symbol', 'orderId', 'origClientOrderId'],
      run: ({ account, params }) => spotOrderView(findOrder(d, account!, marketOf(d, params), params)),
    },
    {
      method: 'DELETE',
      path: '/api/v3/order',
      weight: 1,
      signed: true,
      params: ['symbol', 'orderId', 'origClientOrderId', 'newClientOrderId', 'cancelRestrictions'],
      run: ({ account, params }) => {
        const m = marketOf(d, params);
        let o: SimOrder;
        try {
          o = findOrder(d, account!, m, params);
        } catch {
          throw binanceErrors.unknownOrder();
        }
        params.str('cancelRestrictions');
        if (!isOpen(o)) throw binanceErrors.unknownOrder();
        d.engine.cancel(o);
        return cancelView(o, params.str('newClientOrderId'), d.now());
      },
    },
    {
      method: 'GET',
      path: '/api/v3/openOrders',
      weight: (p) => (p.has('symbol') ? 6 : 80),
      signed: true,
      params: ['symbol'],
      run: ({ account, params }) => {
        const m = params.has('symbol') ? marketOf(d, params) : undefined;
        return d.engine.store
          .openOrders(account, m)
          .filter((o) => o.market.venue === 'binance' && o.market.kind === 'spot')
          .map(spotOrderView);
      },
    },
    {
      method: 'DELETE',
      path: '/api/v3/openOrders',
      weight: 1,
      signed: true,
      params: ['symbol'],
      run: ({ account, params }) => {
        const m = marketOf(d, params);
        const open = d.engine.store.openOrders(account, m);
        if (open.length === 0) throw binanceErrors.unknownOrder();
        return open.map((o) => cancelView(d.engine.cancel(o), undefined, d.now()));
      },
    },
    {
      method: 'GET',
      path: '/api/v3/allOrders',
      weight: 20,
      signed: true,
      params: ['symbol', 'orderId', 'startTime', 'endTime', 'limit'],
      run: ({ account, params }) => {
        const m = marketOf(d, params);
        const from = params.int('orderId');
        const all = d.engine.store
          .ofAccount(account!, m)
          .filter((o) => from === undefined || o.seq >= from)
          .sort((x, y) => x.seq - y.seq);
        return windowed(all, params, (o) => o.createdAt).map(spotOrderView);
      },
    },
    {
      method: 'GET',
      path: '/api/v3/myTrades',
      weight: 20,
      signed: true,
      params: ['symbol', 'orderId', 'startTime', 'endTime', 'fromId', 'limit'],
      run: ({ account, params }) => {
        const m = marketOf(d, params);
        const orderId = params.int('orderId');
        const fromId = params.int('fromId');
        const trades = d.engine.store
          .tradesOf(account!, m)
          .filter(
            (t) => (orderId === undefined || t.order.seq === orderId) && (fromId === undefined || t.id >= fromId),
          );
        return windowed(trades, params, (t) => t.time).map(spotTradeView);
      },
    },
  ];
}
