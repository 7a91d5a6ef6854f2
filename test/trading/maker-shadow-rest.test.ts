import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownAnswers, makerShadowRig, type ShadowRig } from './maker-shadow-rig.js';

/**
 * The maker shadow's REST fallback (no trade stream: STREAMS_ENABLED=false, or the stream down): the same known
 * answers as maker-shadow.test.ts (maker-shadow-rig.ts), the prints read by GET aggTrades (ccxt fetchTrades) every
 * poll of the window.
 */
let s: ShadowRig;

beforeAll(async () => {
  s = await makerShadowRig({ seed: 18, market: 'spot', stream: false });
}, 30_000);
afterAll(async () => {
  await s?.close();
});

describe('maker shadow by REST, known answers', () => {
  knownAnswers(() => s);

  it('read the tape by REST only: no stream followed', () => {
    expect(s.r.engine.maker().shadow.tapes).toEqual([
      { venue: 'binance', market: 'spot', symbols: ['BTCUSDT'], stream: 'none' },
    ]);
  });
});
