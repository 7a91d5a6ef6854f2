import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import { createGateway } from './index.js';
import { isLoopbackUrl } from './loopback-guard.js';
import { listApiUrls } from './venue-urls.js';

// Nothing listens here: these tests must not need the network (a request would fail, not hang).
const SIM = 'http://127.0.0.1:9';

describe('createGateway construction', () => {
  it('builds Binance as spot + USDⓈ-M instances with every API URL on loopback', () => {
    const gw = createGateway('binance', { mode: 'paper', simBaseUrl: SIM });
    expect(gw.marketKinds).toEqual(['spot', 'linear']);
    expect(gw.members.map((m) => m.exchange.id)).toEqual(['binance', 'binanceusdm']);
    for (const m of gw.members) {
      expect(listApiUrls(m.exchange).filter((u) => !isLoopbackUrl(u))).toEqual([]);
      expect(m.exchange.options.fetchMarkets).toMatchObject({ types: m.marketKinds });
      expect(m.exchange.options.fetchCurrencies).toBe(false);
    }
  });

  it('passes rateLimit to the ccxt constructor, where it takes effect', () => {
    const gw = createGateway('kraken', { mode: 'paper', simBaseUrl: SIM, rateLimitMs: 7 });
    const ex = gw.members[0]!.exchange;
    expect(ex.rateLimit).toBe(7);
    // ccxt sizes its token bucket from rateLimit at construction: refillRate = 1 / rateLimit.
    expect((ex as unknown as { tokenBucket: { refillRate: number } }).tokenBucket.refillRate).toBeCloseTo(1 / 7);
  });

  it.each([
    [{ mode: 'paper' as const, simBaseUrl: 'http://sim.example:8080' }, /loopback simBaseUrl/],
    [{ mode: 'paper' as const }, /needs simBaseUrl/],
    [{ mode: 'paper' as const, simBaseUrl: SIM, testnet: true }, /live-mode options/],
    [{ mode: 'live' as const }, /needs apiKey and secret/],
    [{ mode: 'live' as const, apiKey: 'k' }, /go together/],
    [{ mode: 'live' as const, apiKey: 'k', secret: 's', testnet: true, baseUrl: 'https://x.example' }, /not both/],
  ])('refuses bad options %#', (opts, message) => {
    expect(() => createGateway('binance', opts)).toThrow(message);
    try {
      createGateway('binance', opts);
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe('CONFIG_INVALID');
    }
  });

  it('refuses a Kraken testnet (ccxt would silently empty its URLs)', () => {
    expect(() => createGateway('kraken', { mode: 'live', apiKey: 'k', secret: 's', testnet: true })).toThrow(
      /no testnet/,
    );
  });

  it('points live Binance at its testnet when asked', () => {
    const gw = createGateway('binance', { mode: 'live', apiKey: 'k', secret: 's', testnet: true });
    const api = gw.members[0]!.exchange.urls.api as Record<string, string>;
    expect(api.public).toBe('https://testnet.binance.vision/api/v3');
  });

  it('guards a live base-URL override to that origin', async () => {
    const gw = createGateway('kraken', {
      mode: 'live',
      apiKey: 'k',
      secret: 'c2VjcmV0',
      baseUrl: 'http://127.0.0.1:9',
    });
    const ex = gw.members[0]!.exchange;
    (ex.urls.api as Record<string, string>).public = 'https://api.kraken.com';
    await expect(gw.fetchTickers(['BTCUSD'])).rejects.toMatchObject({
      info: { code: 'LoopbackViolation', kind: 'fatal' },
    });
    expect(gw.refusedRequests()).toBe(1);
  });
});

describe('createOrder local checks (nothing sent)', () => {
  it('rejects a malformed request without a request', async () => {
    const gw = createGateway('binance', { mode: 'paper', simBaseUrl: SIM });
    const r = await gw.createOrder({
      clientOrderId: 'no spaces allowed',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 1,
      market: 'spot',
    });
    expect(r).toMatchObject({ status: 'rejected', error: { kind: 'fatal', code: 'InvalidRequest' } });
  });

  it('rejects a linear order at a spot-only venue', async () => {
    const gw = createGateway('kraken', { mode: 'paper', simBaseUrl: SIM });
    const r = await gw.createOrder({
      clientOrderId: 'c1',
      symbol: 'BTCUSD',
      side: 'buy',
      type: 'market',
      amount: 1,
      market: 'linear',
    });
    expect(r).toMatchObject({ status: 'rejected', error: { code: 'NotSupported' } });
    expect(await gw.fetchPositions()).toEqual([]);
  });

  it('reports markets that cannot load as a rejected create, not an unknown one', async () => {
    const gw = createGateway('kraken', { mode: 'paper', simBaseUrl: SIM, timeoutMs: 1000 });
    const r = await gw.createOrder({
      clientOrderId: 'c2',
      symbol: 'BTCUSD',
      side: 'buy',
      type: 'market',
      amount: 1,
      market: 'spot',
    });
    expect(r).toMatchObject({ status: 'rejected', error: { kind: 'retryable', tag: 'network' } });
    await gw.close();
  });
});
