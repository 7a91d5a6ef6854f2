import { describe, expect, it } from 'vitest';
import { createRng } from '../strategies/seeded-random.js';
import { AppError } from './errors.js';
import {
  applyFill,
  balanceDiffs,
  emptyLedger,
  type Fill,
  type Ledger,
  LedgerSchema,
  valueLedger,
  withBaseline,
} from './portfolio.js';

const fill = (over: Partial<Fill> = {}): Fill => ({
  venue: 'binance',
  tradeId: 't1',
  clientOrderId: 'bosun-1',
  symbol: 'BTCUSDT',
  base: 'BTC',
  quote: 'USDT',
  side: 'buy',
  amount: 0.01,
  price: 50_000,
  cost: 500,
  fee: null,
  at: 1_000,
  ...over,
});

describe('applyFill', () => {
  it('adds the base and spends the quote on a buy, with the fee charged in the base', () => {
    const l0 = withBaseline(emptyLedger(), 'binance', { USDT: 1000 });
    const l1 = applyFill(l0, fill({ fee: { cost: 0.00001, currency: 'BTC' } }));
    expect(l1.venues.binance).toEqual({
      balances: { USDT: 500, BTC: 0.01 - 0.00001 },
      appliedTrades: 1,
      lastTradeAt: 1_000,
    });
  });

  it('removes the base and credits the quote on a sell, with the fee charged in the quote', () => {
    const l0 = withBaseline(emptyLedger(), 'kraken', { BTC: 1, USD: 0 });
    const l1 = applyFill(
      l0,
      fill({
        venue: 'kraken',
        quote: 'USD',
        side: 'sell',
        amount: 0.25,
        cost: 12_500,
        fee: { cost: 20, currency: 'USD' },
      }),
    );
    expect(l1.venues.kraken?.balances).toEqual({ BTC: 0.75, USD: 12_480 });
  });

  it('charges a fee in a third currency and credits a rebate (negative fee)', () => {
    const l1 = applyFill(emptyLedger(), fill({ fee: { cost: 0.002, currency: 'BNB' } }));
    expect(l1.venues.binance?.balances).toEqual({ BTC: 0.01, USDT: -500, BNB: -0.002 });
    const l2 = applyFill(l1, fill({ tradeId: 't2', side: 'sell', fee: { cost: -0.1, currency: 'USDT' } }));
    expect(l2.venues.binance?.balances).toEqual({ BTC: 0, USDT: 0.1, BNB: -0.002 });
  });

  it('returns a new ledger and leaves the input and other venues untouched', () => {
    const l0 = withBaseline(withBaseline(emptyLedger(), 'binance', { USDT: 1000 }), 'kraken', { USD: 5 });
    const before = JSON.stringify(l0);
    const l1 = applyFill(l0, fill());
    expect(JSON.stringify(l0)).toBe(before);
    expect(l1).not.toBe(l0);
    expect(l1.venues.kraken).toBe(l0.venues.kraken);
  });

  it('counts trades and keeps the latest trade time as the cursor', () => {
    let l = applyFill(emptyLedger(), fill({ at: 5_000 }));
    l = applyFill(l, fill({ tradeId: 't2', at: 3_000 }));
    expect(l.venues.binance).toMatchObject({ appliedTrades: 2, lastTradeAt: 5_000 });
  });

  it('keeps a balance the venue decimal after selling most of a position (0.000697, not 0.000697000000000003)', () => {
    const sol = { symbol: 'SOLUSDT', base: 'SOL', price: 148.1234 };
    const l1 = applyFill(
      emptyLedger(),
      fill({ ...sol, amount: 0.303, cost: 44.8813902, fee: { cost: 0.000303, currency: 'SOL' } }),
    );
    const l2 = applyFill(l1, fill({ ...sol, tradeId: 't2', side: 'sell', amount: 0.302, cost: 44.7332668, fee: null }));
    expect(l2.venues.binance?.balances.SOL).toBe(0.000697);
  });

  it('holds every balance at the exact decimal of its fills over 300 random fill sequences (no binary noise)', () => {
    const rng = createRng(9);
    const int = (n: number) => Math.floor(rng.next() * n);
    // Exact reference in integer units of 1e-8 (the venues' balance precision): step 0.001, tick 0.0001, fee 0.1 %.
    const units = (u: bigint) =>
      Number(
        `${u < 0n ? '-' : ''}${(u < 0n ? -u : u) / 100_000_000n}.${String((u < 0n ? -u : u) % 100_000_000n).padStart(8, '0')}`,
      );
    for (let run = 0; run < 300; run++) {
      let ledger = withBaseline(emptyLedger(), 'binance', { USDT: 10_000 });
      let base = 0n;
      let quote = 1_000_000_000_000n;
      for (let i = 0; i < 12; i++) {
        const qty = BigInt(1 + int(400)); // thousandths
        const px = BigInt(1_000_000 + int(1_000_000)); // ten-thousandths
        const cost = qty * px; // 1e-7 units
        const sell = base >= qty * 100_000n && rng.next() < 0.5;
        const feeUnits = sell ? (cost * 10n + 500n) / 1000n : qty * 100n; // quote fee (rounded) or base fee
        ledger = applyFill(
          ledger,
          fill({
            tradeId: `t${i}`,
            side: sell ? 'sell' : 'buy',
            amount: units(qty * 100_000n),
            price: units(px * 10_000n),
            cost: units(cost * 10n),
            fee: { cost: units(feeUnits), currency: sell ? 'USDT' : 'BTC' },
          }),
        );
        if (sell) {
          base -= qty * 100_000n;
          quote += cost * 10n - feeUnits;
        } else {
          base += qty * 100_000n - feeUnits;
          quote -= cost * 10n;
        }
        expect(ledger.venues.binance?.balances.BTC ?? 0).toBe(units(base));
        expect(ledger.venues.binance?.balances.USDT).toBe(units(quote));
      }
    }
  });

  it('refuses a fill with a non-finite amount, cost or fee instead of poisoning a balance', () => {
    expect(() => applyFill(emptyLedger(), fill({ amount: Number.NaN }))).toThrow(AppError);
    expect(() => applyFill(emptyLedger(), fill({ cost: Number.POSITIVE_INFINITY }))).toThrow(/cost/);
    expect(() => applyFill(emptyLedger(), fill({ fee: { cost: Number.NaN, currency: 'BTC' } }))).toThrow(/fee/);
    expect(() => applyFill(emptyLedger(), fill({ amount: -1 }))).toThrow(/amount/);
  });
});

