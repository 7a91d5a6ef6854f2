/**
 * Binance USDⓈ-M response shapes, as ccxt parses them: perpetual exchangeInfo symbols, the v2/v3 account
 * (wallet, margins, positions), orders on `/fapi/v1/order`, conditional orders on the Algo Order API, and
 * user trades. Prices print with the market's tick decimals.
 */

import { fmt } from '../../domain/precision.js';
import type { Account } from './accounts.js';
import type { DialectDeps } from './binance-gate.js';
import { MARGIN_ASSET, positionMargin, unrealizedPnl } from './futures-ledger.js';
import type { MarketDef } from './instruments.js';
import { isStopKind, type SimOrder, type SimTrade } from './order-store.js';

export const FUTURES_ORDER_TYPES = ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET'];

const priceDp = (m: MarketDef) => Math.max(0, Math.round(-Math.log10(m.tickSize)));
const qtyDp = (m: MarketDef) => Math.max(0, Math.round(-Math.log10(m.stepSize)));

export function perpSymbolInfo(m: MarketDef) {
  return {
    symbol: m.id,
    pair: m.id,
    contractType: 'PERPETUAL',
    deliveryDate: 4133404800000,
    onboardDate: 1569398400000,
    status: 'TRADING',
    maintMarginPercent: '2.5000',
    requiredMarginPercent: '5.0000',
    baseAsset: m.base,
    quoteAsset: m.quote,
    marginAsset: MARGIN_ASSET,
    pricePrecision: priceDp(m),
    quantityPrecision: qtyDp(m),
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    underlyingSubType: [],
    triggerProtect: '0.0500',
    liquidationFee: '0.012500',
    marketTakeBound: '0.05',
    maxMoveOrderLimit: 10000,
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: fmt(m.tickSize, priceDp(m)),
        maxPrice: '4529764',
        tickSize: fmt(m.tickSize, priceDp(m)),
      },
      {
        filterType: 'LOT_SIZE',
        minQty: fmt(m.minQty, qtyDp(m)),
        maxQty: String(m.maxQty),
        stepSize: fmt(m.stepSize, qtyDp(m)),
      },
      {
        filterType: 'MARKET_LOT_SIZE',
        minQty: fmt(m.minQty, qtyDp(m)),
        maxQty: String(m.maxQty),
        stepSize: fmt(m.stepSize, qtyDp(m)),
      },
      { filterType: 'MAX_NUM_ORDERS', limit: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
      { filterType: 'MIN_NOTIONAL', notional: String(m.minNotional) },
      { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
    ],
    orderTypes: [...FUTURES_ORDER_TYPES],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  };
}

