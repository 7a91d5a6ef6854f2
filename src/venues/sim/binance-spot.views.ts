/**
 * Binance spot response shapes, as ccxt parses them (reference §1.4): exchangeInfo symbols with filters and
 * orderTypes, orders (GET/list, POST in ACK/RESULT/FULL, DELETE) and trades. Numbers print with 8 decimals.
 */
import { fmt } from '../../domain/precision.js';
import type { MarketDef } from './instruments.js';
import type { SimOrder, SimTrade } from './order-store.js';

export const SPOT_ORDER_TYPES = [
  'LIMIT',
  'LIMIT_MAKER',
  'MARKET',
  'STOP_LOSS',
  'STOP_LOSS_LIMIT',
  'TAKE_PROFIT',
  'TAKE_PROFIT_LIMIT',
] as const;

const STATUS: Record<SimOrder['status'], string> = {
  new: 'NEW',
  partially_filled: 'PARTIALLY_FILLED',
  filled: 'FILLED',
  canceled: 'CANCELED',
  expired: 'EXPIRED',
  rejected: 'REJECTED',
};

/** Binance prints spot numbers with 8 decimals. */
export const n8 = (x: number | undefined) => fmt(x ?? 0, 8);

export function spotSymbolInfo(m: MarketDef) {
  return {
    symbol: m.id,
    status: 'TRADING',
    baseAsset: m.base,
    baseAssetPrecision: 8,
    quoteAsset: m.quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: [...SPOT_ORDER_TYPES],
    icebergAllowed: false,
    ocoAllowed: false,
    otoAllowed: false,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: false,
    cancelReplaceAllowed: false,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: n8(m.tickSize), maxPrice: n8(1_000_000), tickSize: n8(m.tickSize) },
      { filterType: 'LOT_SIZE', minQty: n8(m.minQty), maxQty: n8(m.maxQty), stepSize: n8(m.stepSize) },
      {
        filterType: 'NOTIONAL',
        minNotional: n8(m.minNotional),
        applyMinToMarket: true,
        maxNotional: n8(9_000_000),
        applyMaxToMarket: false,
        avgPriceMins: 5,
      },
      { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

/** GET /api/v3/order and list item shape. */
export function spotOrderView(o: SimOrder) {
  return {
    symbol: o.market.id,
    orderId: o.seq,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    price: n8(o.price),
    origQty: n8(o.qty),
    executedQty: n8(o.executedQty),
    cummulativeQuoteQty: n8(o.cumQuote),
    status: STATUS[o.status],
    timeInForce: o.tif,
    type: o.venueType,
    side: o.side.toUpperCase(),
    stopPrice: n8(o.stopPrice),
    icebergQty: n8(0),
    time: o.createdAt,
    updateTime: o.updatedAt,
    isWorking: o.stopPrice === undefined || o.triggered,
    workingTime: o.stopPrice === undefined || o.triggered ? o.createdAt : -1,
    origQuoteOrderQty: n8(o.quoteQty),
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
}

export function spotTradeView(t: SimTrade) {
  return {
    symbol: t.order.market.id,
    id: t.id,
    orderId: t.order.seq,
    orderListId: -1,
    price: n8(t.price),
    qty: n8(t.qty),
    quoteQty: n8(t.quoteQty),
    commission: n8(t.fee),
    commissionAsset: t.feeAsset,
    time: t.time,
    isBuyer: t.order.side === 'buy',
    isMaker: t.maker,
    isBestMatch: true,
  };
}

/** The POST /api/v3/order answer in the requested response type; `trades` are the order's fills. */
export function orderResponse(o: SimOrder, respType: string, trades: readonly SimTrade[]) {
  const ack = {
    symbol: o.market.id,
    orderId: o.seq,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    transactTime: o.createdAt,
  };
  if (respType === 'ACK') return ack;
  const v = spotOrderView(o);
  const result = {
    ...ack,
    price: v.price,
    origQty: v.origQty,
    executedQty: v.executedQty,
    origQuoteOrderQty: v.origQuoteOrderQty,
    cummulativeQuoteQty: v.cummulativeQuoteQty,
    status: v.status,
    timeInForce: v.timeInForce,
    type: v.type,
    side: v.side,
    workingTime: v.workingTime,
    selfTradePreventionMode: v.selfTradePreventionMode,
    ...(o.stopPrice === undefined ? {} : { stopPrice: v.stopPrice }),
  };
  if (respType === 'RESULT') return result;
  const fills = trades.map((t) => ({
    price: n8(t.price),
    qty: n8(t.qty),
    commission: n8(t.fee),
    commissionAsset: t.feeAsset,
    tradeId: t.id,
  }));
  return { ...result, fills };
}

/** The DELETE /api/v3/order (and openOrders) item. */
export function cancelView(o: SimOrder, newClientId: string | undefined, now: number) {
  const v = spotOrderView(o);
  return {
    symbol: v.symbol,
    origClientOrderId: o.clientOrderId,
    orderId: o.seq,
    orderListId: -1,
    clientOrderId: newClientId ?? `cancel-${o.seq}`,
    transactTime: now,
    price: v.price,
    origQty: v.origQty,
    executedQty: v.executedQty,
    origQuoteOrderQty: v.origQuoteOrderQty,
    cummulativeQuoteQty: v.cummulativeQuoteQty,
    status: v.status,
    timeInForce: v.timeInForce,
    type: v.type,
    side: v.side,
    selfTradePreventionMode: v.selfTradePreventionMode,
    ...(o.stopPrice === undefined ? {} : { stopPrice: v.stopPrice }),
  };
}
