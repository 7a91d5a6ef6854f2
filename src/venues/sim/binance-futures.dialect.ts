/**
 * Binance USDⓈ-M `/fapi`: perpetual market data, premium index and funding history, and the signed account
 * side — balances (v2/v3 account and balance), positions (v2/v3 positionRisk), leverage (1–5), leverage
 * brackets, margin type, income. Orders are in `binance-futures-orders.ts`.
 */

import { fmt } from '../../domain/precision.js';
import { MAX_LEVERAGE } from './accounts.js';
import { BinanceError, binanceErrors, futuresRejection } from './binance-errors.js';
import { accountView, perpSymbolInfo } from './binance-futures.views.js';
import type { BinanceEndpoint, DialectDeps, Params } from './binance-gate.js';
import { marketDataEndpoints } from './binance-market-data.js';
import { MARGIN_ASSET, positionMargin, positionOf, unrealizedPnl } from './futures-ledger.js';
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
        return {
          symbol,
          positionSide: 'BOTH',
          positionAmt: String(p.qty),
          entryPrice: fmt(p.entryPrice, 8),
          breakEvenPrice: fmt(p.entryPrice, 8),
          markPrice: fmt(mark, 8),
          unRealizedProfit: fmt(unrealizedPnl(p, mark), 8),
          liquidationPrice: '0',
          isolatedMargin: '0',
          notional: fmt(p.qty * mark, 8),
          isolatedWallet: '0',
          updateTime: p.updateTime,
          marginAsset: MARGIN_ASSET,
          ...(v3
            ? {
                initialMargin: fmt(im, 8),
                maintMargin: fmt(Math.abs(p.qty) * mark * 0.004, 8),
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
            maintMarginRatio: 0.004,
            cum: 0,
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
        try {
          d.engine.setLeverage(account!, m.id, lev);
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
