import { describe, expect, it } from 'vitest';
import { addTick, barLogReturn, initialBars } from './bars.js';

describe('bars from ticks', () => {
  it('closes a bar when a tick lands in a later bucket, with OHLC and tick count', () => {
    const s = initialBars(1_000);
    expect(addTick(s, 100, 10_000)).toBeNull();
    expect(addTick(s, 105, 10_400)).toBeNull();
    expect(addTick(s, 95, 10_999)).toBeNull();
    const bar = addTick(s, 101, 11_000);
    expect(bar).toEqual({ openAt: 10_000, open: 100, high: 105, low: 95, close: 95, ticks: 3 });
    expect(s.current?.openAt).toBe(11_000);
    expect(s.lastClose).toBe(95);
  });

  it('a gap of several buckets closes the current bar only, with no synthetic bars', () => {
    const s = initialBars(100);
    addTick(s, 10, 0);
    const closed = addTick(s, 11, 1_050);
    expect(closed?.close).toBe(10);
    expect(s.current?.openAt).toBe(1_000);
    expect(addTick(s, 12, 1_099)).toBeNull();
  });

  it('ignores out-of-order ticks and invalid prices', () => {
    const s = initialBars(100);
    addTick(s, 10, 500);
    expect(addTick(s, 99, 400)).toBeNull();
    for (const p of [Number.NaN, 0, -1, Number.POSITIVE_INFINITY]) expect(addTick(s, p, 550)).toBeNull();
    expect(s.current).toEqual({ openAt: 500, open: 10, high: 10, low: 10, close: 10, ticks: 1 });
  });

  it('log returns between closes', () => {
    expect(barLogReturn(null, { openAt: 0, open: 1, high: 1, low: 1, close: 1, ticks: 1 })).toBeNull();
    expect(barLogReturn(100, { openAt: 0, open: 1, high: 1, low: 1, close: 110, ticks: 1 })).toBeCloseTo(
      Math.log(1.1),
      12,
    );
  });
});
