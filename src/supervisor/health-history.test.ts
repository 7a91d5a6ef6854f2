import { describe, expect, it } from 'vitest';
import { createHealthHistory } from './health-history.js';

describe('createHealthHistory', () => {
  it('keeps the edges of the last hour and the one the hour started in, oldest first', () => {
    let now = 0;
    const h = createHealthHistory({ now: () => now });
    h.record('conn:binance', 'OK', '');
    now = 10 * 60_000;
    h.record('conn:binance', 'DEGRADED', 'rate_limited');
    now = 20 * 60_000;
    h.record('conn:binance', 'DEGRADED', 'rate_limited');
    h.record('conn:binance', 'HALTED', 'ban: 418');
    expect(h.list('conn:binance').map((e) => [e.from, e.to, e.reason])).toEqual([
      [null, 'OK', ''],
      ['OK', 'DEGRADED', 'rate_limited'],
      ['DEGRADED', 'HALTED', 'ban: 418'],
    ]);
    now = 75 * 60_000;
    // OK (0 min) is older than the hour and superseded by DEGRADED (10 min), which also started before it.
    expect(h.list('conn:binance').map((e) => e.to)).toEqual(['DEGRADED', 'HALTED']);
    now = 200 * 60_000;
    expect(h.list('conn:binance').map((e) => e.to)).toEqual(['HALTED']);
    expect(h.list('feed:kraken')).toEqual([]);
  });

  it('bounds a flapping actor to its newest edges', () => {
    let now = 0;
    const h = createHealthHistory({ now: () => now, maxPerActor: 5 });
    for (let i = 0; i < 20; i++) {
      now += 1_000;
      h.record('sym:binance:BTCUSDT', i % 2 ? 'DEGRADED' : 'OK', `flap ${i}`);
    }
    const list = h.list('sym:binance:BTCUSDT');
    expect(list).toHaveLength(5);
    expect(list.at(-1)?.reason).toBe('flap 19');
  });
});
