import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type OrderContext,
  toBalances,
  toMarketInfo,
  toOrder,
  toOrderBook,
  toTicker,
  toTickerStrict,
} from './ccxt-mappers.js';
import { BadVenueResponse } from './error-classifier.js';
import { SymbolMap } from './symbol-map.js';

const symbols = SymbolMap.fromMarkets([
  { symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', spot: true },
  { symbol: 'BTC/USDT:USDT', base: 'BTC', quote: 'USDT', swap: true, linear: true },
  { symbol: 'BTC/USDT:USDT-260327', base: 'BTC', quote: 'USDT', swap: false, linear: true },
  { symbol: 'BTC/USD', base: 'BTC', quote: 'USD', spot: true },
]);

const ctx: OrderContext = { symbols, bosunClientId: () => null, raw: () => ({}) };

describe('SymbolMap', () => {
  it('keys Bosun symbols by kind and skips kinds Bosun does not trade', () => {
    expect(symbols.venueSymbol('BTCUSDT', 'spot')).toBe('BTC/USDT');
    expect(symbols.venueSymbol('BTCUSDT', 'linear')).toBe('BTC/USDT:USDT');
    expect(symbols.fromVenue('BTC/USDT:USDT')).toEqual({ symbol: 'BTCUSDT', market: 'linear' });
    expect(symbols.fromVenue('ETH/USDT')).toEqual({ symbol: 'ETHUSDT', market: 'spot' });
    expect(symbols.size).toBe(3);
  });
});

describe('toBalances', () => {
  it('maps ccxt balances', () => {
    const b = toBalances({ info: { balances: [] }, total: { USDT: 100 }, free: { USDT: 90 }, used: { USDT: 10 } });
    expect(b).toEqual({ USDT: { free: 90, used: 10, total: 100 } });
  });

  it('refuses the empty balance ccxt builds from an HTML body', () => {
    expect(() => toBalances({ info: '<html>502</html>', total: {}, free: {}, used: {} })).toThrow(BadVenueResponse);
  });
});

describe('toOrder', () => {
  const binanceFull = {
    id: '42',
    clientOrderId: 'bosun-1',
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'market',
    status: 'closed',
    amount: 0.01,
    filled: 0.01,
    remaining: 0,
    price: 60006,
    average: 60006,
    fee: { cost: 0.00001, currency: 'BTC' },
    timestamp: 1_700_000_000_000,
    info: {},
  };

  it('maps a full order', () => {
    expect(toOrder(binanceFull, { ...ctx, bosunClientId: (v) => v })).toMatchObject({
      id: '42',
      clientOrderId: 'bosun-1',
      symbol: 'BTCUSDT',
      market: 'spot',
      status: 'closed',
      filled: 0.01,
      fee: { cost: 0.00001, currency: 'BTC' },
      ackOnly: false,
    });
  });

  it('refuses the id-less order ccxt parses out of a Kraken garbage answer', () => {
    expect(() => toOrder({ id: undefined, info: 'oops' }, ctx)).toThrow(BadVenueResponse);
  });

  it('refuses an order without a status unless it is the acknowledgement of our own create', () => {
    const ack = { id: 'OABC-1', symbol: 'BTC/USD', side: 'buy', amount: 0.01, info: { descr: {} } };
    expect(() => toOrder(ack, ctx)).toThrow(BadVenueResponse);
    const sent = {
      symbol: 'BTCUSD',
      market: 'spot' as const,
      side: 'buy' as const,
      type: 'limit' as const,
      amount: 0.01,
    };
    expect(toOrder(ack, { ...ctx, sent })).toMatchObject({ status: 'open', ackOnly: true, type: 'limit', filled: 0 });
  });

  it('accepts Kraken fee costs given as strings', () => {
    const o = toOrder({ ...binanceFull, symbol: 'BTC/USD', fee: { cost: '0.52', currency: 'USD' } }, ctx);
    expect(o.fee).toEqual({ cost: 0.52, currency: 'USD' });
  });

  it('derives stop types from ccxt trigger fields when the raw type is unknown', () => {
    const o = toOrder({ ...binanceFull, type: 'limit', status: 'open', stopLossPrice: 55_000, price: 54_900 }, ctx);
    expect(o).toMatchObject({ type: 'stop_loss_limit', stopPrice: 55_000 });
  });
});

describe('toOrderBook and toTicker', () => {
  it('refuses a book empty on both sides (ccxt output for an unparseable depth body)', () => {
    expect(() => toOrderBook({ bids: [], asks: [], timestamp: undefined }, 'BTCUSDT', 'spot', 1)).toThrow(
      BadVenueResponse,
    );
  });

  it('maps tickers with the receive time', () => {
    const t = toTicker({ symbol: 'BTC/USDT', bid: 1, ask: 2, last: 1.5, timestamp: 5, info: {} }, symbols, 99);
    expect(t).toEqual({
      symbol: 'BTCUSDT',
      market: 'spot',
      bid: 1,
      ask: 2,
      last: 1.5,
      venueTs: 5,
      receivedAt: 99,
      bidSize: null,
      askSize: null,
    });
    // The sizes at the touch when the venue's ticker carries them (the maker shadow's queue ahead).
    const sized = toTicker(
      { symbol: 'BTC/USDT', bid: 1, ask: 2, last: 1.5, timestamp: 5, bidVolume: 0.4, askVolume: 0.7, info: {} },
      symbols,
      99,
    );
    expect(sized).toMatchObject({ bidSize: 0.4, askSize: 0.7 });
  });

  it('maps every ticker shape as the schema does: the same ticker, or the same refusal', () => {
    const field = fc.oneof(
      fc.double({ noNaN: false }),
      fc.constantFrom(null, undefined, '12.5', '-3', 'abc', '', Number.POSITIVE_INFINITY, Number.NaN),
      fc.integer(),
    );
    const raw = fc.record(
      {
        symbol: fc.constantFrom('BTC/USDT', 'BTC/USD', 'BTC/USDT:USDT', '', 7),
        bid: field,
        ask: field,
        last: field,
        timestamp: field,
        quoteVolume: field,
        percentage: field,
        bidVolume: field,
        askVolume: field,
        info: fc.constantFrom({}, [], null, 'html', { a: 1 }),
      },
      { requiredKeys: ['symbol', 'info'] },
    );
    const outcome = (f: () => unknown) => {
      try {
        return { ok: f() };
      } catch (e) {
        return { error: (e as Error).message, type: (e as Error).constructor.name };
      }
    };
    let mapped = 0;
    fc.assert(
      fc.property(raw, (r) => {
        const got = outcome(() => toTicker(r, symbols, 42));
        expect(got).toStrictEqual(outcome(() => toTickerStrict(r, symbols, 42)));
        if ('ok' in got) mapped += 1;
      }),
      { numRuns: 3_000 },
    );
    expect(mapped).toBeGreaterThan(50);
  });

  it('maps market filters from TICK_SIZE precision', () => {
    const m = toMarketInfo(
      {
        symbol: 'BTC/USDT',
        base: 'BTC',
        quote: 'USDT',
        active: true,
        precision: { amount: 0.00001, price: 0.01 },
        limits: { amount: { min: 0.00001 }, cost: { min: 5 } },
      },
      'BTCUSDT',
      'spot',
    );
    expect(m).toMatchObject({ minQty: 0.00001, stepSize: 0.00001, tickSize: 0.01, minNotional: 5, active: true });
  });
});
