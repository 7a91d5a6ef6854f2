import { describe, expect, it } from 'vitest';
import { printFills, queueFills, shadowKpis } from './maker-shadow.js';

describe('maker shadow rules', () => {
  it('a post-only buy at the bid fills on a print at or below it; a sell at the ask on one at or above it', () => {
    expect(printFills('buy', 100, 100)).toBe(true);
    expect(printFills('buy', 100, 99.9)).toBe(true);
    expect(printFills('buy', 100, 100.01)).toBe(false);
    expect(printFills('sell', 100, 100)).toBe(true);
    expect(printFills('sell', 100, 100.2)).toBe(true);
    expect(printFills('sell', 100, 99.99)).toBe(false);
  });

  it('KPIs are signed so that improvement is a gain and adverse and missed cost are costs, for both sides', () => {
    // Buy: taker paid 100.10, the bid was 100.00; after the fill the mid fell from 99.95 to 99.85.
    expect(shadowKpis('buy', { postPrice: 100, takerAverage: 100.1, fillMid: 99.95, endMid: 99.85 })).toEqual({
      improvementBps: 9.99,
      adverseBps: 10.01,
      missedCostBps: null,
    });
    // Sell missed: sold at 100 as taker, the mid at the timeout is 99.5 (taking later would have got less).
    expect(shadowKpis('sell', { postPrice: 100.1, takerAverage: 100, fillMid: null, endMid: 99.5 })).toEqual({
      improvementBps: null,
      adverseBps: null,
      missedCostBps: 50,
    });
  });
});

describe('queueFills: a post behind the size shown at its price', () => {
  it('fills once the volume printed at the price covers the queue ahead and its own amount', () => {
    expect(queueFills(0.05, 0.003, 0.0015)).toBe(false);
    expect(queueFills(0.05, 0.003, 0.0529)).toBe(false);
    expect(queueFills(0.05, 0.003, 0.053)).toBe(true);
    expect(queueFills(0, 0.003, 0.003)).toBe(true);
  });
  it('with no size known, any print at the price fills it (the optimistic touch rule)', () => {
    expect(queueFills(null, 0.003, 0.0001)).toBe(true);
    expect(queueFills(null, 0.003, 0)).toBe(false);
  });
});
