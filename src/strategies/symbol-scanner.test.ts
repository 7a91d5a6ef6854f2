import { describe, expect, it } from 'vitest';
import { scoreSymbols, shortlist, shortlistDiff, trendOf, volatilityOf } from './symbol-scanner.js';

describe('symbol scanner scoring', () => {
  it.each([
    { name: 'flat prices', prices: [100, 100, 100, 100], change: 0, vol: 0, trend: 0 },
    { name: 'straight line up', prices: [100, 101, 102, 103], change: 3, vol: null, trend: 1 },
    { name: 'round trip', prices: [100, 110, 100], change: 0, vol: null, trend: 0 },
    { name: 'too few samples: 24h change', prices: [100], change: 5, vol: 0.05, trend: 0.5 },
    { name: 'no data at all', prices: [], change: null, vol: 0, trend: 0 },
  ])('volatility and trend of $name', ({ prices, change, vol, trend }) => {
    if (vol !== null) expect(volatilityOf(prices, change)).toBeCloseTo(vol, 9);
    else expect(volatilityOf(prices, change)).toBeGreaterThan(0);
    expect(trendOf(prices, change)).toBeCloseTo(trend, 9);
  });

  it('ranks volume, volatility and trend: the liquid trending mover first, the dead one last', () => {
    const s = scoreSymbols([
      { symbol: 'DEADUSDT', quoteVolume: 10, changePct: 0, prices: [1, 1, 1, 1] },
      { symbol: 'BTCUSDT', quoteVolume: 1e9, changePct: 4, prices: [100, 101, 102, 104] },
      { symbol: 'CHOPUSDT', quoteVolume: 1e6, changePct: 0, prices: [100, 103, 99, 100] },
    ]);
    expect(s.map((x) => x.symbol)).toEqual(['BTCUSDT', 'CHOPUSDT', 'DEADUSDT']);
    expect(s[0]?.volume).toBe(1);
    for (const x of s) {
      expect(x.score).toBeGreaterThanOrEqual(0);
      expect(x.score).toBeLessThanOrEqual(1);
    }
  });

  it('is deterministic on ties (by symbol) and treats missing volume as zero', () => {
    const s = scoreSymbols([
      { symbol: 'BBB', quoteVolume: null, changePct: null, prices: [] },
      { symbol: 'AAA', quoteVolume: null, changePct: null, prices: [] },
    ]);
    expect(s.map((x) => x.symbol)).toEqual(['AAA', 'BBB']);
    expect(s[0]?.volume).toBe(0);
  });

  it('shortlists the top N plus every protected symbol, in score order', () => {
    const scores = scoreSymbols([
      { symbol: 'A', quoteVolume: 1e9, changePct: 5, prices: [] },
      { symbol: 'B', quoteVolume: 1e8, changePct: 4, prices: [] },
      { symbol: 'C', quoteVolume: 1e7, changePct: 3, prices: [] },
      { symbol: 'D', quoteVolume: 1e6, changePct: 2, prices: [] },
    ]);
    expect(shortlist(scores, 2, [])).toEqual(['A', 'B']);
    expect(shortlist(scores, 2, ['D'])).toEqual(['A', 'B', 'D']);
    // A protected symbol the venue no longer lists (unscored) is kept too, last.
    expect(shortlist(scores, 1, ['ZZZ', 'C'])).toEqual(['A', 'C', 'ZZZ']);
    expect(shortlist(scores, 0, [])).toEqual([]);
  });

  it('diffs the live set against the next shortlist', () => {
    expect(shortlistDiff(['A', 'B'], ['B', 'C'])).toEqual({ add: ['C'], remove: ['A'] });
    expect(shortlistDiff(['A'], ['A'])).toEqual({ add: [], remove: [] });
  });
});
