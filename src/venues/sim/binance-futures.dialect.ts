/**
 * Binance USDⓈ-M `/fapi`: perpetual market data, premium index and funding history, and the signed account
 * side — balances (v2/v3 account and balance), positions (v2/v3 positionRisk), leverage (1–5), leverage
 * brackets, margin type, income. Orders are in `binance-futures-orders.ts`.
 */

import { clean, fmt } from '../../domain/precision.js';
import { type Account, MAX_LEVERAGE } from './accounts.js';
import { BinanceError, binanceErrors, futuresRejection } from './binance-errors.js';
import { accountView, perpSymbolInfo } from './binance-futures.views.js';
import type { BinanceEndpoint, DialectDeps, Params } from './binance-gate.js';
import { marketDataEndpoints } from './binance-market-data.js';
import {
  availableMargin,
  liquidationPriceOf,
  MAINT_AMOUNT,
  MAINT_MARGIN_RATE,
  MARGIN_ASSET,
  positionMargin,
  positionOf,
  unrealizedPnl,
} from './futures-ledger.js';
import type { MarketDef } from './instruments.js';
import { Rejection } from './matching-engine.js';

export function perp(d: DialectDeps, p: Params, key = 'symbol'): MarketDef {
  const m = d.market.market('binance', 'perp', p.required(key));
  if (m === undefined) throw binanceErrors.invalidSymbol();
  return m;
}

function premiumIndex(d: DialectDeps, m: MarketDef) {
  const t = d.now();
  const mark = d.market.fair(m, t);
  const next = d.market.nextFundingTime(t);
  return {
    symbol: m.id,
    markPrice: fmt(mark, 8),
    indexPrice: fmt(mark, 8),
    estimatedSettlePrice: fmt(mark, 8),
    lastFundingRate: fmt(d.market.fundingRate(m, next, t), 8),
    interestRate: '0.00010000',
    nextFundingTime: next,
    time: t,
  };
}

function fundingHistory(d: DialectDeps, p: Params) {
  const interval = d.market.opts.fundingIntervalMs;
  const t = d.now();
  const limit = Math.min(p.int('limit') ?? 100, 1000);
  const end = Math.min(p.int('endTime') ?? t, t);
  const start = p.int('startTime');
  const markets = p.has('symbol') ? [perp(d, p)] : d.market.markets('binance', 'perp');
  const out: { symbol: string; fundingTime: number; fundingRate: string; markPrice: string }[] = [];
  const first = Math.max(
    Math.ceil(d.market.opts.originMs / interval),
    Math.ceil((start ?? end - limit * interval) / interval),
  );
  for (let i = first; i * interval <= end; i++) {
    for (const m of markets) {
      const ft = i * interval;
      out.push({
        symbol: m.id,
        fundingTime: ft,
        fundingRate: fmt(d.market.fundingRate(m, ft, t), 8),
        markPrice: fmt(d.market.fair(m, t), 8),
      });
    }
  }
  return start !== undefined ? out.slice(0, limit) : out.slice(-limit);
}

/**
 * POST /fapi/v1/positionMargin: adds (type 1) or removes (type 2) margin of an isolated position, with Binance's
 * refusals: -4049 not isolated, -4054 no position, -4055 amount not positive, -4051 more than the position can
 * spare (it must keep its initial margin at the mark) or -4050 more than the cross balance has.
 */
function modifyIsolatedMargin(d: DialectDeps, a: Account, params: Params) {
  const m = perp(d, params);
  const side = params.str('positionSide') ?? 'BOTH';
  if (side !== 'BOTH') throw new BinanceError(-4061, "Order's position side does not match user's setting.");
  const amount = params.decimal('amount');
  if (amount === undefined) throw binanceErrors.mandatory('amount');
  const type = params.int('type');
  if (type !== 1 && type !== 2) throw new BinanceError(-1116, 'Invalid type.');
  if (a.marginTypeOf(m.id) !== 'ISOLATED')
    throw new BinanceError(-4049, 'Add margin only support for isolated position.');
  const p = a.positions.get(m.id);
  if (p === undefined || p.qty === 0) throw new BinanceError(-4054, 'Cannot add position margin: position is 0.');
  if (!(amount > 0)) throw new BinanceError(-4055, 'Amount must be positive.');
  const held = p.isolatedMargin ?? 0;
  const mark = d.engine.mark(m.id);
  if (type === 2 && held - amount < positionMargin(p, mark, a.leverageOf(m.id)) - unrealizedPnl(p, mark))
    throw new BinanceError(-4051, 'Isolated balance insufficient.');
  if (type === 1 && amount > availableMargin(a, (s) => d.engine.mark(s), d.engine.openOrderMargin(a)))
    throw new BinanceError(-4050, 'Cross balance insufficient.');
  p.isolatedMargin = clean(held + (type === 1 ? amount : -amount));
  d.engine.touch();
  return { amount, code: 200, msg: 'Successfully modify position margin.', type };
}

