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

  it('an exit filled in parts leaves the share and the position exactly flat (no binary residue)', () => {
    const v = emptyPerpVenue(0);
    const fill = (side: 'buy' | 'sell', amount: number) => ({ symbol: 'BTCUSDT', side, amount, price: 100, fee: 0 });
    applyPerpFillTo(v, fill('buy', 0.302697), 'strategies');
    // 0.302697 − 0.302 rounded to 15 digits of the result kept 3e-18 of noise, and the last part left it behind.
    applyPerpFillTo(v, fill('sell', 0.302), 'strategies');
    expect(v.owners.BTCUSDT?.strategies).toBe(0.000697);
    applyPerpFillTo(v, fill('sell', 0.000697), 'strategies');
    expect(v.owners.BTCUSDT?.strategies).toBeUndefined();
    expect(v.positions.BTCUSDT).toBeUndefined();
  });

  it('keeps owners apart: a hedge and the strategies share the venue position but not their shares', () => {
    const v = emptyPerpVenue(0);
    applyPerpFillTo(v, { symbol: 'BTCUSDT', side: 'buy', amount: 0.02, price: 100, fee: 0 }, 'strategies');
    applyPerpFillTo(v, { symbol: 'BTCUSDT', side: 'sell', amount: 0.005, price: 100, fee: 0 }, 'hedge');
    expect(v.positions.BTCUSDT?.qty).toBe(0.015);
    expect(v.owners.BTCUSDT).toEqual({ strategies: 0.02, hedge: -0.005 });
  });

  it("a triggered stop closes Bosun's whole share (strategies then hedge); a guard trim only the strategies'", () => {
    const fill = (side: 'buy' | 'sell', amount: number) => ({ symbol: 'BTCUSDT', side, amount, price: 100, fee: 0 });
    const v = emptyPerpVenue(0);
    applyPerpFillTo(v, fill('sell', 0.02), 'strategies');
    applyPerpFillTo(v, fill('sell', 0.01), 'hedge');
    // The validator's buy stop for the 0.03 short triggers.
    applyPerpFillTo(v, fill('buy', 0.03), 'stop');
    expect(v.positions.BTCUSDT).toBeUndefined();
    expect(v.owners.BTCUSDT).toEqual({});
    // A guard trim of the same shares leaves the hedge alone.
    applyPerpFillTo(v, fill('sell', 0.02), 'strategies');
    applyPerpFillTo(v, fill('sell', 0.01), 'hedge');
    applyPerpFillTo(v, fill('buy', 0.03), 'guard');
    expect(v.owners.BTCUSDT).toEqual({ hedge: -0.01 });
    // A stop never moves a share on its own side, nor past zero.
    const w = emptyPerpVenue(0);
    applyPerpFillTo(w, fill('buy', 0.02), 'strategies');
    applyPerpFillTo(w, fill('sell', 0.005), 'hedge');
    applyPerpFillTo(w, fill('sell', 0.015), 'stop');
    expect(w.owners.BTCUSDT).toEqual({ strategies: 0.005, hedge: -0.005 });
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

describe('perp ledger precision', () => {
  it('books realized PnL and the wallet in USDT to 8 decimals, as USDⓈ-M does, from an averaged entry', () => {
    const v = emptyPerpVenue(1_000);
    applyPerpFillTo(
      v,
      { symbol: 'BTCUSDT', side: 'buy', amount: 0.003, price: 60_001.3, fee: 0.07200156 },
      'strategies',
    );
    applyPerpFillTo(
      v,
      { symbol: 'BTCUSDT', side: 'buy', amount: 0.004, price: 59_987.7, fee: 0.09598032 },
      'strategies',
    );
    // The entry is an average with more decimals than the tick: the close's raw PnL has binary and decimal tails.
    const realized = applyPerpFillTo(
      v,
      { symbol: 'BTCUSDT', side: 'sell', amount: 0.007, price: 59_990.1, fee: 0.16797228 },
      'strategies',
    );
    const on8 = (x: number) => Number(x.toFixed(8)) === x;
    expect(on8(realized)).toBe(true);
    expect(on8(v.realizedPnl)).toBe(true);
    expect(on8(v.wallet)).toBe(true);
    expect(realized).toBeCloseTo(0.003 * (59_990.1 - 60_001.3) + 0.004 * (59_990.1 - 59_987.7), 8);
  });
});
