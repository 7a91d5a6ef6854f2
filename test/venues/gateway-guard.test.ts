/**
 * Paper mode never reaches a non-loopback host (the guard refuses before any socket opens), and a bad key or
 * signature is classified fatal/auth after exactly one request per call: the gateway never retries on its own.
 */
import diagnostics from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVenueError } from '../../src/venues/index.js';
import { isLoopbackUrl } from '../../src/venues/loopback-guard.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { listApiUrls } from '../../src/venues/venue-urls.js';
import {
  BTC,
  CREATE_PATH,
  cid,
  paperGateway,
  requestStats,
  sent,
  startTestSim,
  type VenueName,
} from './gateway-harness.js';

let sim: Simulator;

beforeAll(async () => {
  sim = await startTestSim(31);
});

afterAll(async () => {
  await sim.close();
});

describe('paper-mode loopback guard', () => {
  it.each(['binance', 'kraken'] as const)('leaves no non-loopback URL in any %s ccxt instance', (venue) => {
    const gw = paperGateway(sim, venue);
    for (const m of gw.members) expect(listApiUrls(m.exchange).filter((u) => !isLoopbackUrl(u))).toEqual([]);
  });

  it('refuses a URL that escaped the rewrite before any socket opens, and the simulator sees nothing', async () => {
    const gw = paperGateway(sim, 'binance');
    await gw.loadMarkets(); // warm: the keep-alive connection to the simulator exists already
    const spot = gw.members[0]!.exchange;
    (spot.urls.api as Record<string, string>).public = 'https://api.binance.com/api/v3';
    const before = await requestStats(sim);
    // Probes for any connection attempt (Node's net and undici's connector) around the refused call only.
    const opened: string[] = [];
    const onNet = () => opened.push('net');
    const onUndici = (m: unknown) =>
      opened.push(`undici:${(m as { connectParams?: { host?: string } }).connectParams?.host}`);
    diagnostics.subscribe('net.client.socket', onNet);
    diagnostics.subscribe('undici:client:beforeConnect', onUndici);
    let err: unknown;
    try {
      err = await gw.fetchTickers(['BTCUSDT']).catch((e: unknown) => e);
    } finally {
      diagnostics.unsubscribe('net.client.socket', onNet);
      diagnostics.unsubscribe('undici:client:beforeConnect', onUndici);
    }
    expect(isVenueError(err) && err.info).toMatchObject({ kind: 'fatal', code: 'LoopbackViolation', tag: 'blocked' });
    expect(gw.refusedRequests()).toBe(1);
    expect(opened).toEqual([]);
    expect((await requestStats(sim)).total).toBe(before.total);
    await gw.close();

    // Control: the same probes do see a fresh gateway connect to the simulator.
    const fresh = paperGateway(sim, 'kraken');
    diagnostics.subscribe('undici:client:beforeConnect', onUndici);
    try {
      await fresh.loadMarkets();
    } finally {
      diagnostics.unsubscribe('undici:client:beforeConnect', onUndici);
      await fresh.close();
    }
    expect(opened.length).toBeGreaterThan(0);
  });

  it('refuses a create the same way: rejected, fatal, nothing sent', async () => {
    const gw = paperGateway(sim, 'kraken');
    await gw.loadMarkets();
    (gw.members[0]!.exchange.urls.api as Record<string, string>).private = 'https://api.kraken.com';
    const before = await requestStats(sim);
    const r = await gw.createOrder({
      clientOrderId: cid('g'),
      symbol: 'BTCUSD',
      side: 'buy',
      type: 'market',
      amount: 0.001,
      market: 'spot',
    });
    expect(r).toMatchObject({ status: 'rejected', error: { kind: 'fatal', tag: 'blocked' } });
    expect((await requestStats(sim)).total).toBe(before.total);
    await gw.close();
  });
});

const BALANCE_PATH: Record<VenueName, string> = { binance: 'GET /api/v3/account', kraken: 'POST /0/private/BalanceEx' };

describe.each(['binance', 'kraken'] as const)('%s: bad credentials', (venue) => {
  const wrongSecret = venue === 'kraken' ? Buffer.alloc(64, 7).toString('base64') : 'f'.repeat(64);

  it.each([
    ['a wrong secret', () => ({ apiKey: sim.keys[venue].apiKey, secret: wrongSecret })],
    [
      'an unknown key',
      () => ({ apiKey: `${venue === 'kraken' ? 'A' : 'a'}${'b'.repeat(40)}`, secret: sim.keys[venue].secret }),
    ],
  ])('classifies %s as fatal auth after exactly one request per call', async (_what, keys) => {
    const gw = paperGateway(sim, venue, keys());
    await gw.loadMarkets();
    const before = await requestStats(sim);
    for (let i = 0; i < 3; i++) {
      const err = await gw.fetchBalances().catch((e: unknown) => e);
      expect(isVenueError(err) && err.info).toMatchObject({ kind: 'fatal', tag: 'auth' });
    }
    const r = await gw.createOrder({
      clientOrderId: cid('ba'),
      symbol: BTC[venue],
      side: 'buy',
      type: 'market',
      amount: 0.001,
      market: 'spot',
    });
    expect(r).toMatchObject({ status: 'rejected', error: { kind: 'fatal', tag: 'auth' } });
    const after = await requestStats(sim);
    expect(sent(after, before, BALANCE_PATH[venue])).toBe(3);
    expect(sent(after, before, CREATE_PATH[venue])).toBe(1);
    expect(after.total - before.total).toBe(4);
    await gw.close();
  });
});
