import { describe, expect, it } from 'vitest';
import { FaultBook, FaultSpecError } from './faults.js';

const at = (t = 0) => {
  let now = t;
  return { now: () => now, move: (ms: number) => (now += ms) };
};
const req = (venue: 'binance' | 'kraken', path: string, method = 'GET') => ({ venue, path, method });

describe('FaultBook', () => {
  it('scopes by venue, path prefix and method', () => {
    const c = at();
    const f = new FaultBook(1, c.now);
    f.add({ kind: 'http_5xx', venue: 'binance', path: '/api/v3/order', method: 'POST' });
    expect(f.terminal(req('binance', '/api/v3/order', 'POST'))).toBeDefined();
    expect(f.terminal(req('binance', '/api/v3/order', 'GET'))).toBeUndefined();
    expect(f.terminal(req('binance', '/api/v3/account', 'POST'))).toBeUndefined();
    expect(f.terminal(req('kraken', '/api/v3/order', 'POST'))).toBeUndefined();
  });

  it('spends a count and expires on sim time', () => {
    const c = at();
    const f = new FaultBook(1, c.now);
    f.add({ kind: 'hang', count: 2 });
    f.add({ kind: 'http_429', venue: 'kraken', durationMs: 1000 });
    const hits = [1, 2, 3].map(() => f.terminal(req('binance', '/x'))?.spec.kind);
    expect(hits).toEqual(['hang', 'hang', undefined]);
    expect(f.terminal(req('kraken', '/0/public/Time'))?.spec.kind).toBe('http_429');
    c.move(1000);
    expect(f.terminal(req('kraken', '/0/public/Time'))).toBeUndefined();
    expect(f.list()).toHaveLength(0);
  });

  it('hits about `rate` of requests, the same ones for the same seed', () => {
    const run = (seed: number) => {
      const f = new FaultBook(seed, () => 0);
      f.add({ kind: 'http_5xx', rate: 0.25 });
      return Array.from({ length: 400 }, () => f.terminal(req('binance', '/x')) !== undefined);
    };
    const a = run(5);
    expect(a).toEqual(run(5));
    const n = a.filter(Boolean).length;
    expect(n).toBeGreaterThan(60);
    expect(n).toBeLessThan(140);
  });

  it('adds latencies, flags accept-then-502 and stop drops, and sums clock skew without spending it', () => {
    const f = new FaultBook(1, () => 0);
    f.add({ kind: 'latency', ms: 20 });
    f.add({ kind: 'latency', ms: 30, venue: 'kraken' });
    f.add({ kind: 'accept_then_502', path: '/api/v3/order', count: 1 });
    f.add({ kind: 'drop_stops', venue: 'kraken' });
    f.add({ kind: 'clock_skew', ms: -5000, venue: 'binance' });
    expect(f.latencyMs(req('kraken', '/0/private/AddOrder'))).toBe(50);
    expect(f.acceptThen502(req('binance', '/api/v3/order'))).toBe(true);
    expect(f.acceptThen502(req('binance', '/api/v3/order'))).toBe(false);
    expect(f.dropStop(req('kraken', '/0/private/AddOrder'))).toBe(true);
    expect(f.dropStop(req('binance', '/api/v3/order'))).toBe(false);
    expect(f.skewMs('binance')).toBe(-5000);
    expect(f.skewMs('binance')).toBe(-5000);
    expect(f.skewMs('kraken')).toBe(0);
  });

  it('refuses a venue error without the venue-specific code', () => {
    const f = new FaultBook(1, () => 0);
    expect(() => f.add({ kind: 'venue_error', venue: 'kraken', code: -1021 })).toThrow(FaultSpecError);
    expect(() => f.add({ kind: 'venue_error', venue: 'all', code: -1021, error: 'EAPI:Invalid nonce' })).not.toThrow();
  });
});
