import { describe, expect, it } from 'vitest';
import { perpClose, perpIntentFor } from './perp-intent.js';

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
  it('a close is the whole position, not clipped to max notional (a reduce-only order adds no risk)', () => {
    expect(perpIntentFor(100.05, 0, o)).toMatchObject({ side: 'sell', quoteUsdt: 100.05, closesAll: true });
    expect(perpIntentFor(-250, 80, o)).toMatchObject({ side: 'buy', quoteUsdt: 250, closesAll: true });
    expect(perpIntentFor(-90, -40, o)?.closesAll).toBeUndefined();
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

describe('perpClose: how a perpetual decision goes out', () => {
  // The clean-clone CI case: 0.005 BTC bought for the 300 USDT cap; the price rose; the old close sent 0.004.
  const bought = 0.005;
  const price = 60_010;
  const close = perpIntentFor(bought * price, 0, { minTradeUsdt: 10, maxNotionalUsdt: 300 });

  it("sends the strategies' whole position in base units, reduce-only, when the venue net can take it", () => {
    expect(close).not.toBeNull();
    if (!close) return;
    const s = perpClose(close, { price, positionBase: bought, netQty: bought, maxNotionalUsdt: 300 });
    expect(s).toEqual({ reduceOnly: true, quoteUsdt: bought * price, amountBase: bought });
  });

  it('a close the venue net cannot take reduce-only (a netted hedge) is an ordinary order, clipped to the cap', () => {
    if (!close) throw new Error('no close');
    const s = perpClose(close, { price, positionBase: bought, netQty: -0.01, maxNotionalUsdt: 300 });
    expect(s).toEqual({ reduceOnly: false, quoteUsdt: 300 });
  });

  it('a short is closed by its absolute size; a partial reduction keeps its quote', () => {
    const short = perpIntentFor(-0.004 * price, 100, { minTradeUsdt: 10, maxNotionalUsdt: 300 });
    if (!short) throw new Error('no close');
    expect(perpClose(short, { price, positionBase: -0.004, netQty: -0.004, maxNotionalUsdt: 300 })).toMatchObject({
      reduceOnly: true,
      amountBase: 0.004,
    });
    const part = perpIntentFor(-90, -40, o);
    if (!part) throw new Error('no reduction');
    expect(perpClose(part, { price: 100, positionBase: -0.9, netQty: -0.9, maxNotionalUsdt: 100 })).toEqual({
      reduceOnly: true,
      quoteUsdt: 50,
    });
  });
});
