import { describe, expect, it } from 'vitest';
import { initialBreakoutState, normaliseSymbol, onExternalEvent, onPrice, slippageBps } from './breakout.js';

const P = { windowMs: 60_000, breakoutPct: 1 };
const ev = (payload: Record<string, unknown>, receivedAt = 1_000) => ({
  id: 'e1',
  source: 'test_harness',
  receivedAt,
  payload,
});
const opts = { enabled: true, tradableSymbols: ['BTCUSDT', 'FOOUSDT'] };

describe('event breakout', () => {
  it('arms on an event, takes the first price as reference and decides on a move past the threshold', () => {
    let s = onExternalEvent(initialBreakoutState(), ev({ symbol: 'FOOUSDT' }), opts).state;
    expect(Object.keys(s.armed)).toEqual(['FOOUSDT']);
    s = onPrice(s, 'FOOUSDT', 100, 2_000, P).state;
    const quiet = onPrice(s, 'FOOUSDT', 100.9, 3_000, P);
    expect(quiet.decision).toBeNull();
    const r = onPrice(quiet.state, 'FOOUSDT', 101, 4_000, P);
    expect(r.decision).toMatchObject({
      symbol: 'FOOUSDT',
      side: 'buy',
      refPrice: 100,
      triggerPrice: 101,
      latencyMs: 3_000,
    });
    expect(r.state.armed).toEqual({});
    expect(r.state.decisions).toBe(1);
  });

  it('respects the direction, expires after the window, and ignores what it cannot trade', () => {
    let s = onExternalEvent(initialBreakoutState(), ev({ symbol: 'btcusdt.binance', direction: 'down' }), opts).state;
    s = onPrice(s, 'BTCUSDT', 100, 1_500, P).state;
    expect(onPrice(s, 'BTCUSDT', 103, 2_000, P).decision).toBeNull();
    expect(onPrice(s, 'BTCUSDT', 98, 2_000, P).decision?.side).toBe('sell');
    const late = onPrice(s, 'BTCUSDT', 90, 1_000 + 60_001, P);
    expect(late.decision).toBeNull();
    expect(late.state.expired).toBe(1);
    expect(onExternalEvent(initialBreakoutState(), ev({ symbol: 'XYZUSDT' }), opts).accepted).toBe(false);
    expect(onExternalEvent(initialBreakoutState(), ev({}), opts).reason).toMatch(/symbol/);
    expect(
      onExternalEvent(initialBreakoutState(), ev({ symbol: 'FOOUSDT' }), { ...opts, enabled: false }).accepted,
    ).toBe(false);
  });

  it('normalises symbols and measures slippage against us', () => {
    expect(normaliseSymbol('FOOUSDT')).toBe('FOOUSDT');
    expect(normaliseSymbol(' ethusdt.KRAKEN ')).toBe('ETHUSDT');
    expect(normaliseSymbol('bad symbol!')).toBeNull();
    expect(slippageBps('buy', 100, 100.1)).toBeCloseTo(10, 9);
    expect(slippageBps('sell', 100, 100.1)).toBeCloseTo(-10, 9);
  });
});
