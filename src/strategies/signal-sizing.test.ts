import { describe, expect, it } from 'vitest';
import { type SignalSizingInput, sizeSignal } from './signal-sizing.js';

const base: SignalSizingInput = {
  venue: 'binance',
  symbol: 'BTCUSDT',
  signal: 1,
  quoteMultiplier: 1,
  price: 60_000,
  positionBase: 0,
  equityUsd: 100_000,
  allocations: { reserve_pct: 0 },
  venues: ['binance'],
  symbols: ['BTCUSDT'],
  sizeScale: 1,
  minTradeUsdt: 10,
  maxNotionalUsdt: 100,
  longOnly: true,
};

describe('sizeSignal under the exposure caps', () => {
  it('clips an entry to the room left under the caps, with the reason', () => {
    const d = sizeSignal({ ...base, headroomUsdt: 42.5 });
    expect(d).toMatchObject({ side: 'buy', quoteUsdt: 42.5 });
    expect(d?.reason).toContain('clipped to 42.50 left under the exposure caps');
  });
  it('sends nothing when less than MIN_TRADE_USDT is left (no order refused at the cap every bar)', () => {
    expect(sizeSignal({ ...base, headroomUsdt: 9.99 })).toBeNull();
    expect(sizeSignal({ ...base, headroomUsdt: 0 })).toBeNull();
  });
  it('leaves an entry under the room, and every exit, as sized', () => {
    expect(sizeSignal({ ...base, headroomUsdt: 5_000 })).toMatchObject({ side: 'buy', quoteUsdt: 100 });
    expect(sizeSignal(base)).toMatchObject({ side: 'buy', quoteUsdt: 100 });
    const exit = sizeSignal({ ...base, signal: 0, positionBase: 0.01, headroomUsdt: 0 });
    expect(exit).toMatchObject({ side: 'sell', reduceOnly: true });
    expect(exit?.quoteUsdt).toBeGreaterThan(0);
  });
});