/** Every /fapi endpoint except orders. */
export function futuresEndpoints(d: DialectDeps): BinanceEndpoint[] {
  const md = marketDataEndpoints(d, {
    kind: 'perp',
    prefix: '/fapi/v1',
    symbolInfo: perpSymbolInfo,
    infoExtra: () => ({
      futuresType: 'U_MARGINED',
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
        { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
      ],
      assets: [{ asset: MARGIN_ASSET, marginAvailable: true, autoAssetExchange: '-10000' }],
    }),
  });
  const positionRisk = (v3: boolean): BinanceEndpoint => ({
    method: 'GET',
    path: `/fapi/${v3 ? 'v3' : 'v2'}/positionRisk`,
    weight: 5,
    signed: true,
    params: ['symbol'],
    run: ({ account, params }) => {
      const a = account!;
      const only = params.has('symbol') ? perp(d, params).id : undefined;
      const ids =
        only !== undefined
          ? [only]
          : v3
            ? [...a.positions.keys()]
            : d.market.markets('binance', 'perp').map((m) => m.id);
      return ids.map((symbol) => {
        const p = positionOf(a, symbol);
        const mark = d.engine.mark(symbol);
        const lev = a.leverageOf(symbol);
        const im = positionMargin(p, mark, lev);
        const iso = a.marginTypeOf(symbol) === 'ISOLATED' ? (p.isolatedMargin ?? 0) : 0;
        return {
          symbol,
          positionSide: 'BOTH',
          positionAmt: String(p.qty),
          entryPrice: fmt(p.entryPrice, 8),
          breakEvenPrice: fmt(p.entryPrice, 8),
          markPrice: fmt(mark, 8),
          unRealizedProfit: fmt(unrealizedPnl(p, mark), 8),
          liquidationPrice: fmt(
            liquidationPriceOf(a, symbol, (x) => d.engine.mark(x)),
            8,
          ),
          isolatedMargin: fmt(iso === 0 ? 0 : iso + unrealizedPnl(p, mark), 8),
          notional: fmt(p.qty * mark, 8),
          isolatedWallet: fmt(iso, 8),
          updateTime: p.updateTime,
          marginAsset: MARGIN_ASSET,
          ...(v3
            ? {
                initialMargin: fmt(im, 8),
                maintMargin: fmt(Math.abs(p.qty) * mark * MAINT_MARGIN_RATE, 8),
                positionInitialMargin: fmt(im, 8),
                openOrderInitialMargin: '0',
                adl: 0,
                bidNotional: '0',
                askNotional: '0',
              }
            : {
                leverage: String(lev),
                marginType: a.marginTypeOf(symbol) === 'ISOLATED' ? 'isolated' : 'cross',
                maxNotionalValue: '5000000',
                isAutoAddMargin: 'false',
              }),
        };
      });
    },
  });
  const balance = (v: 'v2' | 'v3'): BinanceEndpoint => ({
    method: 'GET',
    path: `/fapi/${v}/balance`,
    weight: 5,
    signed: true,
    params: [],
    run: ({ account }) => {
      const view = accountView(d, account!, true).assets[0]!;
      return [
        {
          accountAlias: 'SgsR',
          asset: view.asset,
          balance: view.walletBalance,
          crossWalletBalance: view.crossWalletBalance,
          crossUnPnl: view.crossUnPnl,
          availableBalance: view.availableBalance,
          maxWithdrawAmount: view.maxWithdrawAmount,
          marginAvailable: true,
          updateTime: view.updateTime,
        },
      ];
    },
  });
  return [
    ...md,
    {
      method: 'GET',
      path: '/fapi/v1/premiumIndex',
      weight: (p) => (p.has('symbol') ? 1 : 10),
      signed: false,
      params: ['symbol'],
      run: ({ params }) =>
        params.has('symbol')
          ? premiumIndex(d, perp(d, params))
          : d.market.markets('binance', 'perp').map((m) => premiumIndex(d, m)),
    },
    {
      method: 'GET',
      path: '/fapi/v1/fundingRate',
      weight: 1,
      signed: false,
      params: ['symbol', 'startTime', 'endTime', 'limit'],
      run: ({ params }) => fundingHistory(d, params),
    },
    {
      method: 'GET',
      path: '/fapi/v1/fundingInfo',
      weight: 1,
      signed: false,
      params: [],
      run: () =>
        d.market.markets('binance', 'perp').map((m) => ({
          symbol: m.id,
          adjustedFundingRateCap: '0.02000000',
          adjustedFundingRateFloor: '-0.02000000',
          fundingIntervalHours: d.market.opts.fundingIntervalMs / 3_600_000,
          disclaimer: false,
        })),
    },
    {
      method: 'GET',
      path: '/fapi/v3/account',
      weight: 5,
      signed: true,
      params: [],
      run: ({ account }) => accountView(d, account!, true),
    },
    {
      method: 'GET',
      path: '/fapi/v2/account',
      weight: 5,
      signed: true,
      params: [],
      run: ({ account }) => accountView(d, account!, false),
    },
    balance('v2'),
    balance('v3'),
    positionRisk(true),
    positionRisk(false),
    {
      method: 'GET',
      path: '/fapi/v1/leverageBracket',
      weight: 1,
      signed: true,
      params: ['symbol'],
      run: ({ params }) => {
        const ms = params.has('symbol') ? [perp(d, params)] : d.market.markets('binance', 'perp');
        const brackets = [
          {
            bracket: 1,
            initialLeverage: MAX_LEVERAGE,
            notionalCap: 5_000_000,
            notionalFloor: 0,
            maintMarginRatio: MAINT_MARGIN_RATE,
            cum: MAINT_AMOUNT,
          },
        ];
        return ms.map((m) => ({ symbol: m.id, brackets }));
      },
    },
    {
      method: 'POST',
      path: '/fapi/v1/leverage',
      weight: 1,
      signed: true,
      params: ['symbol', 'leverage'],
      run: ({ account, params }) => {
        const m = perp(d, params);
        const lev = params.int('leverage');
        if (lev === undefined) throw binanceErrors.mandatory('leverage');
        // As Binance: lowering an isolated position's leverage would take margin it holds (-4161).
        const a = account!;
        if (a.marginTypeOf(m.id) === 'ISOLATED' && positionOf(a, m.id).qty !== 0 && lev < a.leverageOf(m.id))
          throw new BinanceError(
            -4161,
            'Leverage reduction is not supported in Isolated Margin Mode with open positions',
          );
        try {
          d.engine.setLeverage(a, m.id, lev);
        } catch (e) {
          if (e instanceof Rejection) throw futuresRejection(e.reason, e.message, m.minNotional);
          throw e;
        }
        return { leverage: lev, maxNotionalValue: '5000000', symbol: m.id };
      },
    },
    {
      method: 'POST',
      path: '/fapi/v1/marginType',
      weight: 1,
      signed: true,
      params: ['symbol', 'marginType'],
      run: ({ account, params }) => {
        const m = perp(d, params);
        const t = params.required('marginType');
        if (t !== 'CROSSED' && t !== 'ISOLATED') throw new BinanceError(-1116, 'Invalid marginType.');
        // As Binance: the same type is -4046; a change needs the symbol flat and without open orders.
        const a = account!;
        if (a.marginTypeOf(m.id) === t) throw new BinanceError(-4046, 'No need to change margin type.');
        if (positionOf(a, m.id).qty !== 0)
          throw new BinanceError(-4048, 'Margin type cannot be changed if there exists position.');
        if (d.engine.store.openOrders(a, m).length > 0)
          throw new BinanceError(-4047, 'Margin type cannot be changed if there exists open orders.');
        a.marginType.set(m.id, t);
        d.engine.touch();
        return { code: 200, msg: 'success' };
      },
    },
    {
      method: 'POST',
      path: '/fapi/v1/positionMargin',
      weight: 1,
      signed: true,
      params: ['symbol', 'positionSide', 'amount', 'type'],
      run: ({ account, params }) => modifyIsolatedMargin(d, account!, params),
    },
    {
      method: 'GET',
      path: '/fapi/v1/positionSide/dual',
      weight: 30,
      signed: true,
      params: [],
      run: () => ({ dualSidePosition: false }),
    },
    {
      method: 'GET',
      path: '/fapi/v1/multiAssetsMargin',
      weight: 30,
      signed: true,
      params: [],
      run: () => ({ multiAssetsMargin: false }),
    },
    {
      method: 'GET',
      path: '/fapi/v1/income',
      weight: 30,
      signed: true,
      params: ['symbol', 'incomeType', 'startTime', 'endTime', 'page', 'limit'],
      run: ({ account, params }) => {
        const symbol = params.str('symbol');
        const type = params.str('incomeType');
        const start = params.int('startTime');
        const end = params.int('endTime');
        params.int('page');
        const limit = Math.min(params.int('limit') ?? 100, 1000);
        return account!.income
          .filter((r) => (symbol === undefined || r.symbol === symbol) && (type === undefined || r.incomeType === type))
          .filter((r) => (start === undefined || r.time >= start) && (end === undefined || r.time <= end))
          .slice(-limit)
          .map((r) => ({
            symbol: r.symbol,
            incomeType: r.incomeType,
            income: fmt(r.income, 8),
            asset: r.asset,
            info: r.incomeType,
            time: r.time,
            tranId: r.tranId,
            tradeId: '',
          }));
      },
    },
  ];
}
