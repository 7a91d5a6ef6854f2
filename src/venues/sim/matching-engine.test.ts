import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccountBook } from './accounts.js';
import { createManualClock } from './clock.js';
import { positionOf } from './futures-ledger.js';
import { buildCatalogue, type MarketKind } from './instruments.js';
import { Market } from './market.js';
import { MatchingEngine, type PlaceRequest, Rejection } from './matching-engine.js';
import { DEFAULT_BOOK } from './order-book.js';

const HOUR = 3_600_000;

function rig(seed = 1) {
  const clock = createManualClock();
  const now = () => clock.now();
  const market = new Market(buildCatalogue(), {
    seed,
    originMs: now(),
    stepMs: 1000,
    fundingIntervalMs: 8 * HOUR,
    book: DEFAULT_BOOK,
  });
  const accounts = new AccountBook(now);
  const a = accounts.create('binance', undefined, {
    spot: { USDT: 10_000_000, BTC: 100 },
    futures: { USDT: 1_000_000 },
  });
  const engine = new MatchingEngine(market, now, seed);
  engine.accounts = () => accounts.all('binance');
  const m = (id: string, kind: MarketKind = 'spot') => market.market('binance', kind, id)!;
  const fair = (id: string, kind: MarketKind = 'spot') => market.fair(m(id, kind), now());
  const place = (
    r: Partial<PlaceRequest> & Pick<PlaceRequest, 'side' | 'kind'>,
    id = 'BTCUSDT',
    kind: MarketKind = 'spot',
  ) =>
    engine.place({
      account: a,
      market: m(id, kind),
      venueType: r.kind.toUpperCase(),
      clientOrderId: '',
      immediateTrigger: 'reject',
      postOnlyCrossing: 'reject',
      ...r,
    });
  const advance = (ms: number) => {
    clock.advance(ms);
    engine.sync();
  };
  return { market, engine, a, m, fair, place, advance, now };
}

const rejection = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof Rejection) return e.reason;
    throw e;
  }
  return undefined;
};

