import { describe, expect, it } from 'vitest';
import {
  applyFundingTo,
  applyPerpFillTo,
  emptyPerpVenue,
  liquidationDistancePct,
  liquidationPrice,
} from './perp-ledger.js';

describe('perp ledger', () => {
  it('realizes PnL on a reduction and opens the rest at the fill price when a fill crosses zero', () => {
    const v = emptyPerpVenue(1_000);
    applyPerpFillTo(v, { symbol: 'BTCUSDT', side: 'buy', amount: 0.01, price: 60_000, fee: 0.24 }, 'strategies');
    expect(v.positions.BTCUSDT).toEqual({ qty: 0.01, entryPrice: 60_000 });
    const r = applyPerpFillTo(
      v,
      { symbol: 'BTCUSDT', side: 'sell', amount: 0.03, price: 61_000, fee: 0.5 },
      'strategies',
    );
    expect(r).toBe(10);
    expect(v.positions.BTCUSDT).toEqual({ qty: -0.02, entryPrice: 61_000 });
    expect(v.wallet).toBeCloseTo(1_000 - 0.24 + 10 - 0.5, 9);
    expect(v.owners.BTCUSDT).toEqual({ strategies: -0.02 });
  });

  it('keeps owners apart: a hedge and the strategies share the venue position but not their shares', () => {
    const v = emptyPerpVenue(0);
    applyPerpFillTo(v, { symbol: 'BTCUSDT', side: 'buy', amount: 0.02, price: 100, fee: 0 }, 'strategies');
    applyPerpFillTo(v, { symbol: 'BTCUSDT', side: 'sell', amount: 0.005, price: 100, fee: 0 }, 'hedge');
    expect(v.positions.BTCUSDT?.qty).toBe(0.015);
    expect(v.owners.BTCUSDT).toEqual({ strategies: 0.02, hedge: -0.005 });
  });

  it('funding moves the wallet by the venue figure and is totalled apart', () => {
    const v = emptyPerpVenue(100);
    applyFundingTo(v, -0.6);
    applyFundingTo(v, 0.1);
    expect(v.wallet).toBeCloseTo(99.5, 12);
    expect(v.funding).toBeCloseTo(-0.5, 12);
  });

  it('refuses a fill that is not a positive amount and price', () => {
    expect(() =>
      applyPerpFillTo(emptyPerpVenue(), { symbol: 'X', side: 'buy', amount: 0, price: 1, fee: 0 }, null),
    ).toThrow();
    expect(() =>
      applyPerpFillTo(emptyPerpVenue(), { symbol: 'X', side: 'buy', amount: 1, price: Number.NaN, fee: 0 }, null),
    ).toThrow();
  });

  it('liquidation price: at the liquidation price margin + PnL equals maintenance', () => {
    for (const [side, L, mmr] of [
      ['long', 2, 0.004],
      ['short', 3, 0.004],
      ['long', 10, 0.01],
      ['short', 1, 0.005],
    ] as const) {
      const E = 60_000;
      const q = 0.5;
      const P = liquidationPrice(side, E, L, mmr);
      const sign = side === 'long' ? 1 : -1;
      expect((q * E) / L + sign * q * (P - E)).toBeCloseTo(mmr * q * P, 6);
    }
    // 2x long: liquidation ~49.8% below; 5x short: ~19.5% above.
    expect(liquidationDistancePct('long', 60_000, 2, 0.004)).toBeCloseTo(49.8, 1);
    expect(liquidationDistancePct('short', 60_000, 5, 0.004)).toBeCloseTo(19.5, 1);
  });
});
