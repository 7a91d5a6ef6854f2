import { describe, expect, it } from 'vitest';
import { clean, cleanAdd, limitPriceToTick, snapDown } from './precision.js';

describe('cleanAdd', () => {
  it('rounds a difference of close values at the scale of its terms, where clean keeps their noise', () => {
    const held = cleanAdd(0.303, -0.000303);
    expect(held).toBe(0.302697);
    expect(clean(held - 0.302)).toBe(0.000697000000000003);
    expect(cleanAdd(held, -0.302)).toBe(0.000697);
  });

  it('gives the decimal sum of large and small terms (49974.93257, never 49974.932570000004)', () => {
    expect(cleanAdd(50_000, -25.06743)).toBe(49974.93257);
    expect(cleanAdd(0.1, 0.2)).toBe(0.3);
    expect(cleanAdd(1e-8, 2e-8)).toBe(3e-8);
  });

  it('returns exactly 0 (never -0) for terms that cancel, and passes non-finite values through', () => {
    expect(Object.is(cleanAdd(0.302, -0.302), 0)).toBe(true);
    expect(Object.is(cleanAdd(-1e-9, 1e-9), 0)).toBe(true);
    expect(cleanAdd(Number.POSITIVE_INFINITY, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(cleanAdd(Number.NaN, 1)).toBeNaN();
  });
});

describe('snapping to the market grid', () => {
  it('floors an amount to the step and snaps a limit price to the tick on the passive side', () => {
    expect(snapDown(45 / 148.1234, 0.001)).toBe(0.303);
    expect(limitPriceToTick(145.619698, 0.0001, 'buy')).toBe(145.6196);
    expect(limitPriceToTick(145.619698, 0.0001, 'sell')).toBe(145.6197);
  });
});