describe('MatchingEngine: aggressive orders against the finite book', () => {
  it('walks the book best-first and books quote spent, base received and the base fee', () => {
    const r = rig();
    const book = r.market.book(r.m('BTCUSDT'), r.now());
    const o = r.place({ side: 'buy', kind: 'market', qty: 1 });
    expect(o.status).toBe('filled');
    const trades = r.engine.store.trades;
    expect(trades[0]!.price).toBe(book.asks[0]!.price);
    expect(trades.map((t) => t.price)).toEqual([...trades.map((t) => t.price)].sort((x, y) => x - y));
    expect(r.a.balance('USDT').free).toBeCloseTo(10_000_000 - o.cumQuote, 6);
    expect(r.a.balance('BTC').free).toBeCloseTo(100 + 1 - 0.001, 9);
  });

  it('books commissions with 8 decimals, as it prints them, so balances stay on the 8-decimal grid', () => {
    const r = rig();
    r.a.credit('SOL', 10);
    for (const qty of [0.303, 0.777, 1.001]) r.place({ side: 'sell', kind: 'market', qty }, 'SOLUSDT');
    for (const t of r.engine.store.trades) expect(t.fee).toBe(Number(t.fee.toFixed(8)));
    for (const asset of ['SOL', 'USDT']) {
      const free = r.a.balance(asset).free;
      expect(free).toBe(Number(free.toFixed(8)));
    }
  });

  it('partially fills beyond the depth and expires the rest', () => {
    const r = rig();
    const o = r.place({ side: 'buy', kind: 'market', qty: 500 });
    expect(o.status).toBe('expired');
    expect(o.executedQty).toBeGreaterThan(0);
    expect(o.executedQty).toBeLessThan(500);
  });

  it('remembers liquidity taken within a step, refilled on the next step', () => {
    const r = rig();
    const first = r.place({ side: 'buy', kind: 'market', qty: 0.5 });
    const second = r.place({ side: 'buy', kind: 'market', qty: 0.5 });
    expect(second.cumQuote / 0.5).toBeGreaterThan(first.cumQuote / 0.5);
    r.advance(1000);
    const bestAfter = r.market.book(r.m('BTCUSDT'), r.now()).asks[0]!;
    expect(bestAfter.qty).toBeGreaterThan(0);
  });

  it("top() is book()'s best level on every side, step and market, also once a fill took the best level", () => {
    // Two rigs on one seed: one asks top() first (no book built this step), the other builds the full book.
    const a = rig(7);
    const b = rig(7);
    const ids = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT'];
    for (let step = 0; step < 25; step++) {
      for (const id of ids) {
        const top = a.market.top(a.m(id), a.now());
        const full = b.market.book(b.m(id), b.now());
        expect(top.bids).toEqual(full.bids.slice(0, 1));
        expect(top.asks).toEqual(full.asks.slice(0, 1));
      }
      a.advance(1000);
      b.advance(1000);
    }
    // A buy larger than the best ask's quantity: the best level left is the next one, in both.
    a.advance(1000);
    const fresh = a.market.book(a.m('BTCUSDT'), a.now()).asks;
    a.place({ side: 'buy', kind: 'market', qty: fresh[0]!.qty });
    const after = a.market.top(a.m('BTCUSDT'), a.now()).asks[0]!;
    expect(after.price).toBe(fresh[1]!.price);
    expect(after).toEqual(a.market.book(a.m('BTCUSDT'), a.now()).asks[0]);
  });

  it('fills a crossing limit up to its price and rests the remainder with funds held', () => {
    const r = rig();
    const px = r.market.book(r.m('BTCUSDT'), r.now()).asks[2]!.price;
    const o = r.place({ side: 'buy', kind: 'limit', qty: 20, price: px });
    expect(o.status).toBe('partially_filled');
    expect(r.engine.store.trades.every((t) => t.price <= px)).toBe(true);
    expect(r.a.balance('USDT').locked).toBeCloseTo((20 - o.executedQty) * px, 4);
    r.engine.cancel(o);
    expect(r.a.balance('USDT').locked).toBe(0);
  });

  it('expires an IOC remainder and fills a FOK all-or-nothing', () => {
    const r = rig();
    const ask = r.market.book(r.m('BTCUSDT'), r.now()).asks[0]!;
    const ioc = r.place({ side: 'buy', kind: 'limit', qty: 50, price: ask.price, tif: 'IOC' });
    expect(ioc).toMatchObject({ status: 'expired' });
    expect(ioc.executedQty).toBeGreaterThan(0);
    const fok = r.place({ side: 'buy', kind: 'limit', qty: 50, price: ask.price, tif: 'FOK' });
    expect(fok).toMatchObject({ status: 'expired', executedQty: 0 });
  });

  it('fills a resting limit as maker when the price trades through it', () => {
    const r = rig();
    const px = Math.round(r.fair('BTCUSDT') * 0.995);
    const o = r.place({ side: 'buy', kind: 'limit', qty: 0.1, price: px });
    r.market.setPrice(r.m('BTCUSDT'), px - 10, r.now());
    r.advance(1000);
    expect(o.status).toBe('filled');
    expect(r.engine.store.trades.at(-1)).toMatchObject({ price: px, maker: true, fee: 0.0001 });
  });
});

describe('MatchingEngine: rules', () => {
  it('enforces PRICE_FILTER, LOT_SIZE, NOTIONAL, funds and duplicate client ids', () => {
    const r = rig();
    expect(rejection(() => r.place({ side: 'buy', kind: 'limit', qty: 0.01, price: 50_000.005 }))).toBe('price_filter');
    expect(rejection(() => r.place({ side: 'buy', kind: 'limit', qty: 0.000015, price: 50_000 }))).toBe('lot_size');
    expect(rejection(() => r.place({ side: 'buy', kind: 'limit', qty: 0.00005, price: 50_000 }))).toBe('lot_size');
    expect(rejection(() => r.place({ side: 'buy', kind: 'limit', qty: 0.0001, price: 40_000 }))).toBe('notional');
    expect(rejection(() => r.place({ side: 'buy', kind: 'limit', qty: 1000, price: 50_000 }))).toBe(
      'insufficient_balance',
    );
    r.place({ side: 'buy', kind: 'limit', qty: 0.01, price: 50_000, clientOrderId: 'c1' });
    expect(
      rejection(() => r.place({ side: 'buy', kind: 'limit', qty: 0.01, price: 50_000, clientOrderId: 'c1' })),
    ).toBe('duplicate_client_order_id');
  });

  it('rejects a post-only order that would take, or cancels it under the cancel policy', () => {
    const r = rig();
    const px = Math.round(r.fair('BTCUSDT') * 1.01);
    expect(rejection(() => r.place({ side: 'buy', kind: 'limit', qty: 0.01, price: px, postOnly: true }))).toBe(
      'would_take',
    );
    const o = r.place({ side: 'buy', kind: 'limit', qty: 0.01, price: px, postOnly: true, postOnlyCrossing: 'cancel' });
    expect(o).toMatchObject({ status: 'canceled', executedQty: 0 });
  });

  it('fires stops only when the price crosses, and refuses stops that would fire at once', () => {
    const r = rig();
    const p = r.fair('BTCUSDT');
    expect(
      rejection(() => r.place({ side: 'sell', kind: 'stop_market', qty: 0.01, stopPrice: Math.round(p * 1.01) })),
    ).toBe('would_trigger');
    const sl = r.place({ side: 'sell', kind: 'stop_market', qty: 0.01, stopPrice: Math.round(p * 0.98) });
    const tp = r.place({
      side: 'sell',
      kind: 'tp_limit',
      qty: 0.01,
      stopPrice: Math.round(p * 1.02),
      price: Math.round(p * 1.02),
    });
    expect(r.a.balance('BTC').locked).toBeCloseTo(0.02, 12);
    r.market.setPrice(r.m('BTCUSDT'), Math.round(p * 0.97), r.now());
    r.advance(1000);
    expect(sl).toMatchObject({ status: 'filled', triggered: true });
    expect(tp).toMatchObject({ status: 'new', triggered: false });
  });
});

