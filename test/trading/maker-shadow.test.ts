import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownAnswers, makerShadowRig, type ShadowRig } from './maker-shadow-rig.js';

/**
 * Maker shadow on spot with a known answer (maker-shadow-rig.ts), the prints from Binance's `<symbol>@trade`
 * stream (ccxt.pro watchTrades) and GET aggTrades.
 */
let s: ShadowRig;

beforeAll(async () => {
  s = await makerShadowRig({ seed: 17, market: 'spot', stream: true });
}, 30_000);
afterAll(async () => {
  await s?.close();
});

describe('maker shadow, known answers', () => {
  knownAnswers(() => s);

  it('the prints came from the trade stream, which delivered the simulator tape (fills and synthetic flow)', async () => {
    const tape = s.r.engine.maker().shadow.tapes;
    expect(tape).toEqual([{ venue: 'binance', market: 'spot', symbols: ['BTCUSDT'], stream: 'live' }]);
    // REST serves the same tape: the taker's own fills at the ask (the buyer took) and the falls at the bid.
    const prints = await (s.r.gateway.fetchTrades?.('BTCUSDT', 50) ?? Promise.resolve([]));
    expect(prints.some((p) => p.side === 'buy')).toBe(true);
    expect(prints.some((p) => p.side === 'sell')).toBe(true);
  });
});
