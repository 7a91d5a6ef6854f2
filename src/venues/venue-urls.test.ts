import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { isLoopbackUrl } from './loopback-guard.js';
import { listApiUrls, pointExchangeAt, rewriteUrl } from './venue-urls.js';

const SIM = 'http://127.0.0.1:40123';

describe('rewriteUrl', () => {
  it('keeps the path and query and swaps scheme and host', () => {
    expect(rewriteUrl('https://api.binance.com/api/v3', SIM)).toBe(`${SIM}/api/v3`);
    expect(rewriteUrl('https://fapi.binance.com/futures/data?x=1', SIM)).toBe(`${SIM}/futures/data?x=1`);
    expect(rewriteUrl('wss://stream.binance.com:9443/ws', SIM)).toBe('ws://127.0.0.1:40123/ws');
  });

  it('adds no slash to a host-only Kraken URL (ccxt appends /0/public/…)', () => {
    expect(rewriteUrl('https://api.kraken.com', SIM)).toBe(SIM);
    expect(rewriteUrl('https://api.kraken.com', `${SIM}/`)).toBe(SIM);
  });

  it('prefixes a base path', () => {
    expect(rewriteUrl('https://api.kraken.com', `${SIM}/kraken`)).toBe(`${SIM}/kraken`);
  });

  it('leaves non-URL strings alone', () => {
    expect(rewriteUrl('not a url', SIM)).toBe('not a url');
  });
});

describe('pointExchangeAt', () => {
  it.each(['binance', 'binanceusdm', 'kraken'] as const)('leaves no non-loopback API URL in %s', (id) => {
    const ex = new ccxt[id]();
    const before = listApiUrls(ex);
    expect(before.length).toBeGreaterThan(0);
    pointExchangeAt(ex, SIM);
    const after = listApiUrls(ex);
    expect(after).toHaveLength(before.length);
    expect(after.filter((u) => !isLoopbackUrl(u))).toEqual([]);
  });

  it('covers every Binance family, test and demo trees included', () => {
    const ex = new ccxt.binance();
    pointExchangeAt(ex, SIM);
    const api = ex.urls.api as Record<string, string>;
    expect(api.fapiPrivateV3).toBe(`${SIM}/fapi/v3`);
    expect(api.sapiV4).toBe(`${SIM}/sapi/v4`);
    expect((ex.urls.test as Record<string, string>).public).toBe(`${SIM}/api/v3`);
    expect((ex.urls.demo as Record<string, string>).fapiPublic).toBe(`${SIM}/fapi/v1`);
  });

  it('refuses a malformed base before touching anything', () => {
    const ex = new ccxt.kraken();
    expect(() => pointExchangeAt(ex, 'nope')).toThrow();
    expect((ex.urls.api as Record<string, string>).public).toBe('https://api.kraken.com');
  });
});
