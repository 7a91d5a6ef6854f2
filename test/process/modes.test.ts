import { afterEach, describe, expect, it } from 'vitest';
import { signedDigest } from '../../src/http/external-events.js';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';

/**
 * Live mode with keys from the environment and a per-venue base URL: Bosun talks to whatever the URL names.
 * Here that is a simulator started by the test, so "live" is exercised without leaving loopback.
 */
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Reads /status until the account actor's first refresh has landed (each read is one round trip, no sleep). */
async function balancesOf(p: BosunProcess, venue: string): Promise<Record<string, { total: number }> | undefined> {
  for (let i = 0; i < 20_000; i++) {
    const status = (await (await fetch(`${p.ops}/status`)).json()) as {
      balances?: Record<string, { assets: Record<string, { total: number }> }>;
    };
    const b = status.balances?.[venue]?.assets;
    if (b) return b;
  }
  return undefined;
}

describe('modes', () => {
  it('runs live against the venue named by BINANCE_BASE_URL with keys from the environment', async () => {
    const sim: Simulator = await startSimulator({ seed: 11 });
    cleanup.push(() => sim.close());
    const p = await startBosun({
      MODE: 'live',
      VENUES: 'binance',
      OPS_API_TOKEN: 'live-mode-test-token-0123456789',
      BINANCE_API_KEY: sim.keys.binance.apiKey,
      BINANCE_API_SECRET: sim.keys.binance.secret,
      BINANCE_BASE_URL: sim.baseUrl,
      EXTERNAL_EVENTS_SECRET: 'live-events-secret',
    });
    cleanup.push(() => p.stop('SIGKILL'));
    expect(p.lines.some((l) => String(l.msg).includes('embedded exchange simulator'))).toBe(false);
    const assets = await balancesOf(p, 'binance');
    expect(assets?.USDT?.total).toBeGreaterThan(0);
    expect(sim.requests().byVenue.binance).toBeGreaterThan(0);
    const unauth = await fetch(`${p.ops}/kill`, { method: 'POST', body: '{"enabled": false}' });
    expect(unauth.status).toBe(401);

    // A signed event without X-Events-Timestamp is refused in live mode (EXTERNAL_EVENTS_REQUIRE_TIMESTAMP=auto):
    // without a timestamp a captured event could be replayed once the replay window has passed.
    const body = '{"source":"live_check","payload":{"symbol":"BTCUSDT"}}';
    const post = (headers: Record<string, string>) =>
      fetch(`${p.engine}/events/external`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const sig = (ts?: string) => `sha256=${signedDigest('live-events-secret', Buffer.from(body), ts).toString('hex')}`;
    const untimed = await post({ 'x-events-signature': sig() });
    expect(untimed.status).toBe(401);
    expect(((await untimed.json()) as { error: { message: string } }).error.message).toMatch(/X-Events-Timestamp/);
    const ts = String(Math.floor(Date.now() / 1000));
    const timed = await post({ 'x-events-signature': sig(ts), 'x-events-timestamp': ts });
    expect(timed.status).toBe(202);
  });
});
