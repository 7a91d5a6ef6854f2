/**
 * Authentication failures give ccxt's AuthenticationError, and the simulator's request counters show exactly
 * the requests the client made (no hidden retries), so a gateway can prove it does not storm.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Simulator, signBinance, signKraken, startSimulator } from '../../src/venues/sim/index.js';
import { binanceClient, krakenClient, rejectionOf, usdmClient } from './sim-ccxt.js';

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3 });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

describe('bad credentials', () => {
  it('Binance: an unknown key is AuthenticationError after exactly one signed request', async () => {
    const ex = binanceClient(sim, { apiKey: randomBytes(32).toString('hex') });
    await ex.loadMarkets();
    const err = await rejectionOf(ex.fetchBalance());
    expect(err.constructor.name).toBe('AuthenticationError');
    expect(err.message).toContain('-2015');
    const r = sim.requests();
    expect(r.byPath).toEqual({
      'GET /api/v3/exchangeInfo': 1,
      'GET /fapi/v1/exchangeInfo': 1,
      'GET /api/v3/account': 1,
    });
    expect(r.byStatus['binance 401']).toBe(1);
  });

  it('Binance: a wrong secret is AuthenticationError (-1022), one request per call', async () => {
    const ex = usdmClient(sim, { secret: randomBytes(32).toString('hex') });
    await ex.loadMarkets();
    for (let i = 0; i < 3; i++)
      expect((await rejectionOf(ex.fetchBalance())).constructor.name).toBe('AuthenticationError');
    expect(sim.requests().byPath['GET /fapi/v3/account']).toBe(3);
  });

  it('Kraken: an unknown key is AuthenticationError after exactly one private request', async () => {
    const ex = krakenClient(sim, { apiKey: randomBytes(42).toString('base64') });
    await ex.loadMarkets();
    expect((await rejectionOf(ex.fetchBalance())).constructor.name).toBe('AuthenticationError');
    expect(sim.requests().byPath).toEqual({
      'GET /0/public/Assets': 1,
      'GET /0/public/AssetPairs': 1,
      'POST /0/private/BalanceEx': 1,
    });
  });

  it('Kraken: a wrong secret answers EAPI:Invalid signature and the nonce is not consumed', async () => {
    const bad = krakenClient(sim, { secret: randomBytes(64).toString('base64') });
    await bad.loadMarkets();
    expect((await rejectionOf(bad.fetchBalance())).message).toContain('EAPI:Invalid signature');
    const good = krakenClient(sim);
    good.setMarkets(bad.markets);
    await expect(good.fetchBalance()).resolves.toBeDefined();
  });
});

describe('signature checks on the raw request', () => {
  it('accepts a hand-signed Binance request and rejects one whose bytes changed after signing', async () => {
    const q = `symbol=BTCUSDT&timestamp=${Date.now()}&recvWindow=5000`;
    const headers = { 'X-MBX-APIKEY': sim.keys.binance.apiKey };
    const ok = await fetch(`${sim.baseUrl}/api/v3/openOrders?${signBinance(sim.keys.binance.secret, q)}`, { headers });
    expect(ok.status).toBe(200);
    const tampered = signBinance(sim.keys.binance.secret, q).replace('BTCUSDT', 'ETHUSDT');
    const bad = await fetch(`${sim.baseUrl}/api/v3/openOrders?${tampered}`, { headers });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
  });

  it('enforces timestamp and recvWindow (-1021, -1131)', async () => {
    const headers = { 'X-MBX-APIKEY': sim.keys.binance.apiKey };
    const call = async (q: string) => {
      const r = await fetch(`${sim.baseUrl}/api/v3/account?${signBinance(sim.keys.binance.secret, q)}`, { headers });
      return (await r.json()) as { code?: number };
    };
    expect((await call(`timestamp=${Date.now() - 10_000}&recvWindow=5000`)).code).toBe(-1021);
    expect((await call(`timestamp=${Date.now() + 5_000}`)).code).toBe(-1021);
    expect((await call(`timestamp=${Date.now()}&recvWindow=70000`)).code).toBe(-1131);
    expect((await call(`recvWindow=5000`)).code).toBe(-1102);
  });

  it('accepts a hand-signed Kraken call and refuses a replayed nonce', async () => {
    const send = async (nonce: string) => {
      const body = `nonce=${nonce}`;
      const r = await fetch(`${sim.baseUrl}/0/private/Balance`, {
        method: 'POST',
        headers: {
          'API-Key': sim.keys.kraken.apiKey,
          'API-Sign': signKraken(sim.keys.kraken.secret, '/0/private/Balance', nonce, body),
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body,
      });
      return (await r.json()) as { error: string[] };
    };
    expect((await send('100')).error).toEqual([]);
    expect((await send('100')).error).toEqual(['EAPI:Invalid nonce']);
    expect((await send('99')).error).toEqual(['EAPI:Invalid nonce']);
    expect((await send('101')).error).toEqual([]);
  });
});
