import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import { getJson, type OrderViewJson, post, startVenue, tradingEnv, until } from '../trading/support.js';

/**
 * A Binance key without futures permission (issue 14 item 6): the real venue answers 401 -2015 on every USDⓈ-M
 * signed endpoint while spot works. Bosun runs spot and puts only the futures features (the funding guard, so perp
 * trims and perp entries) in DEGRADED with the reason, instead of reading -2015 as a bad key and halting Binance.
 */
interface GuardJson {
  id: string;
  health: string;
  reason: string;
  state: { pollError?: string | null };
}

let sim: Simulator;
let bosun: BosunProcess;

beforeAll(async () => {
  sim = await startVenue(71);
  const keys = sim.createAccount('binance', { spotOnly: true });
  bosun = await startBosun(
    tradingEnv(sim, { BINANCE_API_KEY: keys.apiKey, BINANCE_API_SECRET: keys.secret, BAR_MS: '3600000' }),
  );
}, 30_000);

afterAll(async () => {
  await bosun?.stop();
  await sim?.close();
});

describe('a spot-only Binance API key', () => {
  it('the simulator refuses its USDⓈ-M signed calls with 401 -2015, as Binance does', async () => {
    const r = await fetch(`${sim.baseUrl}/fapi/v3/positionRisk?timestamp=${Date.now()}&signature=00`, {
      headers: { 'x-mbx-apikey': sim.createAccount('binance', { spotOnly: true }).apiKey },
    });
    expect(r.status).toBe(401);
    expect(((await r.json()) as { code: number }).code).toBe(-2015);
  });

  it('runs spot, with only the funding guard DEGRADED naming the missing futures permission', async () => {
    const funding = await until('the funding guard DEGRADED', async () => {
      const g = (await getJson<{ guards: GuardJson[] }>(`${bosun.engine}/guards`)).guards.find(
        (x) => x.id === 'guard:funding:binance',
      );
      return g?.health === 'DEGRADED' ? g : undefined;
    });
    expect(funding.reason + JSON.stringify(funding.state)).toMatch(
      /futures_unavailable: the API key has no linear permission/,
    );
    for (const id of ['conn:binance', 'account:binance', 'feed:binance']) {
      const a = await getJson<{ health: string; reason: string }>(`${bosun.engine}/actors/${id}`);
      expect(`${id} ${a.health}`, a.reason).toBe(`${id} OK`);
    }
    // The venue rolls its children up: DEGRADED, and only through the funding guard.
    const venue = await getJson<{ health: string; reason: string }>(`${bosun.engine}/actors/venue:binance`);
    expect(venue.health).toBe('DEGRADED');
    expect(venue.reason).toMatch(/^guards:binance:.*guard:funding:binance:.*futures_unavailable/);
    const r = await post(`${bosun.engine}/orders`, { symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 20 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const cid = (r.body.order as OrderViewJson).clientOrderId;
    await until(`${cid} filled`, async () => {
      const o = (await getJson<{ orders: OrderViewJson[] }>(`${bosun.engine}/orders?limit=100`)).orders.find(
        (x) => x.clientOrderId === cid,
      );
      return o?.status === 'filled' ? o : undefined;
    });
  }, 60_000);
});
