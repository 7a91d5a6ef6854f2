import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { binanceMarketTypeForUrl, binanceQuirks, PathRoutedBinanceUsdm } from './binance.quirks.js';
import { krakenQuirks, toKrakenClientId } from './kraken.quirks.js';
import type { CreateOrderRequest } from './venue-gateway.js';
import { checkOrderRequest } from './venue-quirks.js';

const base: CreateOrderRequest = {
  clientOrderId: 'bosun-1',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'market',
  amount: 0.01,
  market: 'spot',
};

describe('toKrakenClientId', () => {
  it('is a deterministic RFC 4122 UUIDv5 (cross-checked with Python uuid.uuid5)', () => {
    expect(toKrakenClientId('bosun-1')).toBe('ae153c3b-e003-59ce-a898-837492e3d1a5');
    expect(toKrakenClientId('BTCUSDT-trend-000042')).toBe('cc319567-96d9-5c55-82d1-9bc4a03df2ea');
    expect(toKrakenClientId('bosun-1')).toBe(toKrakenClientId('bosun-1'));
    expect(toKrakenClientId('bosun-2')).not.toBe(toKrakenClientId('bosun-1'));
    expect(toKrakenClientId('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('checkOrderRequest', () => {
  it.each<[string, Partial<CreateOrderRequest>, RegExp]>([
    ['a price on a market order', { price: 50_000 }, /takes no price/],
    ['a limit without price', { type: 'limit' }, /needs a positive price/],
    ['a stop without trigger', { type: 'stop_loss' }, /needs a positive stopPrice/],
    ['post-only market', { postOnly: true }, /postOnly/],
    ['reduce-only spot', { reduceOnly: true }, /reduceOnly/],
    ['zero amount', { amount: 0 }, /amount/],
    ['NaN amount', { amount: Number.NaN }, /amount/],
    ['an unserved market kind', { market: 'linear' }, /not served/],
  ])('refuses %s', (_name, patch, message) => {
    expect(checkOrderRequest({ ...base, ...patch }, ['spot'])).toMatch(message);
  });

  it('accepts well-formed requests of every type', () => {
    expect(checkOrderRequest(base, ['spot'])).toBeUndefined();
    expect(checkOrderRequest({ ...base, type: 'stop_loss_limit', price: 9, stopPrice: 10 }, ['spot'])).toBeUndefined();
    expect(checkOrderRequest({ ...base, market: 'linear', reduceOnly: true }, ['linear'])).toBeUndefined();
  });
});

describe('order arguments', () => {
  it('sends Kraken stops with stopLossPrice/takeProfitPrice and a UUID cl_ord_id, never triggerPrice', () => {
    const q = krakenQuirks();
    const sl = q.orderArgs({ ...base, type: 'stop_loss', stopPrice: 55_000 }, toKrakenClientId('bosun-1'));
    expect(sl).toEqual({
      type: 'market',
      price: undefined,
      params: { stopLossPrice: 55_000, cl_ord_id: 'ae153c3b-e003-59ce-a898-837492e3d1a5' },
    });
    const tpl = q.orderArgs({ ...base, type: 'take_profit_limit', price: 70_100, stopPrice: 70_000 }, 'u');
    expect(tpl).toMatchObject({ type: 'limit', price: 70_100, params: { takeProfitPrice: 70_000 } });
    expect(tpl.params).not.toHaveProperty('triggerPrice');
    expect(tpl.params).not.toHaveProperty('stopPrice');
  });

  it('sends Binance the clientOrderId as newClientOrderId and no price on market orders', () => {
    const args = binanceQuirks('spot').orderArgs(base, 'bosun-1');
    expect(args).toEqual({ type: 'market', price: undefined, params: { newClientOrderId: 'bosun-1' } });
    expect(binanceQuirks('spot').checkClientId('has space')).toMatch(/1-36/);
    expect(binanceQuirks('spot').checkClientId('x'.repeat(37))).toMatch(/1-36/);
  });

  it('reads venue order types that ccxt unifies away', () => {
    expect(binanceQuirks('spot').rawOrderFields({ type: 'TAKE_PROFIT' }).type).toBe('take_profit');
    expect(binanceQuirks('linear').rawOrderFields({ type: 'TAKE_PROFIT' }).type).toBe('take_profit_limit');
    expect(krakenQuirks().rawOrderFields({ descr: { ordertype: 'stop-loss-limit' } }).type).toBe('stop_loss_limit');
  });

  it('reads what a Binance payload says better than ccxt: original client id, creation time, algo book', () => {
    const cancelAnswer = { clientOrderId: 'cancel-7', origClientOrderId: 'bosun-7', transactTime: 5, workingTime: -1 };
    expect(binanceQuirks('spot').rawOrderFields(cancelAnswer)).toMatchObject({
      clientOrderId: 'bosun-7',
      timestamp: 5,
    });
    expect(binanceQuirks('linear').rawOrderFields({ algoId: 12, orderType: 'STOP_MARKET' })).toEqual({
      type: 'stop_loss',
      book: 'algo:',
    });
  });

  it('snaps USDⓈ-M depth to the steps the venue accepts', () => {
    expect(binanceQuirks('linear').depthParam(30)).toBe(50);
    expect(binanceQuirks('spot').depthParam(30)).toBe(30);
  });
});

describe('Binance error tables chosen by path', () => {
  const fapiUrl = 'http://127.0.0.1:40123/fapi/v1/order';
  const body = '{"code":-2019,"msg":"Margin is insufficient."}';

  it('maps paths to market types', () => {
    expect(binanceMarketTypeForUrl('http://127.0.0.1:1/api/v3/order')).toBe('spot');
    expect(binanceMarketTypeForUrl(fapiUrl)).toBe('linear');
    expect(binanceMarketTypeForUrl('http://127.0.0.1:1/dapi/v1/order')).toBe('inverse');
    expect(binanceMarketTypeForUrl('garbage')).toBeUndefined();
  });

  it('turns USDⓈ-M -2019 into InsufficientFunds on loopback, where plain ccxt says ExchangeError', () => {
    const run = (ex: InstanceType<typeof ccxt.binanceusdm>) => {
      try {
        ex.handleErrors(400, 'Bad Request', fapiUrl, 'POST', {}, body, JSON.parse(body), {}, '');
        return 'no error';
      } catch (e) {
        return (e as Error).constructor.name;
      }
    };
    expect(run(new ccxt.binanceusdm())).toBe('ExchangeError');
    expect(run(new PathRoutedBinanceUsdm())).toBe('InsufficientFunds');
  });

  it('keeps host-based behaviour for the real hosts', () => {
    const ex = new PathRoutedBinanceUsdm();
    expect(() =>
      ex.handleErrors(
        400,
        'Bad Request',
        'https://fapi.binance.com/fapi/v1/order',
        'POST',
        {},
        body,
        JSON.parse(body),
        {},
        '',
      ),
    ).toThrow(ccxt.InsufficientFunds);
  });
});
