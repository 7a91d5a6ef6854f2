import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { applyFill, emptyLedger, type Fill, type Ledger, withBaseline } from '../domain/portfolio.js';
import { openStore, type Store } from '../store/index.js';
import { createLedgerBook } from './ledger-book.js';

const open: Store[] = [];
async function store(dir: string): Promise<Store> {
  const s = await openStore({ dir: join(dir, 'db') });
  open.push(s);
  return s;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

let n = 0;
const fill = (over: Partial<Fill> = {}): Fill => ({
  venue: 'binance',
  tradeId: `t${++n}`,
  clientOrderId: null,
  symbol: 'BTCUSDT',
  base: 'BTC',
  quote: 'USDT',
  side: 'buy',
  amount: 0.01,
  price: 50_000,
  cost: 500,
  fee: { cost: 0.5, currency: 'USDT' },
  at: 1_000 + n,
  ...over,
});

describe('ledger book (LMDB portfolio database)', () => {
  it('holds exactly what the pure applyFill fold holds, in memory and after a reopen', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            venue: fc.constantFrom('binance', 'kraken'),
            base: fc.constantFrom('BTC', 'ETH', 'SOL'),
            side: fc.constantFrom('buy' as const, 'sell' as const),
            amount: fc.double({ min: 0, max: 5, noNaN: true }),
            cost: fc.double({ min: 0, max: 1e5, noNaN: true }),
            fee: fc.option(
              fc.record({
                cost: fc.double({ min: -1, max: 1, noNaN: true }),
                currency: fc.constantFrom('USDT', 'BNB', 'BTC'),
              }),
            ),
          }),
          { maxLength: 30 },
        ),
        async (steps) => {
          const dir = mkdtempSync(join(tmpdir(), 'bosun-ledger-'));
          const s = await store(dir);
          const book = createLedgerBook(s.portfolio, ['binance', 'kraken']);
          await book.baseline('binance', { USDT: 10_000, BTC: 1 }, 1);
          let expected: Ledger = withBaseline(emptyLedger(), 'binance', { USDT: 10_000, BTC: 1 });
          (expected.venues.binance as { lastTradeAt: number }).lastTradeAt = 1;
          for (const st of steps) {
            const f = fill({ ...st, symbol: `${st.base}USDT`, quote: 'USDT' });
            await book.apply(f, 'strategies');
            expected = applyFill(expected, f);
          }
          expect(book.ledger()).toEqual(expected);
          await s.close();
          open.pop();
          const again = createLedgerBook((await store(dir)).portfolio, ['binance', 'kraken']);
          expect(again.ledger()).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('applies a trade once, also across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-ledger-'));
    const s = await store(dir);
    const book = createLedgerBook(s.portfolio, ['binance']);
    await book.baseline('binance', { USDT: 1_000 }, 1);
    const f = fill();
    await book.apply(f, 'strategies');
    expect(book.apply(f, 'strategies')).toBeNull();
    await s.close();
    open.pop();
    const again = createLedgerBook((await store(dir)).portfolio, ['binance']);
    expect(again.apply(f, 'strategies')).toBeNull();
    expect(again.ledger().venues.binance?.balances).toEqual({ USDT: 1_000 - 500 - 0.5, BTC: 0.01 });
    expect(again.strategyPosition('binance', 'BTCUSDT')).toBe(0.01);
  });

  it('a baseline replaces what fills wrote before it, durably', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-ledger-'));
    const s = await store(dir);
    const book = createLedgerBook(s.portfolio, ['binance']);
    await book.baseline('binance', { USDT: 1_000 }, 1);
    await book.apply(fill(), null);
    await book.apply(fill({ base: 'ETH', symbol: 'ETHUSDT', amount: 1, cost: 300 }), null);
    await book.baseline('binance', { USDT: 42 }, 2);
    expect(book.ledger().venues.binance?.balances).toEqual({ USDT: 42 });
    await s.close();
    open.pop();
    const again = createLedgerBook((await store(dir)).portfolio, ['binance']);
    expect(again.ledger().venues.binance).toEqual({ balances: { USDT: 42 }, appliedTrades: 2, lastTradeAt: n + 1_000 });
  });

  it('loads a store written in the single-key format (every balance under ledger:<venue>)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-ledger-'));
    const s = await store(dir);
    await s.portfolio.put('ledger:kraken', { balances: { USD: 5, ETH: 2 }, appliedTrades: 7, lastTradeAt: 99 });
    const book = createLedgerBook(s.portfolio, ['kraken']);
    expect(book.ledger().venues.kraken).toEqual({ balances: { USD: 5, ETH: 2 }, appliedTrades: 7, lastTradeAt: 99 });
    await book.apply(
      fill({
        venue: 'kraken',
        quote: 'USD',
        base: 'ETH',
        symbol: 'ETHUSD',
        side: 'sell',
        amount: 1,
        cost: 3,
        fee: null,
      }),
      null,
    );
    await s.close();
    open.pop();
    const again = createLedgerBook((await store(dir)).portfolio, ['kraken']);
    expect(again.ledger().venues.kraken?.balances).toEqual({ USD: 8, ETH: 1 });
    expect(again.ledger().venues.kraken?.appliedTrades).toBe(8);
  });

  it('hands out copies: a later fill never changes a ledger a caller already holds', async () => {
    const s = await store(mkdtempSync(join(tmpdir(), 'bosun-ledger-')));
    const book = createLedgerBook(s.portfolio, ['binance']);
    await book.baseline('binance', { USDT: 1_000 }, 1);
    const before = book.ledger();
    await book.apply(fill(), null);
    expect(before.venues.binance?.balances).toEqual({ USDT: 1_000 });
  });

  it('refuses a bad fill and changes nothing', async () => {
    const s = await store(mkdtempSync(join(tmpdir(), 'bosun-ledger-')));
    const book = createLedgerBook(s.portfolio, ['binance']);
    await book.baseline('binance', { USDT: 1_000 }, 1);
    const bad = fill({ amount: Number.NaN });
    expect(() => book.apply(bad, 'strategies')).toThrow(/amount/);
    expect(book.ledger().venues.binance?.balances).toEqual({ USDT: 1_000 });
    expect(book.hasTrade('binance', bad.tradeId)).toBe(false);
    expect(book.strategyPosition('binance', 'BTCUSDT')).toBe(0);
  });

  it("keeps the strategies' and the executor's positions apart; a guard sells the strategies' first, then the executor's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-ledger-'));
    const s = await store(dir);
    const book = createLedgerBook(s.portfolio, ['binance']);
    await book.baseline('binance', { USDT: 10_000 }, 1);
    await book.apply(fill({ amount: 0.03, cost: 1_500 }), 'executor');
    await book.apply(fill({ amount: 0.01 }), 'strategies');
    await book.apply(fill({ amount: 0.02, cost: 1_000 }), null);
    expect(book.executorPosition('binance', 'BTCUSDT')).toBeCloseTo(0.03, 12);
    expect(book.strategyPosition('binance', 'BTCUSDT')).toBeCloseTo(0.01, 12);
    expect(book.ownedPosition('binance', 'BTCUSDT')).toBeCloseTo(0.04, 12);
    // A strategy sell larger than its own position never reaches into the executor's.
    await book.apply(fill({ side: 'sell', amount: 0.015, cost: 750 }), 'strategies');
    expect(book.strategyPosition('binance', 'BTCUSDT')).toBe(0);
    expect(book.executorPosition('binance', 'BTCUSDT')).toBeCloseTo(0.03, 12);
    // A guard buy (a hedge) is the strategies'; a guard sell takes the strategies' first, then the executor's.
    await book.apply(fill({ amount: 0.01 }), 'guard');
    await book.apply(fill({ side: 'sell', amount: 0.025, cost: 1_250 }), 'guard');
    expect(book.strategyPosition('binance', 'BTCUSDT')).toBe(0);
    expect(book.executorPosition('binance', 'BTCUSDT')).toBeCloseTo(0.015, 12);
    await s.close();
    open.pop();
    const again = createLedgerBook((await store(dir)).portfolio, ['binance']);
    expect(again.strategyPosition('binance', 'BTCUSDT')).toBe(0);
    expect(again.executorPosition('binance', 'BTCUSDT')).toBeCloseTo(0.015, 12);
    expect(again.ownedPosition('binance', 'BTCUSDT')).toBeCloseTo(0.015, 12);
  });

  it('a position is the base the fill moved: a fee taken in the base asset is not held (a whole-position sell fits the balance)', async () => {
    const s = await store(mkdtempSync(join(tmpdir(), 'bosun-ledger-')));
    const book = createLedgerBook(s.portfolio, ['binance']);
    await book.baseline('binance', { USDT: 10_000 }, 1);
    // Binance spot takes a buy's fee in what it buys.
    await book.apply(fill({ amount: 0.01, cost: 500, fee: { cost: 0.00001, currency: 'BTC' } }), 'strategies');
    expect(book.strategyPosition('binance', 'BTCUSDT')).toBeCloseTo(0.00999, 12);
    expect(book.strategyPosition('binance', 'BTCUSDT')).toBeCloseTo(book.balance('binance', 'BTC'), 12);
    // A sell whose fee is taken in base moves the amount and the fee.
    await book.apply(
      fill({ side: 'sell', amount: 0.005, cost: 250, fee: { cost: 0.000005, currency: 'BTC' } }),
      'strategies',
    );
    expect(book.strategyPosition('binance', 'BTCUSDT')).toBeCloseTo(0.004985, 12);
    expect(book.strategyPosition('binance', 'BTCUSDT')).toBeCloseTo(book.balance('binance', 'BTC'), 12);
  });
});
