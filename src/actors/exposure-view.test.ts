import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFill, type Fill, type Ledger, valueLedger } from '../domain/portfolio.js';
import { createExposureView } from './exposure-view.js';

/** The exposures the rails used to compute from a full valuation (the reference the view must match). */
function fromValuation(l: Ledger, prices: Record<string, number>, venue: string, base: string) {
  const val = valueLedger(l, prices);
  const v = val.venues[venue];
  let venueUsdt = 0;
  for (const h of Object.values(v?.holdings ?? {})) venueUsdt += h.valueUsd;
  venueUsdt -= v?.cashUsd ?? 0;
  let assetUsdt = 0;
  for (const vv of Object.values(val.venues)) assetUsdt += vv.holdings[base]?.valueUsd ?? 0;
  return {
    // MAX_SYMBOL_EXPOSURE_USDT is a cap across venues: the symbol's base held on every venue.
    symbolUsdt: Math.abs(assetUsdt),
    venueUsdt: Math.abs(venueUsdt),
    assetUsdt: Math.abs(assetUsdt),
    equity: val.equityUsd,
  };
}

const PRICES = { BTC: 50_000, ETH: 3_000, SOL: 150 };

describe('exposure view', () => {
  it('after any fills equals a full revaluation of the ledger at the same prices', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            venue: fc.constantFrom('binance', 'kraken'),
            base: fc.constantFrom('BTC', 'ETH', 'SOL'),
            side: fc.constantFrom('buy' as const, 'sell' as const),
            amount: fc.double({ min: 0, max: 3, noNaN: true }),
            fee: fc.option(
              fc.record({
                cost: fc.double({ min: -2, max: 2, noNaN: true }),
                currency: fc.constantFrom('USDT', 'BTC'),
              }),
            ),
          }),
          { maxLength: 40 },
        ),
        (steps) => {
          let ledger: Ledger = {
            venues: {
              binance: { balances: { USDT: 100_000, BTC: 1 }, appliedTrades: 0, lastTradeAt: 0 },
              kraken: { balances: { USDT: 50_000, ETH: 4 }, appliedTrades: 0, lastTradeAt: 0 },
            },
          };
          const view = createExposureView();
          view.reset(valueLedger(ledger, PRICES), PRICES);
          steps.forEach((st, i) => {
            const price = PRICES[st.base as keyof typeof PRICES];
            const f: Fill = {
              ...st,
              tradeId: `t${i}`,
              clientOrderId: null,
              symbol: `${st.base}USDT`,
              quote: 'USDT',
              price,
              cost: st.amount * price,
              at: i,
            };
            ledger = applyFill(ledger, f);
            view.applyFill(f);
          });
          for (const venue of ['binance', 'kraken'])
            for (const base of ['BTC', 'ETH', 'SOL']) {
              const want = fromValuation(ledger, PRICES, venue, base);
              const got = view.exposures(venue, base);
              const tol = 1e-6 * Math.max(1, want.venueUsdt, want.assetUsdt);
              expect(Math.abs(got.symbolUsdt - want.symbolUsdt)).toBeLessThan(tol);
              expect(Math.abs(got.venueUsdt - want.venueUsdt)).toBeLessThan(tol);
              expect(Math.abs(got.assetUsdt - want.assetUsdt)).toBeLessThan(tol);
              expect(Math.abs(view.equityUsd() - want.equity)).toBeLessThan(1e-6 * Math.max(1, want.equity));
            }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a holding first seen in a fill takes the fill price; an unpriced one counts 0 until priced', () => {
    const view = createExposureView();
    view.reset(
      valueLedger({ venues: { binance: { balances: { USDT: 1_000 }, appliedTrades: 0, lastTradeAt: 0 } } }, {}),
      {},
    );
    view.applyFill({
      venue: 'binance',
      tradeId: 'a',
      clientOrderId: null,
      symbol: 'DOGEUSDT',
      base: 'DOGE',
      quote: 'USDT',
      side: 'buy',
      amount: 100,
      price: 0.5,
      cost: 50,
      fee: { cost: 1, currency: 'BNB' },
      at: 1,
    });
    expect(view.exposures('binance', 'DOGE')).toEqual({ symbolUsdt: 50, venueUsdt: 50, assetUsdt: 50 });
    // 950 cash + 50 DOGE; the BNB fee has no price, so it is valued at 0 (as the full valuation does).
    expect(view.equityUsd()).toBe(1_000);
  });
});
