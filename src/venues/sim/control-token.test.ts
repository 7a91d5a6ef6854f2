import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock, type Simulator, startSimulator } from './index.js';

describe('simulator control routes with a token', () => {
  let sim: Simulator;
  const TOKEN = 'sim-control-token-0123456789';
  const prices = async () =>
    (await fetch(`${sim.baseUrl}/__sim/prices?venue=binance`, { headers: { 'x-sim-token': TOKEN } })).json();
  const setPrice = (headers: Record<string, string>) =>
    fetch(`${sim.baseUrl}/__sim/price`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ symbol: 'BTCUSDT', price: 1 }),
    });

  beforeAll(async () => {
    // A frozen market clock: the price path moves with time, and "changes nothing" compares prices.
    sim = await startSimulator({ seed: 5, controlToken: TOKEN, clock: createManualClock(Date.now()) });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('refuses a price change without the token, or with a wrong one, and changes nothing', async () => {
    const before = await prices();
    for (const headers of [{}, { 'x-sim-token': 'wrong' }] as Record<string, string>[]) {
      const r = await setPrice(headers);
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({
        error: { code: 'unauthorized', message: expect.stringMatching(/x-sim-token/) },
      });
    }
    expect(await prices()).toEqual(before);
    expect((await fetch(`${sim.baseUrl}/__sim/balances`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('accepts it with the token, and keeps health open', async () => {
    expect((await setPrice({ 'x-sim-token': TOKEN })).status).toBe(200);
    expect((await fetch(`${sim.baseUrl}/__sim/health`)).status).toBe(200);
  });
});