describe('MatchingEngine: perpetuals', () => {
  it('settles funding at each boundary: longs pay a positive rate', () => {
    const r = rig();
    r.place({ side: 'buy', kind: 'market', qty: 1 }, 'BTCUSDT', 'perp');
    const w0 = r.a.walletBalance('USDT');
    r.advance(8 * HOUR);
    expect(r.a.income).toHaveLength(1);
    const f = r.a.income[0]!;
    expect(f.time % (8 * HOUR)).toBe(0);
    expect(f.income).toBeCloseTo(-1 * r.market.fair(r.m('BTCUSDT', 'perp'), f.time) * f.rate!, 6);
    expect(r.a.walletBalance('USDT')).toBeCloseTo(w0 + f.income, 6);
  });

  it('never lets reduce-only orders grow or flip a position (property)', () => {
    type Cmd =
      | { t: 'open'; side: 'buy' | 'sell'; qty: number }
      | { t: 'reduceMarket'; side: 'buy' | 'sell'; qty: number }
      | { t: 'reduceLimit'; side: 'buy' | 'sell'; qty: number; offset: number }
      | { t: 'move'; pct: number };
    const side = fc.constantFrom<'buy' | 'sell'>('buy', 'sell');
    const qty = fc.integer({ min: 1, max: 40 }).map((n) => n / 100);
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      fc.record({ t: fc.constant('open' as const), side, qty }),
      fc.record({ t: fc.constant('reduceMarket' as const), side, qty }),
      fc.record({ t: fc.constant('reduceLimit' as const), side, qty, offset: fc.integer({ min: -3, max: 3 }) }),
      fc.record({ t: fc.constant('move' as const), pct: fc.integer({ min: -4, max: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 25 }), (cmds) => {
        const r = rig(7);
        const perp = r.m('BTCUSDT', 'perp');
        const pos = () => positionOf(r.a, 'BTCUSDT').qty;
        for (const c of cmds) {
          const before = pos();
          const onlyReducing = c.t !== 'open';
          try {
            if (c.t === 'open') r.place({ side: c.side, kind: 'market', qty: c.qty }, 'BTCUSDT', 'perp');
            else if (c.t === 'reduceMarket')
              r.place({ side: c.side, kind: 'market', qty: c.qty, reduceOnly: true }, 'BTCUSDT', 'perp');
            else if (c.t === 'reduceLimit') {
              const px = Math.round(r.market.fair(perp, r.now()) * (1 + c.offset / 100) * 10) / 10;
              r.place({ side: c.side, kind: 'limit', qty: c.qty, price: px, reduceOnly: true }, 'BTCUSDT', 'perp');
            } else {
              r.market.setPrice(perp, r.market.fair(perp, r.now()) * (1 + c.pct / 100), r.now());
              r.advance(1000);
            }
          } catch (e) {
            if (!(e instanceof Rejection)) throw e;
          }
          const after = pos();
          if (onlyReducing) {
            expect(Math.abs(after)).toBeLessThanOrEqual(Math.abs(before) + 1e-12);
            expect(after === 0 || Math.sign(after) === Math.sign(before)).toBe(true);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
