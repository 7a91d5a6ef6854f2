/**
 * The `/__sim/` control API over HTTP: faults, scenarios, clock, accounts, state, requests and truth — and a
 * 4xx with a clear `{"error":{"code","message"}}` for every bad input.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { PricePath } from '../../src/venues/sim/price-path.js';

let sim: Simulator;

// biome-ignore lint/suspicious/noExplicitAny: the control API answers many JSON shapes; the tests read them directly
type Json = any;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const r = await fetch(`${sim.baseUrl}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        }),
  });
  return { status: r.status, json: await r.json() };
}

const price = (key: string) => Number(sim.prices()[key]);

beforeAll(async () => {
  sim = await startSimulator({ seed: 42, clock: createManualClock() });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

describe('control API: bad input', () => {
  it.each([
    ['POST', '/__sim/faults', '{not json', 'invalid_json', /not valid JSON/],
    ['POST', '/__sim/faults', { kind: 'explode' }, 'invalid_request', /kind/],
    ['POST', '/__sim/faults', { kind: 'http_5xx', status: 404 }, 'invalid_request', /status/],
    ['POST', '/__sim/faults', { kind: 'latency', ms: 10, rate: 1.5 }, 'invalid_request', /rate/],
    ['POST', '/__sim/faults', { kind: 'hang', path: 'api/v3' }, 'invalid_request', /path/],
    ['POST', '/__sim/faults', { kind: 'hang', colour: 'red' }, 'invalid_request', /colour/],
    ['POST', '/__sim/faults', { kind: 'venue_error', venue: 'binance' }, 'invalid_request', /Binance "code"/],
    ['POST', '/__sim/faults', { kind: 'venue_error', venue: 'all', code: -1021 }, 'invalid_request', /Kraken "error"/],
    ['POST', '/__sim/scenarios', { kind: 'depeg', pct: 'five' }, 'invalid_request', /pct/],
    [
      'POST',
      '/__sim/scenarios',
      { kind: 'funding_spike', symbol: 'NOPEUSDT', rate: 0.01 },
      'invalid_request',
      /no perpetual/,
    ],
    ['POST', '/__sim/scenarios', { kind: 'flash_crash', symbol: 'NOPE', pct: 10 }, 'invalid_request', /unknown symbol/],
    ['POST', '/__sim/clock/advance', { ms: -5 }, 'invalid_request', /ms/],
    ['POST', '/__sim/accounts', { venue: 'bitmex' }, 'invalid_request', /venue/],
    ['POST', '/__sim/balances', { venue: 'binance', spot: { btc: 1 } }, 'invalid_request', /upper-case/],
    ['POST', '/__sim/price', { symbol: 'NOPE', price: 1 }, 'invalid_request', /unknown market/],
    ['GET', '/__sim/truth?symbol=NOPE', undefined, 'invalid_request', /unknown symbol/],
    ['GET', '/__sim/nope', undefined, 'not_found', /no control route/],
    ['PUT', '/__sim/faults', {}, 'method_not_allowed', /not allowed/],
  ])('%s %s → 4xx', async (method, path, body, code, message) => {
    const r = await call(method, path, body);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.json.error.code).toBe(code);
    expect(r.json.error.message).toMatch(message);
  });
});

describe('control API: faults, clock, accounts, state', () => {
  it('installs, lists and removes faults; count-limited faults spend themselves', async () => {
    const f = await call('POST', '/__sim/faults', {
      kind: 'http_5xx',
      venue: 'binance',
      path: '/api/v3/time',
      count: 2,
    });
    expect(f.status).toBe(201);
    expect((await call('GET', '/__sim/faults')).json.faults.map((x: { id: string }) => x.id)).toEqual([f.json.id]);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${sim.baseUrl}/api/v3/time`)).status);
    expect(statuses).toEqual([503, 503, 200]);
    const g = await call('POST', '/__sim/faults', { kind: 'latency', ms: 5 });
    expect((await call('DELETE', `/__sim/faults/${g.json.id}`)).status).toBe(200);
    expect((await call('DELETE', `/__sim/faults/${g.json.id}`)).status).toBe(404);
  });

  it('expires duration-limited faults on the sim clock', async () => {
    await call('POST', '/__sim/faults', { kind: 'http_5xx', venue: 'kraken', durationMs: 60_000 });
    expect((await fetch(`${sim.baseUrl}/0/public/Time`)).status).toBe(503);
    const adv = await call('POST', '/__sim/clock/advance', { ms: 60_000 });
    expect(adv.json.now).toBe(sim.now());
    expect((await fetch(`${sim.baseUrl}/0/public/Time`)).status).toBe(200);
  });

  it('creates accounts with their own keys and sets balances', async () => {
    const a = await call('POST', '/__sim/accounts', { venue: 'kraken', spot: { USD: 5 } });
    expect(a.status).toBe(201);
    expect(a.json.apiKey).not.toBe(sim.keys.kraken.apiKey);
    const b = await call('POST', '/__sim/balances', { venue: 'binance', spot: { USDT: 1234 }, futures: { USDT: 99 } });
    expect(b.json.spot.USDT.free).toBe(1234);
    const s = await call('GET', '/__sim/state?venue=kraken');
    expect(s.json.accounts.map((x: { spot: { USD: { free: number } } }) => x.spot.USD.free)).toEqual([100_000, 5]);
  });

  it('counts venue requests per path and status, and resets the counters', async () => {
    await fetch(`${sim.baseUrl}/api/v3/time`);
    await fetch(`${sim.baseUrl}/0/public/Time`);
    await fetch(`${sim.baseUrl}/0/public/Time`);
    const r = (await call('GET', '/__sim/requests')).json;
    expect(r.byVenue).toEqual({ binance: 1, kraken: 2 });
    expect(r.byPath['GET /0/public/Time']).toBe(2);
    expect(r.byStatus['kraken 200']).toBe(2);
    await call('DELETE', '/__sim/requests');
    expect((await call('GET', '/__sim/requests')).json.total).toBe(0);
  });
});

describe('scenarios', () => {
  it('depegs USDT: USDT/USDC and the BTCUSDT/BTCUSDC parity move by the given percent', async () => {
    const before = price('binance:spot:BTCUSDT') / price('binance:spot:BTCUSDC');
    expect((await call('POST', '/__sim/scenarios', { kind: 'depeg', pct: 3 })).status).toBe(201);
    expect(price('binance:spot:USDTUSDC')).toBeCloseTo(0.97, 3);
    const after = price('binance:spot:BTCUSDT') / price('binance:spot:BTCUSDC');
    expect(after / before).toBeCloseTo(1 / 0.97, 3);
    expect(price('kraken:spot:USDTUSD')).toBeCloseTo(0.97, 3);
  });

  it('crashes an asset on every venue and recovers it', async () => {
    const p0 = price('binance:spot:ETHUSDT');
    const k0 = price('kraken:spot:XETHZUSD');
    sim.scenario({ kind: 'flash_crash', symbol: 'ETHUSDT', pct: 20, durationMs: 0, recoverMs: 60_000 });
    expect(price('binance:spot:ETHUSDT') / p0).toBeCloseTo(0.8, 2);
    expect(price('kraken:spot:XETHZUSD') / k0).toBeCloseTo(0.8, 2);
    sim.advance(60_000);
    expect(price('binance:spot:ETHUSDT') / p0).toBeGreaterThan(0.95);
  });

  it('takes a venue out and leaves the other one up', async () => {
    sim.scenario({ kind: 'venue_outage', venue: 'kraken', durationMs: 30_000 });
    const down = await fetch(`${sim.baseUrl}/0/public/Time`);
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${sim.baseUrl}/api/v3/time`)).status).toBe(200);
    sim.advance(30_000);
    expect((await fetch(`${sim.baseUrl}/0/public/Time`)).status).toBe(200);
  });
});

describe('determinism', () => {
  it('replays the same prices for the same seed and steps, and different ones for another seed', async () => {
    const run = async (seed: number) => {
      const s = await startSimulator({ seed, clock: createManualClock() });
      try {
        const seen: Record<string, string>[] = [];
        for (const ms of [1000, 59_000, 3_600_000]) {
          s.advance(ms);
          seen.push(s.prices('binance'));
        }
        return seen;
      } finally {
        await s.close();
      }
    };
    const a = await run(99);
    expect(await run(99)).toEqual(a);
    expect(await run(100)).not.toEqual(a);
  });
});

describe('truth', () => {
  it('reports the regime runs the path generator produced, for any naming of the symbol', async () => {
    sim.advance(6 * 3_600_000);
    const t = (await call('GET', '/__sim/truth?symbol=BTCUSDT')).json;
    expect(t.asset).toBe('BTC');
    expect(t.regimes.map((r: { name: string }) => r.name)).toEqual(['bull', 'volatile', 'bear']);
    const path = new PricePath({ code: 'BTC', startUsd: 60_000, stable: false }, 42, t.stepMs);
    const seen: string[] = [];
    path.advanceTo(t.currentStep, () => seen.push(path.regime));
    for (const run of t.runs) {
      expect(seen[Math.max(0, run.fromStep - 1)] === run.regime || run.fromStep === 0).toBe(true);
      expect(path.regimeAt(run.toStep)).toBe(run.regime);
    }
    expect(t.runs.map((r: { regime: string; fromStep: number }) => [r.regime, r.fromStep])).toEqual(
      path.regimeRuns().map((r) => [r.regime, r.fromStep]),
    );
    expect((await call('GET', '/__sim/truth?symbol=XBTUSD')).json.runs).toEqual(t.runs);
  });
});
