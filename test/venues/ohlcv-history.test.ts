/**
 * History warm-up's venue side: the simulator's Binance klines and Kraken OHLC through the real ccxt classes, and
 * `fetchHistory`'s pagination within each venue's limits (Binance 1,000 klines per request; Kraken keeps the
 * last 720 entries only), with bars on BAR_MS boundaries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BosunGateway } from '../../src/venues/index.js';
import { BadHistory, fetchHistory } from '../../src/venues/ohlcv-history.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import type { Ohlcv, VenueGateway } from '../../src/venues/venue-gateway.js';
import { paperGateway, requestStats, sent, startTestSim } from './gateway-harness.js';

let sim: Simulator;
let binance: BosunGateway;
let kraken: BosunGateway;

beforeAll(async () => {
  sim = await startTestSim(21);
  binance = paperGateway(sim, 'binance');
  kraken = paperGateway(sim, 'kraken');
  await Promise.all([binance.loadMarkets(), kraken.loadMarkets()]);
  // 90 minutes and a bit into the run: history is part prehistory, part the path since the origin.
  sim.advance(90 * 60_000 + 17_000);
});

afterAll(async () => {
  await Promise.all([binance.close(), kraken.close()]);
  await sim.close();
});

const MIN = 60_000;

function contiguous(bars: Ohlcv[], barMs: number): boolean {
  return bars.every(
    (b, i) => b.openTime % barMs === 0 && (i === 0 || b.openTime - (bars[i - 1]?.openTime ?? 0) === barMs),
  );
}

describe('Binance klines', () => {
  it('serves 2,000 closed one-minute bars in two requests of 1,000, ending with the last closed minute', async () => {
    const before = await requestStats(sim);
    const now = sim.now();
    const h = await fetchHistory(binance, { symbol: 'BTCUSDT', barMs: MIN, bars: 2000, now });
    expect(sent(await requestStats(sim), before, 'GET /api/v3/klines')).toBe(2);
    expect(h.requests).toBe(2);
    expect(h.timeframe).toBe('1m');
    expect(h.short).toBeUndefined();
    expect(h.bars).toHaveLength(2000);
    expect(contiguous(h.bars, MIN)).toBe(true);
    expect(h.bars.at(-1)?.openTime).toBe(Math.floor(now / MIN) * MIN - MIN);
    for (const b of h.bars) {
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
    }
  });

  it('returns the bar in progress last and caps a spot request at 1,000 klines', async () => {
    const now = sim.now();
    const rows = await binance.fetchOHLCV!('BTCUSDT', '1m', now - 1500 * MIN, 1500);
    expect(rows).toHaveLength(1000);
    const last = await binance.fetchOHLCV!('BTCUSDT', '1m', Math.floor(now / MIN) * MIN - 2 * MIN, 5);
    expect(last.map((r) => r.openTime)).toEqual([-2, -1, 0].map((k) => Math.floor(now / MIN) * MIN + k * MIN));
    // The bar in progress closes at the price the ticker shows now.
    const fair = Number(sim.prices('binance')['binance:spot:BTCUSDT']);
    expect(last.at(-1)?.close).toBeCloseTo(fair, 2);
  });

  it('aggregates five-minute bars from the same minutes (same close as the minute that ends them)', async () => {
    const now = sim.now();
    const five = await fetchHistory(binance, { symbol: 'BTCUSDT', barMs: 5 * MIN, bars: 30, now });
    const ones = await fetchHistory(binance, { symbol: 'BTCUSDT', barMs: MIN, bars: 150, now });
    expect(five.bars).toHaveLength(30);
    expect(contiguous(five.bars, 5 * MIN)).toBe(true);
    const closeAt = new Map(ones.bars.map((b) => [b.openTime, b.close]));
    for (const b of five.bars.slice(-10)) expect(b.close).toBe(closeAt.get(b.openTime + 4 * MIN));
  });
});

describe('Kraken OHLC', () => {
  it('keeps only the 720 most recent entries: 719 closed bars in one request, reported short', async () => {
    const before = await requestStats(sim);
    const now = sim.now();
    const h = await fetchHistory(kraken, { symbol: 'BTCUSD', barMs: MIN, bars: 2000, now });
    expect(sent(await requestStats(sim), before, 'GET /0/public/OHLC')).toBe(1);
    expect(h.bars).toHaveLength(719);
    expect(h.short).toBe('venue_depth');
    expect(contiguous(h.bars, MIN)).toBe(true);
    expect(h.bars.at(-1)?.openTime).toBe(Math.floor(now / MIN) * MIN - MIN);
  });

  it('answers a request for older data with the last 720 entries, whatever `since` says', async () => {
    const now = sim.now();
    const rows = await kraken.fetchOHLCV!('BTCUSD', '1m', now - 2000 * MIN, 720);
    expect(rows.length).toBeLessThanOrEqual(720);
    expect(rows[0]?.openTime).toBeGreaterThanOrEqual(Math.floor(now / MIN) * MIN - 719 * MIN);
  });

  it('warms nothing for a bar length the venue has no interval for', async () => {
    const h = await fetchHistory(kraken, { symbol: 'BTCUSD', barMs: 2 * MIN, bars: 100, now: sim.now() });
    expect(h).toMatchObject({ bars: [], requests: 0, short: 'no_timeframe' });
  });
});

describe('fetchHistory against a scripted venue', () => {
  /** A venue port serving candles at `barMs` with a given offset (0 = aligned), recording each request. */
  function scripted(venue: string, offsetMs: number) {
    const calls: Array<{ since: number; limit: number }> = [];
    const gw: Pick<VenueGateway, 'venue' | 'fetchOHLCV'> = {
      venue: venue as VenueGateway['venue'],
      fetchOHLCV: async (_s, _tf, since, limit) => {
        calls.push({ since, limit });
        return Array.from({ length: limit }, (_, i) => {
          const openTime = since + i * MIN + offsetMs;
          return { openTime, open: 1, high: 1, low: 1, close: 1, volume: 0 };
        });
      },
    };
    return { gw, calls };
  }

  it('pages Binance forward 1,000 at a time without overlap', async () => {
    const now = Date.UTC(2025, 0, 2, 12, 0, 30);
    const { gw, calls } = scripted('binance', 0);
    const h = await fetchHistory(gw, { symbol: 'BTCUSDT', barMs: MIN, bars: 2500, now });
    expect(calls.map((c) => c.limit)).toEqual([1000, 1000, 500]);
    expect(calls[1]?.since).toBe((calls[0]?.since ?? 0) + 1000 * MIN);
    expect(h.bars).toHaveLength(2500);
    expect(h.bars.at(-1)?.openTime).toBe(Date.UTC(2025, 0, 2, 11, 59));
  });

  it('walks past a window the venue has no candles for (before the listing) instead of stopping', async () => {
    const now = Date.UTC(2025, 0, 2, 12, 0, 30);
    const listed = Date.UTC(2025, 0, 2, 0, 0);
    const calls: number[] = [];
    const gw: Pick<VenueGateway, 'venue' | 'fetchOHLCV'> = {
      venue: 'binance',
      fetchOHLCV: async (_s, _tf, since, limit) => {
        calls.push(since);
        return Array.from({ length: limit }, (_, i) => since + i * MIN)
          .filter((t) => t >= listed && t < now - (now % MIN))
          .map((openTime) => ({ openTime, open: 1, high: 1, low: 1, close: 1, volume: 0 }));
      },
    };
    const h = await fetchHistory(gw, { symbol: 'BTCUSDT', barMs: MIN, bars: 2000, now });
    expect(calls).toHaveLength(2);
    expect(h.bars[0]?.openTime).toBe(listed);
    expect(h.bars).toHaveLength(12 * 60);
    expect(h.short).toBe('venue_ended');
  });

  it('refuses candles off the BAR_MS grid', async () => {
    const { gw } = scripted('binance', 30_000);
    await expect(fetchHistory(gw, { symbol: 'BTCUSDT', barMs: MIN, bars: 10, now: Date.now() })).rejects.toThrow(
      BadHistory,
    );
  });
});
