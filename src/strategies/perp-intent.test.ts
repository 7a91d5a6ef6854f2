import { describe, expect, it } from 'vitest';
import { perpIntentFor } from './perp-intent.js';

const o = { minTradeUsdt: 10, maxNotionalUsdt: 100 };

describe('perpetual intents (one-way mode)', () => {
  it('opens a short from flat with an entry that is not reduce-only', () => {
    expect(perpIntentFor(0, -80, o)).toMatchObject({ side: 'sell', quoteUsdt: 80, reduceOnly: false });
  });
  it('grows a long, clipped to max notional', () => {
    expect(perpIntentFor(50, 400, o)).toMatchObject({ side: 'buy', quoteUsdt: 100, reduceOnly: false });
  });
  it('shrinks a short with a reduce-only buy', () => {
    expect(perpIntentFor(-90, -40, o)).toMatchObject({ side: 'buy', quoteUsdt: 50, reduceOnly: true });
  });
  it('a flip first closes the whole position reduce-only, never crossing zero in one order', () => {
    expect(perpIntentFor(60, -80, o)).toMatchObject({ side: 'sell', quoteUsdt: 60, reduceOnly: true });
    expect(perpIntentFor(-60, 80, o)).toMatchObject({ side: 'buy', quoteUsdt: 60, reduceOnly: true });
  });
  it('closes a dust position under minTradeUsdt when the target is flat', () => {
    expect(perpIntentFor(4, 0, o)).toMatchObject({ side: 'sell', quoteUsdt: 4, reduceOnly: true });
  });
  it('keeps hysteresis on entries and reductions', () => {
    expect(perpIntentFor(50, 55, o)).toBeNull();
    expect(perpIntentFor(-50, -45, o)).toBeNull();
    expect(perpIntentFor(0, 0, o)).toBeNull();
    expect(perpIntentFor(Number.NaN, 10, o)).toBeNull();
  });
});
