import { describe, expect, it } from 'vitest';
import { DEPEG_BLIND } from '../machines/depeg-guard.machine.js';
import { combineParity, PARITY_MAX_AGE_MS, readParity } from './guards.actors.js';
import { createQuoteBoard } from './quote-board.js';

const tick = (symbol: string, bid: number, ask: number, receivedAt: number) => ({
  symbol,
  market: 'spot' as const,
  bid,
  ask,
  last: null,
  venueTs: null,
  receivedAt,
});

describe('depeg parity from the shared feed', () => {
  const now = 1_000_000;
  const all = () => true;

  it("reads USDT in USDC from Kraken's USDC/USDT book (inverted), and BTCUSDT/BTCUSDC", () => {
    const q = createQuoteBoard();
    q.note('kraken', tick('USDCUSDT', 1.0199, 1.0201, now));
    q.note('kraken', tick('BTCUSDT', 100, 100, now));
    q.note('kraken', tick('BTCUSDC', 98, 98, now));
    const r = readParity(q, 'kraken', all, now);
    expect(r.usdtUsdc).toBeCloseTo(1 / 1.02, 12);
    expect(r.btcRatio).toBeCloseTo(100 / 98, 12);
  });

  it('a quote older than PARITY_MAX_AGE_MS is no reading', () => {
    const q = createQuoteBoard();
    q.note('binance', tick('USDTUSDC', 1, 1, now - PARITY_MAX_AGE_MS - 1));
    expect(readParity(q, 'binance', all, now)).toMatchObject({ usdtUsdc: null, btcRatio: null });
  });

  it('one venue seeing parity is enough; the reading furthest from parity wins (fail closed)', () => {
    const q = createQuoteBoard();
    q.note('kraken', tick('USDCUSDT', 1, 1, now));
    const calm = combineParity([readParity(q, 'binance', all, now), readParity(q, 'kraken', all, now)]);
    expect(calm).toEqual({ usdtUsdc: 1, btcRatio: null });
    q.note('binance', tick('USDTUSDC', 0.97, 0.97, now));
    expect(combineParity([readParity(q, 'binance', all, now), readParity(q, 'kraken', all, now)]).usdtUsdc).toBe(0.97);
  });

  it('blind when no venue shows either figure, saying what each venue lacks', () => {
    const q = createQuoteBoard();
    const out = combineParity([readParity(q, 'binance', all, now), readParity(q, 'kraken', () => false, now)]);
    expect(out.usdtUsdc).toBeNull();
    expect(out.blind).toBe(
      `${DEPEG_BLIND} (binance: no fresh quote of USDT/USDC or BTCUSDT/BTCUSDC from its feed; ` +
        'kraken: lists neither USDT/USDC nor BTCUSDT with BTCUSDC)',
    );
  });
});
