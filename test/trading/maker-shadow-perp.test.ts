import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownAnswers, makerShadowRig, type ShadowRig } from './maker-shadow-rig.js';

/**
 * Maker shadow on a Binance USDⓈ-M perpetual (MAKER_MODE perp=shadow) with a known answer (maker-shadow-rig.ts):
 * a taker buy on the perpetual records the post-only alternative at the book's bid (USDⓈ-M's ticker carries no
 * touch), and the would-be fill is decided from the USDⓈ-M trade stream (`/fapi` `<symbol>@trade`, ccxt.pro
 * binanceusdm watchTrades) of the simulator's perpetual tape, not the spot one.
 */
let s: ShadowRig;

beforeAll(async () => {
  s = await makerShadowRig({ seed: 19, market: 'perp', stream: true });
}, 30_000);
afterAll(async () => {
  await s?.close();
});

describe('perpetual maker shadow, known answers', () => {
  knownAnswers(() => s);

  it('the prints came from the USDⓈ-M trade stream; the spot market was never shadowed', async () => {
    expect(s.r.engine.maker().shadow.tapes).toEqual([
      { venue: 'binance', market: 'perp', symbols: ['BTCUSDT'], stream: 'live' },
    ]);
    expect(s.r.engine.maker().shadow.summary.map((x) => x.market)).toEqual(['perp']);
    // The perpetual's own tape (GET /fapi/v1/aggTrades): the taker's fills lifting the ask and the falls at the bid.
    // The simulator samples only a tape someone reads, so the sells prove the shadow followed the perpetual's (the
    // spot tape moves with the same fair price and alone would give the same known answers).
    const prints = await (s.r.gateway.fetchTrades?.('BTCUSDT', 50, 'linear') ?? Promise.resolve([]));
    expect(prints.some((p) => p.side === 'buy')).toBe(true);
    expect(prints.some((p) => p.side === 'sell')).toBe(true);
  });
});