/** GET /fapi/v2|v3/account. */
export function accountView(d: DialectDeps, a: Account, v3: boolean) {
  let upnl = 0;
  let posMargin = 0;
  const positions = [...a.positions.entries()].map(([symbol, p]) => {
    const mark = d.engine.mark(symbol);
    const u = unrealizedPnl(p, mark);
    const im = positionMargin(p, mark, a.leverageOf(symbol));
    upnl += u;
    posMargin += im;
    return {
      symbol,
      positionSide: 'BOTH',
      positionAmt: String(p.qty),
      unrealizedProfit: fmt(u, 8),
      isolatedMargin: '0',
      notional: fmt(p.qty * mark, 8),
      isolatedWallet: '0',
      initialMargin: fmt(im, 8),
      maintMargin: fmt(Math.abs(p.qty) * mark * 0.004, 8),
      updateTime: p.updateTime,
      ...(v3
        ? {}
        : {
            leverage: String(a.leverageOf(symbol)),
            entryPrice: fmt(p.entryPrice, 8),
            isolated: false,
            maxNotional: '5000000',
            positionInitialMargin: fmt(im, 8),
            openOrderInitialMargin: '0',
          }),
    };
  });
  const wallet = a.walletBalance(MARGIN_ASSET);
  const orderMargin = d.engine.openOrderMargin(a);
  const available = wallet + upnl - posMargin - orderMargin;
  const asset = {
    asset: MARGIN_ASSET,
    walletBalance: fmt(wallet, 8),
    unrealizedProfit: fmt(upnl, 8),
    marginBalance: fmt(wallet + upnl, 8),
    maintMargin: fmt(posMargin * 0.08, 8),
    initialMargin: fmt(posMargin + orderMargin, 8),
    positionInitialMargin: fmt(posMargin, 8),
    openOrderInitialMargin: fmt(orderMargin, 8),
    crossWalletBalance: fmt(wallet, 8),
    crossUnPnl: fmt(upnl, 8),
    availableBalance: fmt(available, 8),
    maxWithdrawAmount: fmt(Math.max(0, available), 8),
    updateTime: a.updateTime,
  };
  return {
    totalInitialMargin: asset.initialMargin,
    totalMaintMargin: asset.maintMargin,
    totalWalletBalance: asset.walletBalance,
    totalUnrealizedProfit: asset.unrealizedProfit,
    totalMarginBalance: asset.marginBalance,
    totalPositionInitialMargin: asset.positionInitialMargin,
    totalOpenOrderInitialMargin: asset.openOrderInitialMargin,
    totalCrossWalletBalance: asset.crossWalletBalance,
    totalCrossUnPnl: asset.crossUnPnl,
    availableBalance: asset.availableBalance,
    maxWithdrawAmount: asset.maxWithdrawAmount,
    ...(v3
      ? {}
      : { feeTier: 0, canTrade: true, canDeposit: true, canWithdraw: true, updateTime: 0, multiAssetsMargin: false }),
    assets: [asset],
    positions,
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

const px = (m: MarketDef, x: number | undefined) => fmt(x ?? 0, Math.max(0, Math.round(-Math.log10(m.tickSize))));
const qx = (m: MarketDef, x: number | undefined) => fmt(x ?? 0, Math.max(0, Math.round(-Math.log10(m.stepSize))));

/** The regular order id: a triggered algo order's `actualOrderId`, else the order's own. */
export const regularOrderId = (o: SimOrder) => o.actualSeq ?? o.seq;

export function futuresOrderView(o: SimOrder) {
  const m = o.market;
  return {
    orderId: regularOrderId(o),
    symbol: m.id,
    status: STATUS[o.status],
    clientOrderId: o.clientOrderId,
    price: px(m, o.kind === 'stop_market' || o.kind === 'tp_market' ? 0 : o.price),
    avgPrice: fmt(o.executedQty > 0 ? o.cumQuote / o.executedQty : 0, 8),
    origQty: qx(m, o.qty),
    executedQty: qx(m, o.executedQty),
    cumQty: qx(m, o.executedQty),
    cumQuote: fmt(o.cumQuote, 8),
    timeInForce: o.postOnly ? 'GTX' : o.tif,
    type: isStopKind(o.kind) ? (o.kind.endsWith('limit') ? 'LIMIT' : 'MARKET') : o.venueType,
    reduceOnly: o.reduceOnly,
    closePosition: false,
    side: o.side.toUpperCase(),
    positionSide: 'BOTH',
    stopPrice: px(m, 0),
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: o.venueType,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: 0,
    time: o.createdAt,
    updateTime: o.updatedAt,
  };
}

export function algoOrderView(o: SimOrder) {
  const m = o.market;
  const status =
    o.status === 'new' && !o.triggered
      ? 'NEW'
      : o.status === 'canceled'
        ? 'CANCELED'
        : o.status === 'expired' && !o.triggered
          ? 'EXPIRED'
          : o.triggered
            ? 'FINISHED'
            : STATUS[o.status];
  return {
    algoId: o.seq,
    clientAlgoId: o.clientOrderId,
    algoType: 'CONDITIONAL',
    orderType: o.venueType,
    symbol: m.id,
    side: o.side.toUpperCase(),
    positionSide: 'BOTH',
    timeInForce: o.postOnly ? 'GTX' : o.tif,
    quantity: qx(m, o.qty),
    algoStatus: status,
    actualOrderId: o.triggered ? String(regularOrderId(o)) : '',
    actualPrice: px(m, o.executedQty > 0 ? o.cumQuote / o.executedQty : 0),
    triggerPrice: px(m, o.stopPrice),
    price: px(m, o.price),
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: 'CONTRACT_PRICE',
    priceMatch: 'NONE',
    closePosition: false,
    priceProtect: false,
    reduceOnly: o.reduceOnly,
    activatePrice: '',
    callbackRate: '',
    createTime: o.createdAt,
    updateTime: o.updatedAt,
    triggerTime: o.triggered ? o.updatedAt : 0,
    goodTillDate: 0,
  };
}

export function futuresTradeView(t: SimTrade) {
  const m = t.order.market;
  return {
    buyer: t.order.side === 'buy',
    commission: fmt(t.fee, 8),
    commissionAsset: t.feeAsset,
    id: t.id,
    maker: t.maker,
    orderId: regularOrderId(t.order),
    price: px(m, t.price),
    qty: qx(m, t.qty),
    quoteQty: fmt(t.quoteQty, 8),
    realizedPnl: fmt(t.realizedPnl, 8),
    side: t.order.side.toUpperCase(),
    positionSide: 'BOTH',
    symbol: m.id,
    time: t.time,
  };
}
