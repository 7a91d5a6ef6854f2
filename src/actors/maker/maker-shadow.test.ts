import { describe, expect, it } from 'vitest';
import { shadowKpis, wouldFill } from './maker-shadow.js';

describe('maker shadow rules', () => {
  it('a post-only buy at the bid fills on a print at or below it, or an ask that comes down to it', () => {
    expect(wouldFill('buy', 100, { bid: 99.9, ask: 100.2, last: 100 })).toBe(true);
    expect(wouldFill('buy', 100, { bid: 99.9, ask: 100, last: 100.1 })).toBe(true);
    expect(wouldFill('buy', 100, { bid: 100, ask: 100.1, last: 100.05 })).toBe(false);
    expect(wouldFill('sell', 100, { bid: 99.9, ask: 100.1, last: 100 })).toBe(true);
    expect(wouldFill('sell', 100, { bid: 99.8, ask: 99.9, last: 99.95 })).toBe(false);
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