describe('withBaseline', () => {
  it('replaces a venue’s balances but keeps its trade count and cursor', () => {
    const l1 = applyFill(emptyLedger(), fill({ at: 7_000 }));
    const l2 = withBaseline(l1, 'binance', { USDT: 42 });
    expect(l2.venues.binance).toEqual({ balances: { USDT: 42 }, appliedTrades: 1, lastTradeAt: 7_000 });
    expect(l1.venues.binance?.balances.USDT).toBe(-500);
  });

  it('copies the balances it is given', () => {
    const balances = { USDT: 1 };
    const l = withBaseline(emptyLedger(), 'binance', balances);
    balances.USDT = 99;
    expect(l.venues.binance?.balances.USDT).toBe(1);
  });

  it('refuses a non-finite balance', () => {
    expect(() => withBaseline(emptyLedger(), 'binance', { USDT: Number.NaN })).toThrow(/USDT/);
  });
});

describe('valueLedger', () => {
  const ledger: Ledger = {
    venues: {
      binance: { balances: { USDT: 1000, BTC: 0.5, ETH: 2, ZERO: 0 }, appliedTrades: 0, lastTradeAt: 0 },
      kraken: { balances: { ZUSD: 250, BTC: 0.25, MYST: 10 }, appliedTrades: 0, lastTradeAt: 0 },
    },
  };
  const prices = { BTC: 60_000, ETH: 3_000 };

  it('values cash at 1 and other assets at their price, per venue and in total', () => {
    const v = valueLedger(ledger, prices);
    expect(v.venues.binance).toMatchObject({ cashUsd: 1000, marketValueUsd: 36_000, equityUsd: 37_000 });
    expect(v.venues.kraken).toMatchObject({ cashUsd: 250, marketValueUsd: 15_000, equityUsd: 15_250 });
    expect(v.venues.binance?.holdings.BTC).toEqual({ amount: 0.5, priceUsd: 60_000, valueUsd: 30_000 });
    expect(v.venues.binance?.holdings.USDT).toEqual({ amount: 1000, priceUsd: 1, valueUsd: 1000 });
    expect(v).toMatchObject({ cashUsd: 1250, marketValueUsd: 51_000, equityUsd: 52_250, residualUsd: 0 });
  });

  it('reports an unpriced asset, values it at 0, and ignores zero balances', () => {
    const v = valueLedger(ledger, prices);
    expect(v.unpricedAssets).toEqual(['MYST']);
    expect(v.venues.kraken?.holdings.MYST).toEqual({ amount: 10, priceUsd: null, valueUsd: 0 });
    expect(v.venues.binance?.holdings.ZERO).toBeUndefined();
  });

  it('treats a non-finite price as unpriced', () => {
    const v = valueLedger(ledger, { ...prices, ETH: Number.NaN });
    expect(v.unpricedAssets).toEqual(['ETH', 'MYST']);
    expect(v.venues.binance?.marketValueUsd).toBe(30_000);
  });

  it('gives zeros for an empty ledger', () => {
    expect(valueLedger(emptyLedger(), prices)).toEqual({
      venues: {},
      cashUsd: 0,
      marketValueUsd: 0,
      equityUsd: 0,
      residualUsd: 0,
      unpricedAssets: [],
    });
  });

  it('has a residual of exactly 0 and equity = cash + market exactly, on 2,000 random ledgers', () => {
    const rng = createRng(77);
    const assets = ['USDT', 'USDC', 'ZUSD', 'BTC', 'ETH', 'SOL', 'XRP', 'DOGE'];
    for (let i = 0; i < 2_000; i++) {
      let l = emptyLedger();
      const nv = 1 + Math.floor(rng.next() * 4);
      for (let v = 0; v < nv; v++) {
        const balances: Record<string, number> = {};
        for (const a of assets) if (rng.next() < 0.7) balances[a] = (rng.next() - 0.2) * 10 ** (rng.next() * 8 - 3);
        l = withBaseline(l, `venue${v}`, balances);
      }
      const px: Record<string, number> = {};
      for (const a of assets) px[a] = rng.next() * 10 ** (rng.next() * 9 - 4);
      const val = valueLedger(l, px);
      expect(val.residualUsd).toBe(0);
      expect(val.equityUsd).toBe(val.cashUsd + val.marketValueUsd);
      let sumVenues = 0;
      for (const v of Object.values(val.venues)) {
        expect(v.equityUsd).toBe(v.cashUsd + v.marketValueUsd);
        sumVenues += v.equityUsd;
      }
      expect(sumVenues).toBe(val.equityUsd);
      // The snap to the exact grid moves the total by far less than 1e-9 relative.
      let naive = 0;
      for (const v of Object.values(l.venues))
        for (const [a, amt] of Object.entries(v.balances))
          naive += amt * (['USDT', 'USDC', 'ZUSD'].includes(a) ? 1 : px[a]!);
      expect(Math.abs(val.equityUsd - naive)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(naive), maxHolding(val)));
    }
  });

  it('gives the same result whatever order the venues and assets were inserted in', () => {
    const reversed: Ledger = {
      venues: {
        kraken: { balances: { MYST: 10, BTC: 0.25, ZUSD: 250 }, appliedTrades: 0, lastTradeAt: 0 },
        binance: { balances: { ZERO: 0, ETH: 2, BTC: 0.5, USDT: 1000 }, appliedTrades: 0, lastTradeAt: 0 },
      },
    };
    expect(JSON.stringify(valueLedger(reversed, prices))).toBe(JSON.stringify(valueLedger(ledger, prices)));
  });
});

function maxHolding(v: ReturnType<typeof valueLedger>): number {
  let m = 0;
  for (const venue of Object.values(v.venues))
    for (const h of Object.values(venue.holdings)) m = Math.max(m, Math.abs(h.valueUsd));
  return m;
}

describe('balanceDiffs', () => {
  it('reports nothing for equal balances and treats a missing asset as 0', () => {
    expect(balanceDiffs({ BTC: 1, USDT: 0 }, { BTC: 1 })).toEqual([]);
  });

  it('reports each asset beyond tolerance with venue − ledger, in sorted order', () => {
    expect(balanceDiffs({ USDT: 100, BTC: 1 }, { USDT: 90, BTC: 1, ETH: 2 })).toEqual([
      { asset: 'ETH', ledger: 0, venue: 2, diff: 2 },
      { asset: 'USDT', ledger: 100, venue: 90, diff: -10 },
    ]);
  });

  it('allows a relative difference up to 1e-9 of the larger magnitude and reports one above it', () => {
    const tol = { rel: 1e-9, abs: 0 };
    expect(balanceDiffs({ X: 1000 }, { X: 1000 + 1e-6 }, { rel: 1e-9, abs: 1e-12 })).toEqual([]);
    expect(balanceDiffs({ X: 1024 }, { X: 1024 + 2 ** -20 }, { rel: 2 ** -30, abs: 0 })).toEqual([]);
    expect(balanceDiffs({ X: 1024 }, { X: 1024 + 2 ** -19 }, { rel: 2 ** -30, abs: 0 })).toHaveLength(1);
    expect(balanceDiffs({ X: 1000 }, { X: 1000.00001 }, tol)).toHaveLength(1);
  });

  it('uses the absolute floor near zero: 1e-12 passes, 1e-11 is reported', () => {
    expect(balanceDiffs({ X: 0 }, { X: 1e-12 })).toEqual([]);
    expect(balanceDiffs({ X: 0 }, { X: 1e-11 })).toHaveLength(1);
    expect(balanceDiffs({}, { X: 1e-13 })).toEqual([]);
  });

  it('always reports a non-finite balance', () => {
    expect(balanceDiffs({ X: Number.NaN }, { X: 1 })).toHaveLength(1);
    expect(balanceDiffs({ X: 1 }, { X: Number.POSITIVE_INFINITY })).toHaveLength(1);
  });
});

describe('LedgerSchema', () => {
  it('accepts a ledger built by the functions and refuses a non-numeric balance', () => {
    const l = applyFill(withBaseline(emptyLedger(), 'binance', { USDT: 1000 }), fill());
    expect(LedgerSchema.parse(JSON.parse(JSON.stringify(l)))).toEqual(l);
    expect(
      LedgerSchema.safeParse({ venues: { binance: { balances: { USDT: '1' }, appliedTrades: 0, lastTradeAt: 0 } } })
        .success,
    ).toBe(false);
  });
});
